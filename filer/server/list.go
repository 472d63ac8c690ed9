package server

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"weedfs.dev/weed/filer"
)

// listing is SeaweedFS's JSON directory listing (SEAWEEDFS-WIRE.md §5.3).
type listing struct {
	Version               string
	Path                  string
	Entries               []*filer.Entry
	Limit                 int
	LastFileName          string
	ShouldDisplayLoadMore bool
	EmptyFolder           bool
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, dir *filer.Entry) {
	q := r.URL.Query()
	limit := s.cfg.DirListLimit
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			s.fail(w, r, fmt.Errorf("%w: limit %q is not a positive number", errBadRequest, l))
			return
		}
		limit = min(n, s.cfg.DirListLimit)
	}
	last := q.Get("lastFileName")
	pattern, exclude := q.Get("namePattern"), q.Get("namePatternExclude")
	l := listing{Version: s.cfg.Version, Path: dir.FullPath, Limit: limit, Entries: []*filer.Entry{}}
	// A name pattern filters after the store's page, so pages are read
	// until limit entries pass or the folder ends.
	start := last
	for {
		want := limit - len(l.Entries)
		n := 0
		end, err := s.f.List(r.Context(), dir.FullPath, filer.ListOptions{StartName: start, Limit: want}, func(e *filer.Entry) bool {
			n++
			if matchName(pattern, exclude, e.Name()) {
				l.Entries = append(l.Entries, e)
			}
			return true
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if end != "" {
			l.LastFileName = end
		}
		if n < want {
			break // the folder ended
		}
		if len(l.Entries) >= limit {
			l.ShouldDisplayLoadMore = true
			break
		}
		start = end
	}
	l.EmptyFolder = len(l.Entries) == 0 && last == ""
	if !wantsJSON(r) {
		s.writeHTML(w, r, &l)
		return
	}
	var buf []byte
	if p, ok := s.listBufs.Get().(*[]byte); ok {
		buf = (*p)[:0]
	}
	b, err := l.appendJSON(buf)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
	if cap(b) <= maxListBuf {
		s.listBufs.Put(&b)
	}
}

// maxListBuf: a listing buffer larger than this (a page of entries with
// many chunks) is left to the garbage collector rather than kept.
const maxListBuf = 4 << 20

// appendJSON writes the listing as encoding/json would, but appends each
// entry's JSON in place (Entry.AppendJSON): encoding/json re-validates and
// compacts every Marshaler's output, which doubled the cost of a page.
func (l *listing) appendJSON(b []byte) ([]byte, error) {
	str := func(v string) {
		q, _ := json.Marshal(v)
		b = append(b, q...)
	}
	b = append(b, `{"Version":`...)
	str(l.Version)
	b = append(b, `,"Path":`...)
	str(l.Path)
	b = append(b, `,"Entries":[`...)
	for i, e := range l.Entries {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = e.AppendJSON(b); err != nil {
			return nil, fmt.Errorf("encode entry %s: %w", e.FullPath, err)
		}
	}
	b = append(b, `],"Limit":`...)
	b = strconv.AppendInt(b, int64(l.Limit), 10)
	b = append(b, `,"LastFileName":`...)
	str(l.LastFileName)
	b = append(b, `,"ShouldDisplayLoadMore":`...)
	b = strconv.AppendBool(b, l.ShouldDisplayLoadMore)
	b = append(b, `,"EmptyFolder":`...)
	b = strconv.AppendBool(b, l.EmptyFolder)
	return append(b, "}\n"...), nil
}

// wantsJSON: SeaweedFS answers JSON to Accept: application/json.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") || r.URL.Query().Has("pretty")
}

// matchName applies namePattern / namePatternExclude (shell globs with *
// and ?, as SeaweedFS's wildcard matcher).
func matchName(pattern, exclude, name string) bool {
	if pattern != "" && !glob(pattern, name) {
		return false
	}
	return exclude == "" || !glob(exclude, name)
}

// glob matches * (any run) and ? (one byte), iteratively with one
// backtrack point, so no pattern costs more than len(p)*len(s).
func glob(p, s string) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

var listTemplate = template.Must(template.New("list").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Path}}</title></head>
<body><h1>{{.Path}}</h1>
<table>
<tr><th>Name</th><th>Size</th><th>Modified</th></tr>
{{range .Entries}}<tr><td><a href="{{.FullPath}}{{if .IsDirectory}}/{{end}}">{{.Name}}{{if .IsDirectory}}/{{end}}</a></td><td>{{if not .IsDirectory}}{{.FileSize}}{{end}}</td><td>{{.Mtime.UTC.Format "2006-01-02 15:04:05"}}</td></tr>
{{end}}</table>
{{if .ShouldDisplayLoadMore}}<p><a href="?lastFileName={{.LastFileName}}&limit={{.Limit}}">more</a></p>{{end}}
</body></html>
`))

func (s *Server) writeHTML(w http.ResponseWriter, r *http.Request, l *listing) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodHead {
		return
	}
	if err := listTemplate.Execute(w, l); err != nil {
		s.log.Warn("html listing", "path", l.Path, "err", err)
	}
}

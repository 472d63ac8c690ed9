package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"weedfs.dev/weed/filer"
)

// listedEntry is what a lister needs of one listed entry.
type listedEntry struct {
	Name     string
	Dir      bool
	FileSize uint64
}

// listPage is what a lister needs of one listing page.
type listPage struct {
	Entries               []listedEntry
	LastFileName          string
	ShouldDisplayLoadMore bool
}

var errListJSON = errors.New("listing: bad JSON")

// decodeListPage reads a JSON listing page keeping only names, sizes, the
// folder bit and the paging fields, skipping every other value by
// scanning bytes: it is the client side of BenchmarkList100k, where
// encoding/json (which validates, then decodes through reflection) took
// as long as the server's whole answer. TestDecodeListPage holds it to
// encoding/json.
func decodeListPage(b []byte) (listPage, error) {
	var p listPage
	d := &listDecoder{b: b}
	err := d.object(func(key []byte) error {
		switch string(key) {
		case "Entries":
			return d.array(func() error {
				var e listedEntry
				err := d.object(func(key []byte) error {
					switch string(key) {
					case "FullPath":
						s, err := d.str()
						if i := strings.LastIndexByte(s, '/'); i >= 0 {
							s = s[i+1:]
						}
						e.Name = s
						return err
					case "Mode":
						n, err := d.uint()
						e.Dir = n&(1<<31) != 0
						return err
					case "FileSize":
						n, err := d.uint()
						e.FileSize = n
						return err
					}
					return d.skip()
				})
				p.Entries = append(p.Entries, e)
				return err
			})
		case "LastFileName":
			s, err := d.str()
			p.LastFileName = s
			return err
		case "ShouldDisplayLoadMore":
			v, err := d.literal()
			p.ShouldDisplayLoadMore = string(v) == "true"
			return err
		}
		return d.skip()
	})
	return p, err
}

type listDecoder struct {
	b []byte
	i int
}

func (d *listDecoder) ws() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\n' || d.b[d.i] == '\t' || d.b[d.i] == '\r') {
		d.i++
	}
}

func (d *listDecoder) want(c byte) error {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != c {
		return fmt.Errorf("%w: want %q at %d", errListJSON, c, d.i)
	}
	d.i++
	return nil
}

// more reports whether a list goes on after a member (eating the comma)
// or ends with close (eating it).
func (d *listDecoder) more(close byte) (bool, error) {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == ',' {
		d.i++
		return true, nil
	}
	return false, d.want(close)
}

func (d *listDecoder) object(member func(key []byte) error) error {
	if err := d.want('{'); err != nil {
		return err
	}
	if d.ws(); d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		key, _, err := d.rawStr()
		if err != nil {
			return err
		}
		if err := d.want(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		if more, err := d.more('}'); !more {
			return err
		}
	}
}

func (d *listDecoder) array(elem func() error) error {
	d.ws()
	if d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return nil
	}
	if err := d.want('['); err != nil {
		return err
	}
	if d.ws(); d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if more, err := d.more(']'); !more {
			return err
		}
	}
}

// str reads a string; one holding escapes goes through encoding/json.
func (d *listDecoder) str() (string, error) {
	raw, escaped, err := d.rawStr()
	if err != nil || !escaped {
		return string(raw), err
	}
	var s string
	if err := json.Unmarshal(d.b[d.i-len(raw)-2:d.i], &s); err != nil {
		return "", fmt.Errorf("%w: %v", errListJSON, err)
	}
	return s, nil
}

// rawStr passes over a string, returning its bytes between the quotes.
func (d *listDecoder) rawStr() (raw []byte, escaped bool, err error) {
	if err := d.want('"'); err != nil {
		return nil, false, err
	}
	start := d.i
	for ; d.i < len(d.b); d.i++ {
		switch d.b[d.i] {
		case '\\':
			escaped = true
			d.i++
		case '"':
			d.i++
			return d.b[start : d.i-1], escaped, nil
		}
	}
	return nil, false, fmt.Errorf("%w: unterminated string", errListJSON)
}

// literal reads a number, true, false or null as its text.
func (d *listDecoder) literal() ([]byte, error) {
	d.ws()
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			break
		}
		d.i++
	}
	if d.i == start {
		return nil, fmt.Errorf("%w: empty value at %d", errListJSON, start)
	}
	return d.b[start:d.i], nil
}

func (d *listDecoder) uint() (uint64, error) {
	s, err := d.literal()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errListJSON, err)
	}
	return n, nil
}

// skip passes over one value of any kind.
func (d *listDecoder) skip() error {
	d.ws()
	if d.i >= len(d.b) {
		return fmt.Errorf("%w: value missing", errListJSON)
	}
	switch d.b[d.i] {
	case '"':
		_, _, err := d.rawStr()
		return err
	case '{':
		return d.object(func([]byte) error { return d.skip() })
	case '[':
		return d.array(d.skip)
	}
	_, err := d.literal()
	return err
}

// The benchmark's page decoder reads what encoding/json reads, on a real
// listing with folders, escaped names and paging.
func TestDecodeListPage(t *testing.T) {
	e := startFiler(t, nil, embeddedStore(t), filer.Options{ID: "t", SaveInsideLimit: 1 << 10})
	names := []string{"plain", "quote\"d", "back\\slash", "tab\tname", "ünï", "<html>&", "sp ace"}
	for i, n := range names {
		e.mustPut("/l/"+url.PathEscape(n), bytes.Repeat([]byte{'x'}, i*100))
	}
	e.mustPut("/l/sub/child", []byte("c"))
	for _, q := range []string{"/l/?limit=3", "/l/?limit=3&lastFileName=" + url.QueryEscape("quote\"d"), "/l/", "/l/sub/", "/empty-none/"} {
		resp, body := e.do(http.MethodGet, q, nil, "Accept", "application/json")
		if resp.StatusCode != http.StatusOK {
			if q == "/empty-none/" {
				continue
			}
			t.Fatalf("list %s: %d %s", q, resp.StatusCode, body)
		}
		got, err := decodeListPage(body)
		if err != nil {
			t.Fatalf("%s: %v\n%s", q, err, body)
		}
		var full struct {
			Entries               []*filer.Entry
			LastFileName          string
			ShouldDisplayLoadMore bool
		}
		if err := json.Unmarshal(body, &full); err != nil {
			t.Fatal(err)
		}
		want := listPage{LastFileName: full.LastFileName, ShouldDisplayLoadMore: full.ShouldDisplayLoadMore}
		for _, en := range full.Entries {
			want.Entries = append(want.Entries, listedEntry{Name: en.Name(), Dir: en.IsDirectory(), FileSize: en.FileSize})
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\ngot  %+v\nwant %+v", q, got, want)
		}
		if q == "/l/" && len(got.Entries) != len(names)+1 {
			t.Fatalf("listed %d entries, want %d", len(got.Entries), len(names)+1)
		}
	}
	for _, bad := range []string{``, `{`, `{"Entries":[{"FullPath":"/a"`, `{"Entries":[{"Mode":x}]}`, `{"LastFileName":"\x"}`, `[]`} {
		if _, err := decodeListPage([]byte(bad)); err == nil {
			t.Errorf("decodeListPage(%q) did not fail", bad)
		}
	}
}

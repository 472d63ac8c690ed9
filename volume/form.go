package volume

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"
)

// maxFormHeaderLines is mime/multipart's limit on the header lines of a
// part; a part with more goes to mime/multipart, which refuses it.
const maxFormHeaderLines = 10000

// singlePart finds the one part of a multipart body held whole in memory,
// in the form every client sends (a single file):
//
//	--<boundary>\r\n
//	<header lines>\r\n
//	\r\n
//	<data>
//	\r\n--<boundary>--[spaces or tabs][\r\n<epilogue>]
//
// data is a slice of body, not a copy. ok is false for anything else (a
// preamble, more parts, bare \n line ends, quoted-printable), which the
// caller hands to mime/multipart: the answer is then the same as
// mime/multipart gives (FuzzSinglePart checks it), only without reading
// the body in 4 KiB pieces and allocating a reader per request.
func singlePart(body []byte, boundary string) (hdr textproto.MIMEHeader, data []byte, ok bool) {
	if boundary == "" {
		return nil, nil, false
	}
	dash := "--" + boundary
	rest, found := bytes.CutPrefix(body, []byte(dash+"\r\n"))
	if !found {
		return nil, nil, false
	}
	// The header block ends at the first empty line. textproto also ends
	// lines at a bare \n: it must then stop exactly where this search does.
	var headEnd int
	if bytes.HasPrefix(rest, []byte("\r\n")) {
		headEnd = 2
	} else if i := bytes.Index(rest, []byte("\r\n\r\n")); i >= 0 {
		headEnd = i + 4
	} else {
		return nil, nil, false
	}
	head := rest[:headEnd]
	if bytes.Count(head, []byte("\n")) > maxFormHeaderLines {
		return nil, nil, false
	}
	br := bufio.NewReaderSize(bytes.NewReader(head), max(len(head), 16))
	hdr, err := textproto.NewReader(br).ReadMIMEHeader()
	if err != nil || br.Buffered() > 0 {
		return nil, nil, false
	}
	if strings.EqualFold(hdr.Get("Content-Transfer-Encoding"), "quoted-printable") {
		return nil, nil, false // mime/multipart decodes it
	}
	rest = rest[headEnd:]
	if bytes.HasPrefix(rest, []byte(dash)) {
		return nil, nil, false // a delimiter with no CRLF before it: mime/multipart's rules
	}
	// The data ends at the first CRLF-dash-boundary that mime/multipart
	// takes for a delimiter: one followed by "--", a space, a tab, CR or LF,
	// or the end of the body.
	delim := []byte("\r\n" + dash)
	for off := 0; ; {
		i := bytes.Index(rest[off:], delim)
		if i < 0 {
			return nil, nil, false
		}
		end := off + i
		after := rest[end+len(delim):]
		if len(after) > 0 && after[0] != '-' && after[0] != ' ' && after[0] != '\t' && after[0] != '\r' && after[0] != '\n' {
			off = end + 1
			continue
		}
		if len(after) > 0 && after[0] == '-' && len(after) > 1 && after[1] != '-' {
			off = end + 1
			continue
		}
		if !finalBoundaryLine(after) {
			return nil, nil, false
		}
		return hdr, rest[:end], true
	}
}

// finalBoundaryLine says whether what follows the last delimiter closes
// the body: "--", then spaces or tabs, then the end or CRLF (the rest is
// an epilogue, ignored).
func finalBoundaryLine(after []byte) bool {
	rest, ok := bytes.CutPrefix(after, []byte("--"))
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t")
	return len(rest) == 0 || bytes.HasPrefix(rest, []byte("\r\n"))
}

package volume

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"weedfs.dev/weed/storage/needle"
)

// pairPrefix marks request headers stored with a needle as "pairs"; GET
// returns them without the prefix (Seaweed-Owner: alice -> Owner: alice).
const pairPrefix = "Seaweed-"

// maxPairsLen is the most pair JSON a needle can hold (a uint16 length).
const maxPairsLen = 64<<10 - 1

// errTooLarge is an upload over the server's -fileSizeLimitMB.
var errTooLarge = errors.New("file over the limited size")

// upload is a parsed write request: everything the needle will hold.
type upload struct {
	data         []byte // as it will be stored (gzip-compressed when gzipped)
	originalSize int    // bytes the client sent, uncompressed
	name         string
	mime         string // stored only when not deducible from the name
	gzipped      bool
	pairs        []byte // JSON of Seaweed-* headers, nil when none
	lastModified uint64 // unix seconds
	ttl          needle.TTL
	manifest     bool // ?cm=true: the data is a chunk manifest
	contentMD5   string
	replicate    bool // ?type=replicate: a copy from the primary
	fsync        bool
	// crc is the CRC-32C of data, computed as a raw body arrived; nil
	// when not known (the store computes it then).
	crc *uint32
}

// parseUpload reads a POST or PUT body the way SeaweedFS does: multipart
// for a POST whose Content-Type is empty or form-data, the raw body
// otherwise. limit is the most bytes a body may carry (0: no limit).
func parseUpload(r *http.Request, limit int64, now time.Time) (*upload, error) {
	return parseUploadInto(r, limit, now, nil, -1)
}

// parseUploadInto is parseUpload reading the body into buf (reset first;
// nil: a buffer of its own), so a server can reuse buffers between
// requests: the upload's data may then live in buf until the request is
// over. diskAt, when not negative, is where the data will likely start in
// the volume's .dat file (storage.Volume.NextDataOffset): a large raw body
// is then placed in buf at the same offset modulo copyAlign, so the
// kernel's copy into the page cache is mutually aligned; buf needs
// copyAlign bytes of room more than the body for that.
func parseUploadInto(r *http.Request, limit int64, now time.Time, buf *bytes.Buffer, diskAt int64) (*upload, error) {
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	q := r.URL.Query()
	u := &upload{
		manifest:  q.Get("cm") == "true",
		replicate: q.Get("type") == "replicate",
		fsync:     q.Get("fsync") == "true",
	}
	if u.replicate {
		limit = 0 // the primary already checked the size
	}
	var err error
	if u.ttl, err = needle.ParseTTL(q.Get("ttl")); err != nil {
		return nil, err
	}
	u.lastModified = uint64(now.Unix())
	if ts := q.Get("ts"); ts != "" {
		if u.lastModified, err = strconv.ParseUint(ts, 10, 64); err != nil {
			return nil, fmt.Errorf("bad ts %q: %w", ts, err)
		}
	}
	ct := r.Header.Get("Content-Type")
	var hdr partHeader
	if r.Method == http.MethodPost && (ct == "" || strings.Contains(ct, "form-data")) {
		hdr, err = readMultipart(r, limit, u, buf)
	} else {
		hdr, err = readRaw(r, limit, u, buf, diskAt)
	}
	if err != nil {
		return nil, err
	}
	u.originalSize = len(u.data)
	if hdr.gzip {
		u.gzipped = true
		if u.originalSize, err = gunzippedLen(u.data); err != nil {
			return nil, fmt.Errorf("body says Content-Encoding: gzip but is not: %w", err)
		}
	}
	if err := checkMD5(hdr.md5, u); err != nil {
		return nil, err
	}
	u.contentMD5 = hdr.md5
	u.mime = storedMime(u.name, hdr.contentType)
	if u.pairs, err = pairsFromHeader(r.Header); err != nil {
		return nil, err
	}
	if len(u.name) > needle.MaxNameLen {
		u.name = u.name[:needle.MaxNameLen]
	}
	if len(u.mime) > needle.MaxNameLen {
		return nil, fmt.Errorf("mime type longer than %d bytes", needle.MaxNameLen)
	}
	if !u.gzipped && !u.replicate && !u.manifest {
		u.maybeCompress()
	}
	return u, nil
}

// partHeader is what one body part says about its bytes.
type partHeader struct {
	contentType string
	gzip        bool
	md5         string
}

// maxInMemoryForm is the largest multipart body read whole before it is
// parsed when the server has no size limit (replica copies).
const maxInMemoryForm = 256 << 20

// formOverhead is room for a part's headers and boundaries over the size
// limit when a body is read whole.
const formOverhead = 64 << 10

func readMultipart(r *http.Request, limit int64, u *upload, buf *bytes.Buffer) (partHeader, error) {
	boundary, err := formBoundary(r.Header.Get("Content-Type"))
	if err != nil {
		return partHeader{}, fmt.Errorf("bad multipart body: %w", err)
	}
	cl := r.ContentLength
	if cl > 0 && ((limit > 0 && cl <= limit+formOverhead) || (limit <= 0 && cl <= maxInMemoryForm)) {
		// A body of known length is read whole, in one go, and the part
		// found in place; mime/multipart is left the unusual forms.
		// The part's data is checksummed as it arrives, from the end of
		// its headers to a closing delimiter's length short of the end.
		crc := &bodyCRC{find: partDataStart(boundary), lag: len(boundary) + len("\r\n----\r\n"), start: -1}
		body, err := readExactly(r.Body, cl, 0, buf, crc)
		if err != nil {
			return partHeader{}, fmt.Errorf("bad multipart body: %w", err)
		}
		if hdr, data, ok := singlePart(body, boundary); ok {
			if limit > 0 && int64(len(data)) > limit {
				return partHeader{}, fmt.Errorf("%w: file over the limited %d bytes", errTooLarge, limit)
			}
			u.data, u.name = data, formFileName(hdr)
			if sum, ok := crc.of(body, data); ok {
				u.crc = &sum
			}
			return partHeader{
				contentType: hdr.Get("Content-Type"),
				gzip:        hdr.Get("Content-Encoding") == "gzip",
				md5:         hdr.Get("Content-MD5"),
			}, nil
		}
		// The parts are read into buffers of their own: buf holds the body.
		return readParts(multipart.NewReader(bytes.NewReader(body), boundary), limit, u, new(bytes.Buffer))
	}
	if cl > 0 && (limit <= 0 || cl <= limit+1) {
		// The part is smaller than the body: reading into a buffer of that
		// size grows it at most once.
		buf.Grow(int(min(cl, 1<<20)) + bytes.MinRead)
	}
	return readParts(multipart.NewReader(r.Body, boundary), limit, u, buf)
}

// formBoundary is the boundary of a multipart Content-Type, as
// http.Request.MultipartReader takes it.
func formBoundary(ctype string) (string, error) {
	if ctype == "" {
		return "", http.ErrNotMultipart
	}
	d, params, err := mime.ParseMediaType(ctype)
	if err != nil || (d != "multipart/form-data" && d != "multipart/mixed") {
		return "", http.ErrNotMultipart
	}
	boundary, ok := params["boundary"]
	if !ok {
		return "", http.ErrMissingBoundary
	}
	return boundary, nil
}

// formFileName is multipart.Part.FileName for a part header.
func formFileName(h textproto.MIMEHeader) string {
	_, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
	if err != nil || params["filename"] == "" {
		return ""
	}
	return filepath.Base(params["filename"])
}

// readParts takes the first part with a file name, else the first part,
// reading parts into buf.
func readParts(mr *multipart.Reader, limit int64, u *upload, buf *bytes.Buffer) (partHeader, error) {
	var first *multipart.Part
	var firstData []byte
	var firstName string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return partHeader{}, fmt.Errorf("bad multipart body: %w", err)
		}
		if first != nil {
			// buf is about to hold this part: keep the first one's bytes.
			firstData = bytes.Clone(firstData)
		}
		buf.Reset()
		data, err := readLimited(p, limit, buf)
		if err != nil {
			return partHeader{}, err
		}
		name := p.FileName() // parses the header on every call
		if first == nil {
			first, firstData, firstName = p, data, name
			if name != "" {
				break
			}
			continue
		}
		if name != "" { // the first part had no filename: take this one
			first, firstData, firstName = p, data, name
			break
		}
	}
	if first == nil {
		return partHeader{}, errors.New("bad multipart body: no parts")
	}
	u.data = firstData
	u.name = firstName
	return partHeader{
		contentType: first.Header.Get("Content-Type"),
		gzip:        first.Header.Get("Content-Encoding") == "gzip",
		md5:         first.Header.Get("Content-MD5"),
	}, nil
}

func readRaw(r *http.Request, limit int64, u *upload, buf *bytes.Buffer, diskAt int64) (partHeader, error) {
	var data []byte
	var err error
	if cl := r.ContentLength; cl > 0 && (limit <= 0 || cl <= limit) && cl <= maxInMemoryForm {
		crc := &bodyCRC{}
		shift := 0
		if diskAt >= 0 && cl >= minAlignedBody {
			shift = alignedStart(buf, int(cl), diskAt)
		}
		data, err = readExactly(r.Body, cl, shift, buf, crc)
		if sum, ok := crc.of(data, data); ok {
			u.crc = &sum
		}
	} else {
		data, err = readLimited(r.Body, limit, buf)
	}
	if err != nil {
		return partHeader{}, err
	}
	u.data = data
	if cd := r.Header.Get("Content-Disposition"); cd != "" {
		_, params, err := mime.ParseMediaType(cd)
		if err != nil { // SeaweedFS clients send a bare `filename="x"` too
			_, params, err = mime.ParseMediaType("attachment; " + cd)
		}
		if err == nil {
			u.name = params["filename"]
			if u.name == "" {
				u.name = params["name"]
			}
		}
	}
	if u.name == "" {
		u.name = path.Base(r.URL.Path)
	}
	return partHeader{
		contentType: r.Header.Get("Content-Type"),
		gzip:        r.Header.Get("Content-Encoding") == "gzip",
		md5:         r.Header.Get("Content-MD5"),
	}, nil
}

// readExactly reads a body of n bytes (its Content-Length) into room in
// buf, in place: no growing and copying as it arrives. net/http ends the
// body there, and fails a shorter one. With crc set it also feeds crc each
// piece as it lands. The data starts shift bytes into buf's room.
func readExactly(r io.Reader, n int64, shift int, buf *bytes.Buffer, crc *bodyCRC) ([]byte, error) {
	data := alloc(buf, shift+int(n))[shift:]
	for got := 0; got < len(data); {
		k, err := r.Read(data[got:])
		got += k
		if crc != nil && k > 0 {
			crc.update(data, got)
		}
		if err == io.EOF && got < len(data) {
			err = io.ErrUnexpectedEOF
		}
		if err != nil && (got < len(data) || err != io.EOF) {
			return nil, fmt.Errorf("read body: %w", err)
		}
	}
	return data, nil
}

// bodyCRC computes the CRC-32C (the needle checksum) of the data in a body
// while the body is read, each piece while it is still in the CPU's cache:
// checksumming 4 MiB once they are all in would read them back from
// memory. The data starts where find says (nil: at 0) and its end is known
// only at the end, so the sum stays lag bytes behind what has arrived; of
// finishes it once the data is known.
type bodyCRC struct {
	// find returns where the data starts given the body's first bytes, or
	// ok false while they are too few; never means it will not be found.
	find  func(prefix []byte) (start int, ok, never bool)
	lag   int
	start int // -1 until found; -2 never
	upTo  int // the sum covers body[start:upTo]
	sum   uint32
}

// update takes the first got bytes of body, which grew since the last call.
func (c *bodyCRC) update(body []byte, got int) {
	if c.start < 0 {
		if c.start == -2 {
			return
		}
		s, ok, never := c.find(body[:got])
		switch {
		case never:
			c.start = -2
			return
		case !ok:
			return
		}
		c.start, c.upTo = s, s
	}
	if end := got - c.lag; end > c.upTo {
		c.sum = needle.UpdateCRC(c.sum, body[c.upTo:end])
		c.upTo = end
	}
}

// of returns the CRC of data, a slice of body, when the sum so far covers
// a prefix of it (ok false otherwise: the store computes it then).
func (c *bodyCRC) of(body, data []byte) (uint32, bool) {
	at := cap(body) - cap(data) // where data starts in body
	if c.start != at || c.upTo > at+len(data) || at < 0 || at+len(data) > len(body) {
		return 0, false
	}
	return needle.UpdateCRC(c.sum, body[c.upTo:at+len(data)]), true
}

// maxPartHead is how far into a body partDataStart looks for the end of
// the part's headers.
const maxPartHead = 64 << 10

// partDataStart finds where the first part's data starts in a multipart
// body, as singlePart parses it: after "--boundary\r\n" and the header
// block, which ends at the first empty line.
func partDataStart(boundary string) func(prefix []byte) (int, bool, bool) {
	open := []byte("--" + boundary + "\r\n")
	return func(prefix []byte) (int, bool, bool) {
		if len(prefix) < len(open)+2 {
			return 0, false, false
		}
		rest, found := bytes.CutPrefix(prefix, open)
		if !found {
			return 0, false, true
		}
		if bytes.HasPrefix(rest, []byte("\r\n")) {
			return len(open) + 2, true, false
		}
		if i := bytes.Index(rest, []byte("\r\n\r\n")); i >= 0 {
			return len(open) + i + 4, true, false
		}
		return 0, false, len(prefix) > maxPartHead
	}
}

// readLimited reads all of r into buf, failing with errTooLarge past limit
// bytes (0: no limit).
func readLimited(r io.Reader, limit int64, buf *bytes.Buffer) ([]byte, error) {
	if limit <= 0 {
		if _, err := buf.ReadFrom(r); err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		return buf.Bytes(), nil
	}
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if n > limit {
		return nil, fmt.Errorf("%w: file over the limited %d bytes", errTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// checkMD5 compares a Content-MD5 header (base64, as HTTP says) with the
// uncompressed bytes.
func checkMD5(want string, u *upload) error {
	if want == "" {
		return nil
	}
	data := u.data
	if u.gzipped {
		var err error
		if data, err = gunzip(u.data); err != nil {
			return err
		}
	}
	sum := md5.Sum(data)
	if base64.StdEncoding.EncodeToString(sum[:]) != want {
		return fmt.Errorf("Content-MD5 did not match md5 of file data expected [%s] received [%s] size %d",
			want, base64.StdEncoding.EncodeToString(sum[:]), len(data))
	}
	return nil
}

// storedMime is the mime type to keep with the needle: none when the name's
// extension already implies it, or when it says nothing
// (application/octet-stream), as SeaweedFS keeps needles small.
func storedMime(name, contentType string) string {
	if contentType == "" || contentType == "application/octet-stream" {
		return ""
	}
	if ext := path.Ext(name); ext != "" && mime.TypeByExtension(strings.ToLower(ext)) == contentType {
		return ""
	}
	return contentType
}

// pairsFromHeader collects Seaweed-* headers as a JSON object.
func pairsFromHeader(h http.Header) ([]byte, error) {
	var pairs map[string]string
	for k, vs := range h {
		if len(k) > len(pairPrefix) && strings.EqualFold(k[:len(pairPrefix)], pairPrefix) && len(vs) > 0 {
			if pairs == nil {
				pairs = map[string]string{}
			}
			pairs[k[len(pairPrefix):]] = vs[0]
		}
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(pairs)
	if err != nil {
		return nil, fmt.Errorf("encode pairs: %w", err)
	}
	if len(b) > maxPairsLen {
		return nil, fmt.Errorf("Seaweed- headers take %d bytes, more than %d", len(b), maxPairsLen)
	}
	return b, nil
}

// needle builds the record to append for key and cookie.
func (u *upload) needle(key uint64, cookie uint32) *needle.Needle {
	n := &needle.Needle{ID: key, Cookie: cookie, Data: u.data}
	if u.name != "" {
		n.SetName([]byte(u.name))
	}
	if u.mime != "" {
		n.SetMime([]byte(u.mime))
	}
	if u.gzipped {
		n.SetGzipped()
	}
	if u.manifest {
		n.SetChunkManifest()
	}
	n.SetLastModified(u.lastModified)
	if u.ttl != (needle.TTL{}) {
		n.SetTTL(u.ttl)
	}
	if u.pairs != nil {
		n.SetPairs(u.pairs)
	}
	return n
}

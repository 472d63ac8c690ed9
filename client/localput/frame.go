package localput

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Frame kinds.
const (
	KindHello byte = 1
	KindPut   byte = 2
	KindReply byte = 3
)

// Format constants.
const (
	// Version is the protocol version a Hello carries.
	Version = 1
	// headerLen is the length prefix of every frame.
	headerLen = 4
	// MaxBody is the largest frame body either side accepts.
	MaxBody = 64 << 10
	// helloBodyLen is kind, version and arena size.
	helloBodyLen = 1 + 1 + 8
	// putFixedLen is kind, flags, offset, length, time and CRC.
	putFixedLen = 1 + 1 + 8 + 4 + 8 + 4
	// replyFixedLen is kind, status and size.
	replyFixedLen = 1 + 2 + 4
	// HelloLen is a whole Hello frame.
	HelloLen = headerLen + helloBodyLen

	flagFsync = 1 << 0
	// flagCRC says the Put's CRC field holds the data's checksum; without
	// it the field is zero.
	flagCRC = 1 << 1

	maxShort = 1<<8 - 1  // strings with a 1-byte length
	maxLong  = 1<<16 - 1 // strings with a 2-byte length
)

// StatusUseHTTP is the reply status asking the client to send the upload
// as an HTTP PUT instead (421 Misdirected Request).
const StatusUseHTTP = 421

// ErrCorrupt is a frame that does not decode.
var ErrCorrupt = errors.New("localput: corrupt frame")

// errTooLong is a string over its length field.
var errTooLong = errors.New("localput: field too long")

// Hello opens a connection: the arena that Puts on it refer to.
type Hello struct {
	Version   uint8
	ArenaSize uint64
}

// Put asks the server to store Length bytes at Offset in the arena as the
// needle of Fid.
type Put struct {
	Fsync     bool
	Offset    uint64
	Length    uint32
	Timestamp uint64 // unix seconds; 0: the server's now
	// HasCRC says CRC is the CRC-32C (Castagnoli) of the Length bytes,
	// computed by the client as it filled them; without it CRC is 0.
	HasCRC bool
	CRC    uint32
	Fid    string
	TTL    string
	JWT    string
	Name   string
	Mime   string
}

// Reply answers a Hello or a Put.
type Reply struct {
	Status uint16
	Size   uint32
	ETag   string
	Name   string
	Mime   string
	Error  string
}

// AppendHello appends h as a frame.
func AppendHello(b []byte, h Hello) []byte {
	b = binary.BigEndian.AppendUint32(b, helloBodyLen)
	b = append(b, KindHello, h.Version)
	return binary.BigEndian.AppendUint64(b, h.ArenaSize)
}

// AppendPut appends p as a frame; it fails when a field is over its
// length field or the frame over MaxBody.
func AppendPut(b []byte, p Put) ([]byte, error) {
	n := putFixedLen + 1 + len(p.Fid) + 1 + len(p.TTL) + 2 + len(p.JWT) + 1 + len(p.Name) + 1 + len(p.Mime)
	if len(p.Fid) > maxShort || len(p.TTL) > maxShort || len(p.JWT) > maxLong ||
		len(p.Name) > maxShort || len(p.Mime) > maxShort || n > MaxBody {
		return b, errTooLong
	}
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	var flags byte
	if p.Fsync {
		flags |= flagFsync
	}
	crc := uint32(0)
	if p.HasCRC {
		flags |= flagCRC
		crc = p.CRC
	}
	b = append(b, KindPut, flags)
	b = binary.BigEndian.AppendUint64(b, p.Offset)
	b = binary.BigEndian.AppendUint32(b, p.Length)
	b = binary.BigEndian.AppendUint64(b, p.Timestamp)
	b = binary.BigEndian.AppendUint32(b, crc)
	b = appendShort(b, p.Fid)
	b = appendShort(b, p.TTL)
	b = appendLong(b, p.JWT)
	b = appendShort(b, p.Name)
	return appendShort(b, p.Mime), nil
}

// AppendReply appends r as a frame. Strings too long for their field are
// cut (they are informational; an error text of 64 KiB says enough).
func AppendReply(b []byte, r Reply) []byte {
	cut := func(s string, n int) string { return s[:min(len(s), n)] }
	r.ETag, r.Name, r.Mime = cut(r.ETag, maxShort), cut(r.Name, maxShort), cut(r.Mime, maxShort)
	r.Error = cut(r.Error, MaxBody-replyFixedLen-3*(1+maxShort)-2)
	n := replyFixedLen + 1 + len(r.ETag) + 1 + len(r.Name) + 1 + len(r.Mime) + 2 + len(r.Error)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = append(b, KindReply)
	b = binary.BigEndian.AppendUint16(b, r.Status)
	b = binary.BigEndian.AppendUint32(b, r.Size)
	b = appendShort(b, r.ETag)
	b = appendShort(b, r.Name)
	b = appendShort(b, r.Mime)
	return appendLong(b, r.Error)
}

func appendShort(b []byte, s string) []byte { return append(append(b, byte(len(s))), s...) }

func appendLong(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...)
}

// ReadFrame reads one frame from r into buf (grown as needed) and returns
// its kind and body (after the kind byte), which live in the returned
// buffer until the next call.
func ReadFrame(r io.Reader, buf []byte) (kind byte, body, next []byte, err error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, buf, err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n < 1 || n > MaxBody {
		return 0, nil, buf, fmt.Errorf("%w: body length %d", ErrCorrupt, n)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, buf, err
	}
	return buf[0], buf[1:], buf, nil
}

// SplitFrame takes one whole frame off the front of b.
func SplitFrame(b []byte) (kind byte, body, rest []byte, err error) {
	if len(b) < headerLen {
		return 0, nil, b, fmt.Errorf("%w: %d bytes, no header", ErrCorrupt, len(b))
	}
	n := binary.BigEndian.Uint32(b)
	if n < 1 || n > MaxBody || uint64(len(b)-headerLen) < uint64(n) {
		return 0, nil, b, fmt.Errorf("%w: body length %d in %d bytes", ErrCorrupt, n, len(b))
	}
	f := b[headerLen : headerLen+n]
	return f[0], f[1:], b[headerLen+n:], nil
}

// DecodeHello decodes a Hello body (after the kind byte).
func DecodeHello(body []byte) (Hello, error) {
	if len(body) != helloBodyLen-1 {
		return Hello{}, fmt.Errorf("%w: hello of %d bytes", ErrCorrupt, len(body))
	}
	return Hello{Version: body[0], ArenaSize: binary.BigEndian.Uint64(body[1:])}, nil
}

// DecodePut decodes a Put body (after the kind byte).
func DecodePut(body []byte) (Put, error) {
	d := decoder{b: body}
	flags := d.fixed(1)
	var p Put
	if flags != nil {
		p.Fsync = flags[0]&flagFsync != 0
		p.HasCRC = flags[0]&flagCRC != 0
	}
	if b := d.fixed(8); b != nil {
		p.Offset = binary.BigEndian.Uint64(b)
	}
	if b := d.fixed(4); b != nil {
		p.Length = binary.BigEndian.Uint32(b)
	}
	if b := d.fixed(8); b != nil {
		p.Timestamp = binary.BigEndian.Uint64(b)
	}
	if b := d.fixed(4); b != nil {
		p.CRC = binary.BigEndian.Uint32(b)
	}
	p.Fid = d.short()
	p.TTL = d.short()
	p.JWT = d.long()
	p.Name = d.short()
	p.Mime = d.short()
	if err := d.done("put"); err != nil {
		return Put{}, err
	}
	if !p.HasCRC && p.CRC != 0 {
		// One encoding per Put: a checksum without its flag is damage.
		return Put{}, fmt.Errorf("%w: put crc %08x without its flag", ErrCorrupt, p.CRC)
	}
	return p, nil
}

// DecodeReply decodes a Reply body (after the kind byte).
func DecodeReply(body []byte) (Reply, error) {
	d := decoder{b: body}
	var r Reply
	if b := d.fixed(2); b != nil {
		r.Status = binary.BigEndian.Uint16(b)
	}
	if b := d.fixed(4); b != nil {
		r.Size = binary.BigEndian.Uint32(b)
	}
	r.ETag = d.short()
	r.Name = d.short()
	r.Mime = d.short()
	r.Error = d.long()
	if err := d.done("reply"); err != nil {
		return Reply{}, err
	}
	return r, nil
}

// decoder reads fields off b, remembering the first shortfall.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) fixed(n int) []byte {
	if d.bad || len(d.b) < n {
		d.bad = true
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) short() string {
	l := d.fixed(1)
	if l == nil {
		return ""
	}
	return string(d.fixed(int(l[0])))
}

func (d *decoder) long() string {
	l := d.fixed(2)
	if l == nil {
		return ""
	}
	return string(d.fixed(int(binary.BigEndian.Uint16(l))))
}

func (d *decoder) done(what string) error {
	if d.bad {
		return fmt.Errorf("%w: %s cut short", ErrCorrupt, what)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d bytes after the %s", ErrCorrupt, len(d.b), what)
	}
	return nil
}

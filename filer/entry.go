package filer

import (
	"os"
	"time"
)

// Entry is one file or folder of the namespace: its attributes and, for a
// file, where its bytes are (Chunks on the volume servers, or Content for a
// small file kept inside the entry).
type Entry struct {
	// FullPath is absolute and normalised (see NormalizePath).
	FullPath string
	// Mode holds the permission bits and os.ModeDir for a folder.
	Mode   os.FileMode
	UID    uint32
	GID    uint32
	Mtime  time.Time
	Crtime time.Time
	Mime   string
	// FileSize is the logical size of the file in bytes.
	FileSize uint64
	// Md5 is the MD5 of the whole body when it is known (nil otherwise).
	Md5           []byte
	TTLSec        int32
	SymlinkTarget string
	// Collection and Replication are those the chunks were written with,
	// so appends and rewrites place new chunks alike.
	Collection  string
	Replication string
	// Extended holds extended attributes, e.g. the Seaweed-* headers of
	// an upload, keyed with their prefix.
	Extended map[string][]byte
	// Content is the body of a small file stored inside the entry; a file
	// has Content or Chunks, not both.
	Content []byte
	// Chunks are in the order they were written; a later chunk overrides
	// an earlier one where their ranges overlap.
	Chunks []Chunk
}

// Chunk is a piece of a file's body stored as one blob.
type Chunk struct {
	// Fid is the blob's file id, "<volume>,<key hex><cookie 8 hex>".
	Fid string
	// Offset is where the chunk's first byte goes in the file.
	Offset int64
	Size   uint64
	// ModifiedTsNs is when the chunk was written, in unix nanoseconds.
	ModifiedTsNs int64
	// ETag is the blob's ETag as the volume server returned it.
	ETag string
	// IsManifest marks a chunk whose blob lists further chunks.
	IsManifest bool
}

// IsDirectory reports whether the entry is a folder.
func (e *Entry) IsDirectory() bool { return e.Mode&os.ModeDir != 0 }

// Name is the last element of the entry's path ("" for the root).
func (e *Entry) Name() string { return Name(e.FullPath) }

// Dir is the folder holding the entry ("/" for the root itself).
func (e *Entry) Dir() string { return Dir(e.FullPath) }

// Clone returns a deep copy, so a caller may change it without touching
// an entry a store or cache still holds.
func (e *Entry) Clone() *Entry {
	c := *e
	c.Md5 = cloneBytes(e.Md5)
	c.Content = cloneBytes(e.Content)
	if e.Extended != nil {
		c.Extended = make(map[string][]byte, len(e.Extended))
		for k, v := range e.Extended {
			c.Extended[k] = cloneBytes(v)
		}
	}
	if e.Chunks != nil {
		c.Chunks = append([]Chunk(nil), e.Chunks...)
	}
	return &c
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

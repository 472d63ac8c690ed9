package volume

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// compressible says whether data of this name and mime type is worth
// gzipping, and whether that is sure. Only sure answers lead to
// compression, as in SeaweedFS: text compresses, media and archives don't.
func compressible(name, mimeType string) (yes, sure bool) {
	ext := strings.ToLower(path.Ext(name))
	if mimeType == "" && ext != "" {
		mimeType = mime.TypeByExtension(ext)
	}
	if i := strings.IndexByte(mimeType, ';'); i >= 0 {
		mimeType = strings.TrimSpace(mimeType[:i])
	}
	switch {
	case strings.HasPrefix(mimeType, "text/"):
		return true, true
	}
	switch ext {
	case ".svg", ".bmp", ".wav":
		return true, true
	case ".zip", ".rar", ".gz", ".bz2", ".xz", ".zst", ".br", ".7z",
		".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4", ".mp3", ".ogg":
		return false, true
	case ".pdf", ".txt", ".html", ".htm", ".css", ".js", ".json", ".csv", ".md",
		".xml", ".yaml", ".yml", ".go", ".c", ".h", ".cpp", ".hpp", ".java", ".py", ".rb", ".php":
		return true, true
	}
	switch {
	case strings.HasPrefix(mimeType, "image/"), strings.HasPrefix(mimeType, "video/"):
		return false, true
	case strings.HasPrefix(mimeType, "application/"):
		sub := strings.TrimPrefix(mimeType, "application/")
		switch {
		case strings.HasSuffix(sub, "json"), strings.HasSuffix(sub, "xml"), strings.HasSuffix(sub, "javascript"):
			return true, true
		case strings.HasSuffix(sub, "zip"), strings.HasSuffix(sub, "zstd"), strings.HasSuffix(sub, "gzip"):
			return false, true
		}
	}
	return false, false
}

// maybeCompress gzips the data when its type is surely compressible and
// the result saves at least 10%.
func (u *upload) maybeCompress() {
	if len(u.data) < 128 {
		return // the gzip header alone eats most of the gain
	}
	if yes, sure := compressible(u.name, u.mime); !yes || !sure {
		return
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return
	}
	if _, err := zw.Write(u.data); err != nil {
		return
	}
	if err := zw.Close(); err != nil {
		return
	}
	if buf.Len()*10 < len(u.data)*9 {
		u.data = buf.Bytes()
		u.gzipped = true
		u.crc = nil // of the bytes before compression
	}
}

// gunzip returns the decompressed bytes of a gzip stream.
func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	return out, nil
}

// gunzippedLen is the decompressed length of a gzip stream.
func gunzippedLen(b []byte) (int, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, zr)
	return int(n), err
}

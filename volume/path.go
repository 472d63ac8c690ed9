package volume

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"weedfs.dev/weed/storage/needle"
)

// errBadPath is a URL that names no file id.
var errBadPath = errors.New("bad file id path")

// target is what a blob URL names.
type target struct {
	fid      needle.FileID
	fidText  string // "<vid>,<keycookie>" as the client wrote it, for JWT checks
	filename string // the third form's name, overriding the stored one
	ext      string // extension after the key cookie, e.g. ".jpg"
}

// parseTarget accepts the three URL forms of SeaweedFS:
//
//	/<vid>,<keycookie>[.ext]
//	/<vid>/<keycookie>[.ext]
//	/<vid>/<keycookie>/<filename>
func parseTarget(urlPath string) (target, error) {
	p := strings.TrimPrefix(urlPath, "/")
	var vid, kc, filename string
	switch parts := strings.Split(p, "/"); len(parts) {
	case 1:
		var ok bool
		vid, kc, ok = strings.Cut(parts[0], ",")
		if !ok {
			return target{}, fmt.Errorf("%w: %q", errBadPath, urlPath)
		}
	case 2:
		vid, kc = parts[0], parts[1]
	case 3:
		vid, kc, filename = parts[0], parts[1], parts[2]
	default:
		return target{}, fmt.Errorf("%w: %q", errBadPath, urlPath)
	}
	var ext string
	if i := strings.LastIndexByte(kc, '.'); i >= 0 {
		kc, ext = kc[:i], kc[i:]
	}
	id, err := strconv.ParseUint(vid, 10, 32)
	if err != nil {
		return target{}, fmt.Errorf("%w: volume id %q: %w", errBadPath, vid, err)
	}
	key, cookie, err := needle.ParseKeyCookie(kc)
	if err != nil {
		return target{}, fmt.Errorf("%w: %w", errBadPath, err)
	}
	if filename != "" {
		ext = ""
		if i := strings.LastIndexByte(filename, '.'); i >= 0 {
			ext = filename[i:]
		}
	}
	return target{
		fid:      needle.FileID{VolumeID: uint32(id), Key: key, Cookie: cookie},
		fidText:  vid + "," + kc,
		filename: filename,
		ext:      ext,
	}, nil
}

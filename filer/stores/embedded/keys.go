package embedded

import "weedfs.dev/weed/filer"

// Key layout in the Pebble keyspace (all keys start with a one-byte space
// tag, so entries and KV pairs never mix):
//
//	+-----+-------------------+------+-------------+
//	| 'e' | dir (path bytes)  | 0x00 | name        |  -> filer.EncodeEntry bytes
//	+-----+-------------------+------+-------------+
//	| 'e' | 0x00                                   |  -> the root entry "/"
//	+-----+----------------------------------------+
//	| 'k' | key (any bytes)                        |  -> value
//	+-----+----------------------------------------+
//
// Paths never hold NUL, so 0x00 after the folder keeps a folder's children
// contiguous and ordered by name, and nothing else falls between them:
// the children of "/a/b" are exactly the keys in ["e/a/b\x00", "e/a/b\x01").
// The deeper descendants of "/a/b" are exactly ["e/a/b/", "e/a/b0") ('0'
// follows '/'), which "/a/bc" and "/a/b-x" (whose folder is "/a") never
// enter.
const (
	spaceEntry byte = 'e'
	spaceKV    byte = 'k'
	dirEnd     byte = 0x00
)

// entryKey is the key of the entry at a normalised path.
func entryKey(path string) []byte {
	if path == "/" {
		return []byte{spaceEntry, dirEnd}
	}
	dir, name := filer.Dir(path), filer.Name(path)
	k := make([]byte, 0, 2+len(dir)+len(name))
	k = append(k, spaceEntry)
	k = append(k, dir...)
	k = append(k, dirEnd)
	return append(k, name...)
}

// childrenPrefix is the common prefix of the keys of dir's children.
func childrenPrefix(dir string) []byte {
	k := make([]byte, 0, 2+len(dir))
	k = append(k, spaceEntry)
	k = append(k, dir...)
	return append(k, dirEnd)
}

// descendantsPrefix is the common prefix of the keys of entries below
// dir's children ("/a/b/" for "/a/b"; "/" for the root, which covers every
// entry but the root's own key).
func descendantsPrefix(dir string) []byte {
	k := make([]byte, 0, 2+len(dir))
	k = append(k, spaceEntry)
	if dir == "/" {
		return append(k, '/')
	}
	k = append(k, dir...)
	return append(k, '/')
}

func kvKey(key []byte) []byte {
	k := make([]byte, 0, 1+len(key))
	k = append(k, spaceKV)
	return append(k, key...)
}

// prefixEnd is the smallest key above every key starting with p, or nil
// when there is none (p is all 0xff).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

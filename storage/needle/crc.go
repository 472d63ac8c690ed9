package needle

import (
	"encoding/hex"
	"hash/crc32"
)

// castagnoli is a read-only table, built once; crc32 uses hardware support
// for it where the CPU has it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CRC returns the CRC-32C (Castagnoli) of data, the checksum stored in a
// needle.
func CRC(data []byte) uint32 { return crc32.Checksum(data, castagnoli) }

// UpdateCRC extends crc, the CRC of the bytes before p, over p: computed as
// a blob arrives, piece by piece while each piece is still in the CPU's
// cache, UpdateCRC(UpdateCRC(0, a), b) == CRC(a+b).
func UpdateCRC(crc uint32, p []byte) uint32 { return crc32.Update(crc, castagnoli, p) }

// legacyCRC is the transformed value older SeaweedFS versions stored instead
// of the raw CRC; readers accept both.
func legacyCRC(c uint32) uint32 { return (c>>15 | c<<17) + 0xa282ead8 }

// checksumMatches reports whether stored is the CRC of data, raw or legacy.
func checksumMatches(stored uint32, data []byte) bool {
	c := CRC(data)
	return stored == c || stored == legacyCRC(c)
}

// ETag returns the HTTP ETag SeaweedFS derives from a checksum: its four
// big-endian bytes in lower-case hex, without quotes.
func ETag(checksum uint32) string {
	b := [4]byte{byte(checksum >> 24), byte(checksum >> 16), byte(checksum >> 8), byte(checksum)}
	return hex.EncodeToString(b[:])
}

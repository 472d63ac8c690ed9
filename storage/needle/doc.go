// Package needle owns the byte format of one blob record (a "needle") in a
// SeaweedFS-compatible volume .dat file, the text form of file ids, and the
// time-to-live code stored with volumes and needles.
//
// It is pure encode/decode: it never opens files (the Scanner reads through an
// io.ReaderAt it is given), never logs, never sees an HTTP request, and keeps
// no state between calls.
//
// # Record layout (all integers big-endian)
//
//	offset        size   field
//	0             4      Cookie       random per file id, checked on read
//	4             8      ID           the needle key
//	12            4      Size         length of the body below (0: no body)
//	--- body, versions 2 and 3, present only when Size > 0 ---
//	16            4      DataSize
//	20            n      Data         stored bytes (gzip-compressed when FlagGzip)
//	20+n          1      Flags
//	              1+k    NameSize, Name          if Flags&FlagHasName  (k <= 255)
//	              1+k    MimeSize, Mime          if Flags&FlagHasMime  (k <= 255)
//	              5      LastModified            if Flags&FlagHasLastModified
//	                                             (low 5 bytes of unix seconds)
//	              2      TTL count, unit         if Flags&FlagHasTTL
//	              2+k    PairsSize, Pairs (JSON) if Flags&FlagHasPairs (k < 64 KiB)
//	--- tail ---
//	16+Size       4      Checksum     CRC-32C (Castagnoli) of Data as stored
//	20+Size       8      AppendAtNs   version 3 only, unix nanoseconds
//	              1..8   padding      so the record length is a multiple of 8
//
// In version 1 the body is the data itself (Size = len(Data)) and there are
// no flags or metadata. A needle with empty data has Size 0 and no body at
// all: that is how SeaweedFS writes both empty files and deletion markers
// (tombstones), whose Checksum field still carries the deleted data's CRC.
//
// Padding is always 1 to 8 bytes, never 0, exactly as SeaweedFS computes it.
// SeaweedFS leaves leftover bytes of its write buffer in the padding; we write
// zeros and readers ignore the content.
//
// # Strictness
//
// Decode checks every length against the input before slicing, requires the
// body to be consumed exactly by the fields its flags announce, and checks the
// CRC of non-empty data (accepting the legacy transformed CRC value older
// SeaweedFS versions stored). Every failure wraps ErrCorrupt; a CRC mismatch
// also wraps ErrChecksum. Decode never panics and never returns bytes whose
// checksum does not match.
//
// # File ids and TTL
//
// A file id is "<volume>,<key hex><cookie hex>[_<delta>]" (see ParseFileID).
// A TTL is a count and a unit (m h d w M y); unlike SeaweedFS, which silently
// turns an unknown unit into "no TTL", ParseTTL rejects it with ErrBadTTL.
package needle

package volume

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/client/localput"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/needle"
)

// The CRC a client gives is the needle's checksum as stored: a wrong one
// makes every read of that needle fail its check (not serve bytes the
// checksum does not cover), and spoils no other needle.
func TestLocalPutGivenCRC(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, Config{})
	allocate(t, s, 7)
	socket, _ := serveLocal(t, s, dir)
	a := newArena(t, 1<<20)
	rand.NewChaCha8([32]byte{21}).Read(a.Bytes())
	w := client.NewChunkWriter(1)
	defer w.Close()
	ctx := context.Background()
	fids := []string{"7,01637037d6", "7,02637037d6", "7,03637037d6"}
	chunks := make([][]byte, len(fids))
	for i, fid := range fids {
		chunks[i] = a.Bytes()[i*(200<<10) : (i+1)*(200<<10)-i]
		crc := needle.CRC(chunks[i])
		if i == 1 {
			crc ^= 1 << 7 // the client lies, or changed its bytes
		}
		r, err := w.PutFrom(ctx, hostPort(s), fid, a, chunks[i], &crc, client.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.ETag != needle.ETag(crc) {
			t.Fatalf("%s: etag %s, want that of the given crc %s", fid, r.ETag, needle.ETag(crc))
		}
	}
	if n := s.localPuts.Load(); n != uint64(len(fids)) {
		t.Fatalf("%d of %d went through the socket", n, len(fids))
	}
	v, err := s.store.Volume(7)
	if err != nil {
		t.Fatal(err)
	}
	for i, fid := range fids {
		id, err := needle.ParseFileID(fid)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Read(ctx, id.Key, id.Cookie, storage.ReadOptions{})
		resp, body := do(t, "GET", s.url+"/"+fid, nil, nil)
		if i == 1 {
			if !errors.Is(err, needle.ErrChecksum) {
				t.Fatalf("%s stored with a wrong crc: read gives %v, want a checksum error", fid, err)
			}
			if resp.StatusCode == http.StatusOK {
				t.Fatalf("%s stored with a wrong crc: GET answers 200 with %d bytes", fid, len(body))
			}
			continue
		}
		if err != nil || !bytes.Equal(got.Data, chunks[i]) {
			t.Fatalf("%s: read %v", fid, err)
		}
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, chunks[i]) {
			t.Fatalf("GET %s: %d, %d bytes", fid, resp.StatusCode, len(body))
		}
	}

	// A compressed upload stores the sum of the compressed bytes, not the
	// client's (of the bytes before), and reads back.
	text := a.Bytes()[800<<10 : 900<<10]
	copy(text, strings.Repeat("the quick brown fox jumps over the lazy dog\n", len(text)/44+1))
	lc := dialLocal(t, socket, a)
	r := lc.put(t, localput.Put{Offset: 800 << 10, Length: uint32(len(text)), Fid: "7,04637037d6", Name: "fox.txt",
		HasCRC: true, CRC: needle.CRC(text)})
	if r.Status != http.StatusCreated {
		t.Fatalf("compressible upload: %+v", r)
	}
	got, err := v.Read(ctx, 4, 0x637037d6, storage.ReadOptions{})
	if err != nil {
		t.Fatalf("compressed needle with a client crc: %v", err)
	}
	if !got.IsGzipped() {
		t.Fatal("the text was not compressed: the case is not tested")
	}
	if plain, err := gunzip(got.Data); err != nil || !bytes.Equal(plain, text) {
		t.Fatalf("compressed needle reads back wrong: %v", err)
	}
}

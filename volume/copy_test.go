package volume

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
)

// TestCopyVolume moves a volume between two servers over the admin API and
// reads every needle from the copy.
func TestCopyVolume(t *testing.T) {
	// The volume has two copies; writes with type=replicate stay local, as
	// no master is here to name the other copy.
	src := startServer(t, t.TempDir(), Config{})
	dst := startServer(t, t.TempDir(), Config{})
	if _, err := src.store.AllocateVolume("pics", 9, superblock.ReplicaPlacement{SameRack: 1}, needle.TTL{}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for i := 1; i <= 300; i++ {
		fid := fmt.Sprintf("9,%02x%08x", i, 0xabcdef00+i)
		data := bytes.Repeat([]byte{byte(i)}, 100+i*37)
		resp, b := do(t, "PUT", src.url+"/"+fid+"?type=replicate", bytes.NewReader(data), map[string]string{"Content-Type": "image/x"})
		if resp.StatusCode != 201 {
			t.Fatalf("write %s: %d %s", fid, resp.StatusCode, b)
		}
		if i%10 == 0 {
			do(t, "DELETE", src.url+"/"+fid+"?type=replicate", nil, nil)
			continue
		}
		want[fid] = data
	}
	body, _ := proto.Marshal(&pb.VolumeCopyRequest{VolumeId: 9, Collection: "pics", SourceDataNode: strings.TrimPrefix(src.url, "http://")})
	resp, b := do(t, "POST", dst.url+pb.AdminPrefix+pb.AdminVolumeCopy, bytes.NewReader(body), map[string]string{"Content-Type": pb.ContentType})
	if resp.StatusCode != 200 {
		t.Fatalf("copy: %d %s", resp.StatusCode, b)
	}
	for fid, data := range want {
		if resp, b := do(t, "GET", dst.url+"/"+fid, nil, nil); resp.StatusCode != 200 || !bytes.Equal(b, data) {
			t.Fatalf("copy of %s: %d, %d bytes", fid, resp.StatusCode, len(b))
		}
	}
	v, err := dst.store.Volume(9)
	if err != nil || v.Collection() != "pics" || v.SuperBlock().Placement.SameRack != 1 {
		t.Fatalf("copied volume: %v %+v", err, v)
	}
	// Copying again is refused: the volume exists.
	if resp, _ := do(t, "POST", dst.url+pb.AdminPrefix+pb.AdminVolumeCopy, bytes.NewReader(body), nil); resp.StatusCode != 409 {
		t.Fatalf("second copy: %d", resp.StatusCode)
	}
}

// TestCopyStreamRejectsCutOffs feeds the receiver every prefix of a real
// stream: only the whole stream is accepted.
func TestCopyStreamRejectsCutOffs(t *testing.T) {
	var stream bytes.Buffer
	bw := bufio.NewWriter(&stream)
	dat, idx := &frameWriter{w: bw, kind: frameDat}, &frameWriter{w: bw, kind: frameIdx}
	dat.Write([]byte("the data file"))
	dat.Write([]byte(" in two frames"))
	idx.Write([]byte("index"))
	end := make([]byte, frameHeaderLen+16)
	end[0], end[4] = frameEnd, 16
	end[12], end[20] = byte(dat.n), byte(idx.n)
	bw.Write(end)
	bw.Flush()
	full := stream.Bytes()
	read := func(b []byte) (string, string, error) {
		fr := &frameReader{r: bufio.NewReader(bytes.NewReader(b))}
		d, err := io.ReadAll(fr.part(frameDat))
		if err != nil {
			return "", "", err
		}
		i, err := io.ReadAll(&checkedEnd{fr: fr, r: fr.part(frameIdx)})
		return string(d), string(i), err
	}
	d, i, err := read(full)
	if err != nil || d != "the data file in two frames" || i != "index" {
		t.Fatalf("whole stream: %q %q %v", d, i, err)
	}
	for n := 0; n < len(full); n++ {
		if _, _, err := read(full[:n]); !errors.Is(err, errBadStream) {
			t.Fatalf("prefix of %d bytes: %v, want errBadStream", n, err)
		}
	}
}

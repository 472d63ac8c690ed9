package security

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var now = time.Unix(1795683482, 0)

func TestSignVerify(t *testing.T) {
	key := Key{Secret: []byte("s3cret"), Expiry: 10 * time.Second}
	tok, err := Sign(key, "4,010c18c0eb", now)
	if err != nil {
		t.Fatal(err)
	}
	// The payload is exactly what SeaweedFS signs: fid and exp.
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWS", tok)
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var h, p map[string]any
	if err := json.Unmarshal(header, &h); err != nil || h["alg"] != "HS256" {
		t.Fatalf("header %s", header)
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatal(err)
	}
	if p["fid"] != "4,010c18c0eb" || p["exp"] != float64(now.Unix()+10) || len(p) != 2 {
		t.Fatalf("payload %s", payload)
	}

	cases := []struct {
		name string
		key  Key
		tok  string
		fid  string
		at   time.Time
		ok   bool
	}{
		{"valid", key, tok, "4,010c18c0eb", now, true},
		{"batch suffix", key, tok, "4,010c18c0eb_7", now.Add(9 * time.Second), true},
		{"expired", key, tok, "4,010c18c0eb", now.Add(11 * time.Second), false},
		{"other fid", key, tok, "4,020c18c0eb", now, false},
		{"other key", Key{Secret: []byte("other")}, tok, "4,010c18c0eb", now, false},
		{"empty", key, "", "4,010c18c0eb", now, false},
		{"garbage", key, "a.b.c", "4,010c18c0eb", now, false},
		{"disabled key accepts", Key{}, "", "4,010c18c0eb", now, true},
	}
	for _, c := range cases {
		err := Verify(c.key, c.tok, c.fid, c.at)
		if c.ok && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if !c.ok && !errors.Is(err, ErrWrongJWT) {
			t.Errorf("%s: got %v, want ErrWrongJWT", c.name, err)
		}
	}
}

func TestNoneAlgorithmRejected(t *testing.T) {
	// {"alg":"none"} with the right claims must not pass.
	enc := base64.RawURLEncoding.EncodeToString
	tok := enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(`{"fid":"1,01"}`)) + "."
	if err := Verify(Key{Secret: []byte("k")}, tok, "1,01", now); !errors.Is(err, ErrWrongJWT) {
		t.Fatalf("alg none accepted: %v", err)
	}
}

func TestNoExpiry(t *testing.T) {
	key := Key{Secret: []byte("k"), Expiry: 0}
	tok, err := Sign(key, "1,01aa", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(key, tok, "1,01aa", now.Add(1000*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if s, _ := Sign(Key{}, "1,01aa", now); s != "" {
		t.Fatalf("disabled key signed %q", s)
	}
}

func TestTokenFromRequest(t *testing.T) {
	r := httptest.NewRequest("GET", "/3,01?jwt=q", nil)
	r.Header.Set("Authorization", "Bearer h")
	if got := TokenFromRequest(r); got != "q" {
		t.Fatalf("query first: %q", got)
	}
	r = httptest.NewRequest("GET", "/3,01", nil)
	r.Header.Set("Authorization", "bEaReR h")
	r.Header.Add("Cookie", "AT=c")
	if got := TokenFromRequest(r); got != "h" {
		t.Fatalf("header second: %q", got)
	}
	r = httptest.NewRequest("GET", "/3,01", nil)
	r.Header.Add("Cookie", "AT=c")
	if got := TokenFromRequest(r); got != "c" {
		t.Fatalf("cookie last: %q", got)
	}
}

func TestParseAndLoad(t *testing.T) {
	text := `
[jwt.signing]
key = "w"
expires_after_seconds = 30
[jwt.signing.read]
key = "r"
[jwt.filer_signing]
key = "f"
`
	c, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Write.Secret) != "w" || c.Write.Expiry != 30*time.Second {
		t.Errorf("write key %+v", c.Write)
	}
	if string(c.Read.Secret) != "r" || c.Read.Expiry != DefaultExpiry {
		t.Errorf("read key %+v", c.Read)
	}
	if string(c.FilerWrite.Secret) != "f" || c.FilerRead.Enabled() {
		t.Errorf("filer keys %+v %+v", c.FilerWrite, c.FilerRead)
	}
	if _, err := Parse([]byte("[jwt.signing\nkey=")); err == nil {
		t.Error("broken toml accepted")
	}

	empty, withFile := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(withFile, "security.toml"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, path, err := Load([]string{empty, withFile})
	if err != nil || path != filepath.Join(withFile, "security.toml") || !c.Write.Enabled() {
		t.Fatalf("load: %v %q %+v", err, path, c)
	}
	c, path, err = Load([]string{empty})
	if err != nil || path != "" || c.Write.Enabled() {
		t.Fatalf("load without file: %v %q %+v", err, path, c)
	}
}

func TestWhiteList(t *testing.T) {
	w, err := ParseWhiteList("127.0.0.1, 10.1.0.0/16,::1")
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"127.0.0.1:5000": true, "10.1.200.3:1": true, "10.2.0.1:1": false,
		"[::1]:80": true, "[::ffff:127.0.0.1]:80": true, "bogus": false, "192.168.1.1": false,
	} {
		if got := w.Allows(addr); got != want {
			t.Errorf("%s: got %v want %v", addr, got, want)
		}
	}
	open, _ := ParseWhiteList("")
	if !open.Allows("8.8.8.8:1") {
		t.Error("empty list must allow all")
	}
	if _, err := ParseWhiteList("1.2.3.4/99"); err == nil {
		t.Error("bad CIDR accepted")
	}
}

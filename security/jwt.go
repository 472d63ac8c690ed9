package security

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrWrongJWT is returned for a missing, malformed, expired or foreign
// token; volume servers answer it with 401 {"error":"wrong jwt"}.
var ErrWrongJWT = errors.New("wrong jwt")

type fidClaims struct {
	Fid string `json:"fid"`
	jwt.RegisteredClaims
}

// Sign returns a token granting access to fid until now+key.Expiry. It
// returns "" when the key is not enabled.
func Sign(key Key, fid string, now time.Time) (string, error) {
	if !key.Enabled() {
		return "", nil
	}
	c := fidClaims{Fid: fid}
	if key.Expiry > 0 {
		c.ExpiresAt = jwt.NewNumericDate(now.Add(key.Expiry))
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key.Secret)
	if err != nil {
		return "", fmt.Errorf("security: sign: %w", err)
	}
	return s, nil
}

// Verify checks that token is signed with key, unexpired at now, and grants
// fid (a "_N" suffix of fid is ignored). A disabled key accepts anything.
func Verify(key Key, token, fid string, now time.Time) error {
	if !key.Enabled() {
		return nil
	}
	if token == "" {
		return ErrWrongJWT
	}
	var c fidClaims
	_, err := jwt.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		return key.Secret, nil
	}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWrongJWT, err)
	}
	if stripDelta(c.Fid) != stripDelta(fid) {
		return fmt.Errorf("%w: token is for %q, not %q", ErrWrongJWT, c.Fid, fid)
	}
	return nil
}

// stripDelta removes the "_N" suffix a count>1 assign adds to a fid.
func stripDelta(fid string) string {
	if i := strings.LastIndexByte(fid, '_'); i >= 0 {
		return fid[:i]
	}
	return fid
}

// TokenFromRequest finds a token where SeaweedFS clients put one: the jwt
// query parameter, then an "Authorization: Bearer" header (scheme case
// ignored), then the AT cookie.
func TokenFromRequest(r *http.Request) string {
	if t := r.URL.Query().Get("jwt"); t != "" {
		return t
	}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	if c, err := r.Cookie("AT"); err == nil {
		return c.Value
	}
	return ""
}

package security

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// WhiteList holds the addresses allowed to call admin endpoints. An empty
// list allows everyone (SeaweedFS's -whiteList default).
type WhiteList struct {
	prefixes []netip.Prefix
}

// ParseWhiteList reads a comma-separated list of IPs and CIDR ranges.
func ParseWhiteList(s string) (*WhiteList, error) {
	w := &WhiteList{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.Contains(part, "/") {
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return nil, fmt.Errorf("security: white list entry %q: %w", part, err)
			}
			w.prefixes = append(w.prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("security: white list entry %q: %w", part, err)
		}
		w.prefixes = append(w.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return w, nil
}

// Allows reports whether a request from remoteAddr ("ip:port" or "ip") may
// pass.
func (w *WhiteList) Allows(remoteAddr string) bool {
	if w == nil || len(w.prefixes) == 0 {
		return true
	}
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range w.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

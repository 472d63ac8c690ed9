package master

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// httpError is an error with the status SeaweedFS answers it with.
type httpError struct {
	status     int
	msg        string
	retryAfter int // seconds; set for 503s the client should retry
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// unavailable is a 503 with Retry-After.
func unavailable(format string, args ...any) error {
	return &httpError{status: http.StatusServiceUnavailable, msg: fmt.Sprintf(format, args...), retryAfter: 1}
}

// writeJSON writes v as JSON, indented when ?pretty= is set.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var b []byte
	var err error
	if r.FormValue("pretty") != "" {
		b, err = json.MarshalIndent(v, "", "  ")
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the reply failed"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
	if !bytes.HasSuffix(b, []byte("\n")) && r.FormValue("pretty") != "" {
		w.Write([]byte("\n"))
	}
}

// errorBody is SeaweedFS's error reply.
type errorBody struct {
	Error string `json:"error"`
}

// writeError answers err with its status (500 unless it is an httpError).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	var he *httpError
	if errors.As(err, &he) {
		status = he.status
		if he.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(he.retryAfter))
		}
	}
	writeJSON(w, r, status, errorBody{Error: err.Error()})
}

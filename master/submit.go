package master

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/security"
)

// maxSubmitBytes is the largest /submit body, as SeaweedFS's 256 MiB.
const maxSubmitBytes = 256 << 20

// maxFormValue bounds a non-file field of a multipart /submit.
const maxFormValue = 4 << 10

type submitResult struct {
	ETag     string `json:"eTag"`
	Fid      string `json:"fid"`
	FileName string `json:"fileName"`
	FileURL  string `json:"fileUrl"`
	Size     int64  `json:"size"`
}

// upload is the file part of a /submit body.
type upload struct {
	name, mime string
	data       []byte
}

// handleSubmit is /submit: assign, then upload the body to the volume
// server, as one call.
func (s *Server) handleSubmit(w http.ResponseWriter, r *http.Request, v *view) {
	if r.Method != http.MethodPost {
		writeError(w, r, errorf(http.StatusMethodNotAllowed, "Only submit via POST!"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSubmitBytes)
	params := r.URL.Query()
	up, err := readSubmit(r, params)
	if err != nil {
		writeError(w, r, errorf(http.StatusBadRequest, "%v", err))
		return
	}
	req, err := s.parseAssign(params.Get)
	if err != nil {
		writeError(w, r, err)
		return
	}
	a, err := s.assign(r.Context(), v, req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	token, err := security.Sign(s.cfg.Security.Write, a.Fid, time.Now())
	if err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.blobs.Upload(r.Context(), a.URL, a.Fid, up.data, client.UploadOptions{
		Name: up.name, Mime: up.mime, TTL: params.Get("ttl"), JWT: token,
	})
	if err != nil {
		writeError(w, r, errorf(http.StatusInternalServerError, "%v", err))
		return
	}
	size := res.Size
	if size == 0 {
		size = int64(len(up.data))
	}
	writeJSON(w, r, http.StatusCreated, submitResult{
		ETag: res.ETag, Fid: a.Fid, FileName: up.name, FileURL: a.PublicURL + "/" + a.Fid, Size: size,
	})
}

// readSubmit reads the file of a multipart or raw /submit body; the
// multipart form's other fields join params (the query wins).
func readSubmit(r *http.Request, params url.Values) (upload, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return upload{}, err
		}
		return upload{name: params.Get("filename"), mime: r.Header.Get("Content-Type"), data: data}, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return upload{}, err
	}
	var up upload
	found := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return upload{}, err
		}
		if part.FileName() == "" && found || part.FileName() == "" && part.FormName() != "file" {
			b, err := io.ReadAll(io.LimitReader(part, maxFormValue))
			if err != nil {
				return upload{}, err
			}
			if name := part.FormName(); name != "" && !params.Has(name) {
				params.Set(name, string(b))
			}
			continue
		}
		if found {
			continue // SeaweedFS takes the first file
		}
		found = true
		up.name = part.FileName()
		up.mime = part.Header.Get("Content-Type")
		if up.data, err = io.ReadAll(part); err != nil {
			return upload{}, err
		}
	}
	if !found {
		return upload{}, errors.New("no file in the multipart body")
	}
	if strings.HasPrefix(up.mime, "application/octet-stream") {
		up.mime = ""
	}
	return up, nil
}

package dicomweb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Store sends DICOM files (whole Part-10 files) to the server with STOW-RS
// (POST {base}/studies, multipart/related; type="application/dicom"). It
// fails unless the server stored every file; the error names the files it
// refused and why.
func (c *Client) Store(ctx context.Context, files ...[]byte) error {
	if len(files) == 0 {
		return errors.New("dicomweb: store: no files to send")
	}
	boundary, err := newBoundary(files)
	if err != nil {
		return err
	}
	var parts []io.Reader
	var length int64
	add := func(b []byte) {
		parts = append(parts, bytes.NewReader(b))
		length += int64(len(b))
	}
	for _, f := range files {
		add([]byte("--" + boundary + "\r\nContent-Type: application/dicom\r\nContent-Length: " + strconv.Itoa(len(f)) + "\r\n\r\n"))
		add(f)
		add([]byte("\r\n"))
	}
	add([]byte("--" + boundary + "--\r\n"))
	resp, target, err := c.do(ctx, request{
		method:      http.MethodPost,
		path:        "/studies",
		accept:      acceptJSON,
		contentType: `multipart/related; type="application/dicom"; boundary=` + boundary,
		body:        io.MultiReader(parts...),
		length:      length,
	}, http.StatusOK, http.StatusAccepted, http.StatusConflict)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var objs []object
	if mt := mediaType(resp.Header.Get("Content-Type")); mt == "application/dicom+json" || mt == "application/json" {
		if objs, err = readObjects(ctx, resp, http.MethodPost, target); err != nil {
			return err
		}
	}
	var failed []string
	for _, o := range objs {
		seq, ok := o[tagFailedSOPSequence]
		if !ok {
			continue
		}
		for _, raw := range seq.Value {
			failed = append(failed, failure(raw))
		}
	}
	switch {
	case len(failed) > 0:
		return fmt.Errorf("POST %s: the server refused %d of the %d files: %s", target, len(failed), len(files), strings.Join(failed, "; "))
	case resp.StatusCode != http.StatusOK:
		return &HTTPError{Method: http.MethodPost, URL: target, Status: resp.StatusCode}
	}
	return nil
}

// failure describes one item of a STOW-RS FailedSOPSequence.
func failure(raw []byte) string {
	var item object
	if err := json.Unmarshal(raw, &item); err != nil {
		return "a file (the reason cannot be read)"
	}
	uid := item.str(tagReferencedSOPInstUID)
	code := item.int(tagFailureReason)
	why, ok := failureReasons[code]
	if !ok {
		why = fmt.Sprintf("failure reason %04X", code)
	}
	if uid == "" {
		return why
	}
	return uid + ": " + why
}

// failureReasons are the STOW-RS failure reasons of PS3.18 (Table
// 10.5.3-1) and the storage status codes of PS3.4 in plain words.
var failureReasons = map[int]string{
	0x0110: "the server could not process it",
	0x0122: "the server does not store this kind of object (SOP class)",
	0x0124: "not authorized",
	0xA700: "the server is out of resources",
	0xA900: "the data set does not match its SOP class",
	0xC000: "the server cannot understand the file",
	0xC122: "the referenced transfer syntax is not supported",
}

// newBoundary returns a random multipart boundary that occurs in none of
// files.
func newBoundary(files [][]byte) (string, error) {
	for range 8 {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("dicomweb: store: %w", err)
		}
		boundary := "sscscore-" + hex.EncodeToString(b[:])
		clash := false
		for _, f := range files {
			if bytes.Contains(f, []byte(boundary)) {
				clash = true
				break
			}
		}
		if !clash {
			return boundary, nil
		}
	}
	return "", errors.New("dicomweb: store: no multipart boundary found that the files do not contain")
}

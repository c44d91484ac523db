package dicomweb

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"sscscore/model/ingest"
)

// RetrieveAccept returns the Accept header of a WADO-RS series retrieval:
// one multipart/related media range of DICOM files per transfer syntax that
// model/ingest reads (its native encodings and its registered decoders),
// then transfer-syntax=* (the files as the server stores them) as a fallback.
// Ingestion reports a file in a syntax it cannot read, by name.
func RetrieveAccept() string {
	acceptOnce.Do(func() {
		const mr = `multipart/related; type="application/dicom"; transfer-syntax=`
		var ranges []string
		for _, ts := range ingest.TransferSyntaxes() {
			ranges = append(ranges, mr+ts)
		}
		// Last: servers that read the header as one media type (Orthanc
		// 1.10's DICOMweb plugin takes the last transfer-syntax) then send
		// the files as stored, without transcoding.
		ranges = append(ranges, mr+"*; q=0.5")
		accept = strings.Join(ranges, ", ")
	})
	return accept
}

var (
	acceptOnce sync.Once
	accept     string
)

// RetrieveSeries retrieves a series (WADO-RS GET
// {base}/studies/{s}/series/{se}) as a multipart/related stream of DICOM
// files. each is called once per part, in arrival order, with the part's
// bytes (a whole DICOM file, a fresh slice the callee may keep) as soon as
// the part has arrived; the stream is never held whole. total is the
// series' instance count when known (from QIDO-RS), else 0: a stream that
// ends cleanly with fewer parts is reported as truncated. An error returned
// by each stops the retrieval and is returned (wrapped).
func (c *Client) RetrieveSeries(ctx context.Context, studyUID, seriesUID string, total int, each func(i int, part []byte) error) error {
	if err := checkUID("study UID", studyUID); err != nil {
		return err
	}
	if err := checkUID("series UID", seriesUID); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the download when each fails
	resp, target, err := c.do(ctx, request{
		method: http.MethodGet,
		path:   "/studies/" + studyUID + "/series/" + seriesUID,
		accept: RetrieveAccept(),
	}, http.StatusOK)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	mr, err := newMultipartReader(resp.Body, resp.Header.Get("Content-Type"))
	if err != nil {
		return badResponse(http.MethodGet, target, "%v", err)
	}
	n := 0
	for {
		part, err := mr.next()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("GET %s: stopped after %d files: %w", target, n, ctx.Err())
			}
			return wrapStreamError(http.MethodGet, target, n, err)
		}
		if part == nil {
			break
		}
		if err := each(n, part); err != nil {
			return fmt.Errorf("GET %s: file %d: %w", target, n+1, err)
		}
		n++
	}
	if total > 0 && n < total {
		return fmt.Errorf("GET %s: %w: the server sent %d of the series' %d files", target, ErrTruncated, n, total)
	}
	return nil
}

// wrapStreamError names the request and how far the stream got.
func wrapStreamError(method, target string, parts int, err error) error {
	return fmt.Errorf("%s %s: after %d files: %w", method, target, parts, err)
}

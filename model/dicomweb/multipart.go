package dicomweb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/textproto"
	"strconv"
	"strings"
)

// Limits that keep a broken or hostile server from exhausting memory.
const (
	maxPart     = 1 << 30 // bytes of one DICOM file
	maxPreamble = 1 << 20 // bytes before the first boundary
	maxLine     = 8 << 10 // a boundary line
)

// multipartReader reads a multipart/related body (RFC 2046, RFC 2387) one
// part at a time. A part with a Content-Length header is read in one piece
// of exactly that size; one without is read up to its closing delimiter.
type multipartReader struct {
	r       *bufio.Reader
	tp      *textproto.Reader
	dash    []byte // "--" + boundary
	started bool
	done    bool
	parts   int // parts returned so far
}

// newMultipartReader returns a reader of body, whose Content-Type header is
// ct: multipart/related with a boundary and, if it says, of DICOM files.
func newMultipartReader(body io.Reader, ct string) (*multipartReader, error) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, params = parseMediaTypeLoose(ct)
	}
	if mt != "multipart/related" {
		return nil, fmt.Errorf("its content type is %q, not multipart/related", ct)
	}
	if t := params["type"]; t != "" && !strings.EqualFold(strings.TrimSpace(t), "application/dicom") {
		return nil, fmt.Errorf("it holds %q, not DICOM files (application/dicom)", t)
	}
	b := params["boundary"]
	if b == "" || len(b) > 200 {
		return nil, fmt.Errorf("its content type %q names no usable multipart boundary", ct)
	}
	r := bufio.NewReaderSize(body, 64<<10)
	return &multipartReader{r: r, tp: textproto.NewReader(r), dash: []byte("--" + b)}, nil
}

// parseMediaTypeLoose reads a Content-Type that mime.ParseMediaType
// refuses (servers write boundaries with characters a token may not hold,
// unquoted): the media type and its parameters split at ";" and "=".
func parseMediaTypeLoose(ct string) (string, map[string]string) {
	fields := strings.Split(ct, ";")
	params := map[string]string{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		params[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return strings.ToLower(strings.TrimSpace(fields[0])), params
}

// next returns the next part's body, or nil at the closing delimiter.
// Errors wrap ErrTruncated (the stream ended or broke) or ErrBadResponse
// (it is not a multipart stream of DICOM files).
func (m *multipartReader) next() ([]byte, error) {
	if m.done {
		return nil, nil
	}
	if !m.started {
		if err := m.skipPreamble(); err != nil {
			return nil, err
		}
		m.started = true
		if m.done {
			return nil, nil
		}
	}
	hdr, err := m.tp.ReadMIMEHeader()
	if err != nil {
		var pe textproto.ProtocolError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%w: the headers of file %d cannot be read (%v)", ErrBadResponse, m.parts+1, err)
		}
		return nil, m.fail(err, "in the headers of file %d", m.parts+1)
	}
	if ct := hdr.Get("Content-Type"); ct != "" && mediaType(ct) != "application/dicom" {
		return nil, fmt.Errorf("%w: file %d is %q, not application/dicom", ErrBadResponse, m.parts+1, ct)
	}
	var body []byte
	if cl := hdr.Get("Content-Length"); cl != "" {
		body, err = m.readSized(cl)
	} else {
		body, err = m.readDelimited()
	}
	if err != nil {
		return nil, err
	}
	if err := m.afterDelimiter(); err != nil {
		return nil, err
	}
	m.parts++
	return body, nil
}

// skipPreamble reads up to and including the first delimiter line.
func (m *multipartReader) skipPreamble() error {
	read := 0
	for read < maxPreamble {
		line, err := m.r.ReadSlice('\n')
		read += len(line)
		if bytes.HasPrefix(line, m.dash) {
			return m.delimiterRest(line[len(m.dash):], err)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) && read == 0 {
				return fmt.Errorf("%w: the answer is empty", ErrBadResponse)
			}
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: the answer holds no multipart boundary", ErrBadResponse)
			}
			return m.fail(err, "before the first file")
		}
	}
	return fmt.Errorf("%w: no multipart boundary in the first %d bytes", ErrBadResponse, maxPreamble)
}

// readSized reads a part body of the length given by its Content-Length
// header, then the delimiter that must follow it.
func (m *multipartReader) readSized(cl string) ([]byte, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: file %d has an invalid Content-Length %q", ErrBadResponse, m.parts+1, cl)
	}
	if n > maxPart {
		return nil, fmt.Errorf("%w: file %d is %d MB, larger than the %d MB this program reads", ErrBadResponse, m.parts+1, n>>20, maxPart>>20)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(m.r, body); err != nil {
		return nil, m.fail(err, "in the middle of file %d", m.parts+1)
	}
	want := append([]byte("\r\n"), m.dash...)
	got := make([]byte, len(want))
	if _, err := io.ReadFull(m.r, got); err != nil {
		return nil, m.fail(err, "after file %d, before its closing boundary", m.parts+1)
	}
	if !bytes.Equal(got, want) {
		return nil, fmt.Errorf("%w: file %d is not followed by the multipart boundary (its Content-Length is wrong)", ErrBadResponse, m.parts+1)
	}
	return body, nil
}

// readDelimited reads a part body up to "\r\n--boundary", consuming the
// delimiter.
func (m *multipartReader) readDelimited() ([]byte, error) {
	var body []byte
	for {
		chunk, err := m.r.ReadSlice('\n')
		body = append(body, chunk...)
		if len(body) > maxPart+2 {
			return nil, fmt.Errorf("%w: file %d is larger than the %d MB this program reads", ErrBadResponse, m.parts+1, maxPart>>20)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, m.fail(err, "in the middle of file %d", m.parts+1)
		}
		if !bytes.HasSuffix(body, []byte("\r\n")) {
			continue
		}
		peek, err := m.r.Peek(len(m.dash))
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, m.fail(err, "in the middle of file %d", m.parts+1)
		}
		if bytes.Equal(peek, m.dash) {
			m.r.Discard(len(m.dash))
			return body[:len(body)-2], nil
		}
	}
}

// afterDelimiter reads the rest of a delimiter line: "--" closes the
// stream, anything else but transport padding is an error.
func (m *multipartReader) afterDelimiter() error {
	line, err := m.r.ReadSlice('\n')
	if len(line) > maxLine {
		return fmt.Errorf("%w: a multipart boundary line is too long", ErrBadResponse)
	}
	return m.delimiterRest(line, err)
}

// delimiterRest interprets what follows "--boundary" on its line (rest,
// read with error err).
func (m *multipartReader) delimiterRest(rest []byte, err error) error {
	if bytes.HasPrefix(rest, []byte("--")) {
		m.done = true // the closing delimiter; the epilogue is ignored
		return nil
	}
	if err != nil {
		return m.fail(err, "after file %d, without the closing boundary", m.parts)
	}
	if len(bytes.TrimRight(rest, " \t\r\n")) != 0 {
		return fmt.Errorf("%w: unexpected text %q after a multipart boundary", ErrBadResponse, printable(rest))
	}
	return nil
}

// fail wraps a read error: the stream ended (io.EOF) or broke (anything
// else) at the place where says.
func (m *multipartReader) fail(err error, where string, args ...any) error {
	at := fmt.Sprintf(where, args...)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the stream ended %s", ErrTruncated, at)
	}
	if errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("%w: a line %s is too long", ErrBadResponse, at)
	}
	return fmt.Errorf("%w: the connection broke %s: %w", ErrTruncated, at, err)
}

package dicomweb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// part writes one multipart part of body, with a Content-Length header
// when sized.
func part(boundary, body string, sized bool) string {
	h := "--" + boundary + "\r\nContent-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1\r\n"
	if sized {
		h += fmt.Sprintf("Content-Length: %d\r\n", len(body))
	}
	return h + "\r\n" + body + "\r\n"
}

func TestMultipartReader(t *testing.T) {
	// Bodies with the characters a delimiter search can trip on.
	bodies := []string{"DICM\r\n--not-the-boundary\r\n", "", "\r\n\r\n--b\r\n--", strings.Repeat("x\n", 70000)}
	stream := func(boundary string, sized bool) string {
		var s strings.Builder
		s.WriteString("preamble to ignore\r\n")
		for _, b := range bodies {
			s.WriteString(part(boundary, b, sized))
		}
		s.WriteString("--" + boundary + "--\r\nepilogue")
		return s.String()
	}
	for _, tc := range []struct {
		name, ct, body string
		want           []string
		err            error
	}{
		{"sized", `multipart/related; type="application/dicom"; boundary=abc`, stream("abc", true), bodies, nil},
		{"delimited", `multipart/related; type="application/dicom"; boundary=abc`, stream("abc", false), bodies, nil},
		{"quoted boundary with transfer-syntax", `multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.80; boundary="a:b=c"`, stream("a:b=c", true), bodies, nil},
		{"unquoted boundary a token may not hold", `multipart/related; type=application/dicom; boundary=a:b=c/d`, stream("a:b=c/d", false), bodies, nil},
		{"no parts", `multipart/related; boundary=abc`, "--abc--\r\n", nil, nil},
		{"no closing newline", `multipart/related; boundary=abc`, part("abc", "x", true) + "--abc--", []string{"x"}, nil},
		{"truncated in a sized part", `multipart/related; boundary=abc`, stream("abc", true)[:200], bodies[:1], ErrTruncated},
		{"truncated in a delimited part", `multipart/related; boundary=abc`, stream("abc", false)[:200], bodies[:1], ErrTruncated},
		{"truncated in headers", `multipart/related; boundary=abc`, "--abc\r\nContent-Type: appl", nil, ErrTruncated},
		// A part is handed over when the delimiter after it has arrived.
		{"no delimiter after the last part", `multipart/related; boundary=abc`, part("abc", "x", true), nil, ErrTruncated},
		{"delimiter cut", `multipart/related; boundary=abc`, part("abc", "x", true) + "--ab", nil, ErrTruncated},
		{"no closing delimiter", `multipart/related; boundary=abc`, part("abc", "x", true) + "--abc\r\n", []string{"x"}, ErrTruncated},
		{"empty answer", `multipart/related; boundary=abc`, "", nil, ErrBadResponse},
		{"no boundary in the body", `multipart/related; boundary=abc`, "<html>hello</html>", nil, ErrBadResponse},
		{"wrong Content-Length", `multipart/related; boundary=abc`, "--abc\r\nContent-Length: 2\r\n\r\nxyz\r\n--abc--", nil, ErrBadResponse},
		{"part not DICOM", `multipart/related; boundary=abc`, "--abc\r\nContent-Type: text/plain\r\n\r\nhi\r\n--abc--", nil, ErrBadResponse},
		{"garbage after boundary", `multipart/related; boundary=abc`, "--abc junk\r\n\r\nhi\r\n--abc--", nil, ErrBadResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One byte at a time: parts must not depend on how the body arrives.
			mr, err := newMultipartReader(iotest.OneByteReader(strings.NewReader(tc.body)), tc.ct)
			if err != nil {
				t.Fatalf("newMultipartReader: got error %v, want nil", err)
			}
			var got []string
			for {
				p, err := mr.next()
				if err != nil {
					if tc.err == nil || !errors.Is(err, tc.err) {
						t.Fatalf("after %d parts: got error %v, want %v", len(got), err, tc.err)
					}
					break
				}
				if p == nil {
					if tc.err != nil {
						t.Fatalf("after %d parts: got the end, want error %v", len(got), tc.err)
					}
					break
				}
				got = append(got, string(p))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d parts, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("part %d: got %q, want %q", i, trunc(got[i]), trunc(tc.want[i]))
				}
			}
		})
	}
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func TestMultipartContentType(t *testing.T) {
	for _, tc := range []struct{ ct, want string }{
		{`application/dicom+json`, "not multipart/related"},
		{`text/html; charset=utf-8`, "not multipart/related"},
		{`multipart/related; type="application/octet-stream"; boundary=x`, "not DICOM files"},
		{`multipart/related; type="application/dicom"`, "no usable multipart boundary"},
		{``, "not multipart/related"},
	} {
		_, err := newMultipartReader(strings.NewReader(""), tc.ct)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Content-Type %q: got error %v, want one saying %q", tc.ct, err, tc.want)
		}
	}
}

// A connection that breaks (not a clean end) is truncation too, and keeps
// the underlying error.
func TestMultipartBrokenConnection(t *testing.T) {
	broken := errors.New("connection reset by peer")
	body := io.MultiReader(strings.NewReader(part("abc", "xyz", true)+"--abc\r\n\r\nhal"), iotest.ErrReader(broken))
	mr, err := newMultipartReader(body, `multipart/related; boundary=abc`)
	if err != nil {
		t.Fatalf("newMultipartReader: got error %v, want nil", err)
	}
	if p, err := mr.next(); err != nil || !bytes.Equal(p, []byte("xyz")) {
		t.Fatalf("first part: got %q, %v; want \"xyz\", nil", p, err)
	}
	_, err = mr.next()
	if !errors.Is(err, ErrTruncated) || !errors.Is(err, broken) {
		t.Errorf("got %v, want an error wrapping ErrTruncated and the connection's error", err)
	}
}

// Package dicomweb is a client of a PACS's DICOMweb services (DICOM PS3.18):
// study and series search (QIDO-RS, answers in the DICOM JSON model),
// retrieval of a series (WADO-RS, a multipart/related stream of DICOM files,
// handed over part by part as they arrive) and storage (STOW-RS).
//
// It is plain Go over net/http and builds for GOOS=js GOARCH=wasm too, where
// net/http uses the browser's fetch (streaming response bodies), so the
// browser's worker and the native command-line tool share it.
//
// Every error names the request's method and URL and says the reason in
// plain words. Refused credentials wrap ErrUnauthorized, an answer that is
// not DICOMweb wraps ErrBadResponse, a stream that ends early wraps
// ErrTruncated, and any other HTTP status is an *HTTPError.
package dicomweb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Auth says how the client authenticates. The zero value sends no
// credentials.
type Auth struct {
	// User and Password: HTTP basic authentication when User != "".
	User, Password string
	// Token: "Authorization: Bearer <Token>" when Token != "".
	Token string
}

// Client talks to one DICOMweb server.
type Client struct {
	base *url.URL
	auth Auth
	hc   Doer
}

// Doer sends one HTTP request and returns its response; *http.Client is
// one. The browser's worker passes its own, over fetch, so that it does
// not link net/http's client (about a megabyte of WebAssembly).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// New returns a client of the DICOMweb root base (for example
// http://127.0.0.1:8042/dicom-web). hc nil means http.DefaultClient.
// Credentials go in auth, never in the URL.
func New(base string, auth Auth, hc *http.Client) (*Client, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	return NewDoer(base, auth, hc)
}

// NewDoer is New with any Doer sending the requests (d must not be nil).
func NewDoer(base string, auth Auth, d Doer) (*Client, error) {
	if d == nil {
		return nil, errors.New("dicomweb: no HTTP client")
	}
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil {
		return nil, fmt.Errorf("dicomweb: the address %q is not a URL: %w", base, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("dicomweb: the address %q must start with http:// or https://", base)
	case u.Host == "":
		return nil, fmt.Errorf("dicomweb: the address %q names no server", base)
	case u.User != nil:
		return nil, fmt.Errorf("dicomweb: the address %s holds credentials; give them as user and password or token instead", redact(u))
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("dicomweb: the address %q must be the DICOMweb root, without ? or #", base)
	case auth.User != "" && auth.Token != "":
		return nil, errors.New("dicomweb: give either a user name and password or a token, not both")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return &Client{base: u, auth: auth, hc: d}, nil
}

// Base returns the DICOMweb root the client talks to, without a trailing
// slash.
func (c *Client) Base() string { return c.base.String() }

// redact returns u without its password.
func redact(u *url.URL) string { return u.Redacted() }

// Sentinel errors, for errors.Is.
var (
	// ErrUnauthorized: the server refused the request's credentials (or
	// their absence): HTTP 401 or 403.
	ErrUnauthorized = errors.New("the server refused access (check the user name and password, or the token)")
	// ErrBadResponse: the server answered something that is not DICOMweb
	// (wrong content type, JSON or multipart that cannot be read).
	ErrBadResponse = errors.New("the server's answer is not DICOMweb")
	// ErrTruncated: the answer ended, or the connection broke, in the
	// middle of the data.
	ErrTruncated = errors.New("the server's answer ended too early")
	// ErrUnreachable: no answer at all (wrong address, server down, or, in
	// a browser, a server that does not allow this page to connect).
	ErrUnreachable = errors.New("the server cannot be reached")
)

// HTTPError is an HTTP status other than the one expected. It wraps
// ErrUnauthorized for 401 and 403.
type HTTPError struct {
	Method, URL string
	Status      int
	// Body is the start of the answer's body, as text.
	Body string
}

func (e *HTTPError) Error() string {
	var why string
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		why = ErrUnauthorized.Error()
	case http.StatusNotFound:
		why = "not found (check the address of the DICOMweb root and the UIDs)"
	case http.StatusNotAcceptable:
		why = "the server cannot send the data in any form this program reads"
	default:
		why = "the server answered with an error"
	}
	msg := fmt.Sprintf("%s %s: %s (HTTP %d %s)", e.Method, e.URL, why, e.Status, http.StatusText(e.Status))
	if b := strings.TrimSpace(e.Body); b != "" {
		msg += ": " + b
	}
	return msg
}

// Unwrap returns ErrUnauthorized for 401 and 403.
func (e *HTTPError) Unwrap() error {
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		return ErrUnauthorized
	}
	return nil
}

// maxErrorBody is how much of an error answer's body goes into HTTPError.
const maxErrorBody = 512

// request is one HTTP exchange of the client.
type request struct {
	method, path string
	query        url.Values
	accept       string
	contentType  string
	body         io.Reader
	length       int64
}

// url returns the request's full URL.
func (c *Client) url(path string, q url.Values) string {
	u := *c.base
	u.Path += path
	u.RawQuery = encodeQuery(q)
	return u.String()
}

// encodeQuery encodes q like url.Values.Encode (sorted by key) but escapes
// only what a query cannot hold as it is: "&", "+", "=", "%", "#", spaces,
// quotes, angle brackets, control and non-ASCII bytes. DICOM wildcards (*
// and ?) and name separators (^) stay as they are, as a browser sends them:
// some servers (Orthanc 1.10's DICOMweb plugin) match query values without
// decoding them.
func encodeQuery(q url.Values) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(q)) {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(escapeQuery(k))
			b.WriteByte('=')
			b.WriteString(escapeQuery(v))
		}
	}
	return b.String()
}

func escapeQuery(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("&+=%#\"<>'`", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// do sends r and returns the response when its status is one of ok;
// otherwise the body is read (a little) and closed, and the error is an
// *HTTPError. The caller closes the returned body.
func (c *Client) do(ctx context.Context, r request, ok ...int) (*http.Response, string, error) {
	target := c.url(r.path, r.query)
	req, err := http.NewRequestWithContext(ctx, r.method, target, r.body)
	if err != nil {
		return nil, target, fmt.Errorf("%s %s: %w", r.method, target, err)
	}
	if r.body != nil {
		req.ContentLength = r.length
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	switch {
	case c.auth.User != "":
		req.SetBasicAuth(c.auth.User, c.auth.Password)
	case c.auth.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.auth.Token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, target, fmt.Errorf("%s %s: %w", r.method, target, ctx.Err())
		}
		return nil, target, fmt.Errorf("%s %s: %w: %w", r.method, target, ErrUnreachable, unwrapURLError(err))
	}
	for _, s := range ok {
		if resp.StatusCode == s {
			return resp, target, nil
		}
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	return nil, target, &HTTPError{Method: r.method, URL: target, Status: resp.StatusCode, Body: printable(b)}
}

// unwrapURLError drops *url.Error's repetition of the method and URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// printable returns b as one line of text, control characters and invalid
// UTF-8 replaced, so that a binary answer cannot garble a message.
func printable(b []byte) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return '.'
		}
		return r
	}, strings.ToValidUTF8(string(b), "."))), " ")
}

// badResponse returns an error wrapping ErrBadResponse that names the
// request.
func badResponse(method, target, format string, args ...any) error {
	return fmt.Errorf("%s %s: %w: %s", method, target, ErrBadResponse, fmt.Sprintf(format, args...))
}

// checkUID returns an error unless uid is a DICOM UID (digits and dots, at
// most 64 characters), so that it can go into a URL path as it is.
func checkUID(what, uid string) error {
	if uid == "" || len(uid) > 64 {
		return fmt.Errorf("dicomweb: %s %q is not a DICOM UID", what, uid)
	}
	for _, r := range uid {
		if (r < '0' || r > '9') && r != '.' {
			return fmt.Errorf("dicomweb: %s %q is not a DICOM UID (only digits and dots)", what, uid)
		}
	}
	return nil
}

// mediaType returns the media type of a Content-Type header, lower-cased,
// without parameters.
func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

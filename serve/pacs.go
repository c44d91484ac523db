package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"html"
	"net/url"
	"os"
	"strings"
)

// The page may talk to a PACS over DICOMweb in two ways, both set when serve
// starts and nowhere else:
//
//   - directly, to the PACS listed with -dicomweb URL (repeatable): their
//     origins join 'self' in the Content-Security-Policy's connect-src (the
//     PACS must allow this page's origin with CORS);
//   - through serve's same-origin proxy (-dicomweb-proxy URL) at /dicom-web,
//     which forwards only DICOMweb search, retrieval and storage requests to
//     that one PACS (for a PACS without CORS).
//
// The page learns them from its <meta name="sscscore-dicomweb"> tag, which
// serve fills when it loads the site: the DICOMweb roots separated by
// spaces, the proxy's "/dicom-web" first when it is on.

// proxyPrefix is the path of the same-origin DICOMweb proxy.
const proxyPrefix = "/dicom-web"

// Environment variables holding the proxy's credentials, so that they need
// not be on the command line.
const (
	envProxyPassword = "SSCSCORE_DICOMWEB_PROXY_PASSWORD"
	envProxyToken    = "SSCSCORE_DICOMWEB_PROXY_TOKEN"
)

// pacsConfig is the DICOMweb configuration of the served page.
type pacsConfig struct {
	// direct are the -dicomweb roots, in flag order.
	direct []*url.URL
	// proxy is the -dicomweb-proxy root (nil when off) and proxyAuth the
	// credentials the proxy adds (none unless configured).
	proxy     *url.URL
	proxyAuth proxyAuth
}

// proxyAuth are the credentials the proxy sends to the PACS.
type proxyAuth struct {
	user, password, token string
}

// pacsFlags registers serve's DICOMweb flags and returns a function that
// checks them after parsing.
func pacsFlags(fs *flag.FlagSet) func() (pacsConfig, error) {
	var direct []string
	fs.Func("dicomweb", "let the page talk to the DICOMweb server at `URL` (its root, e.g. http://pacs:8042/dicom-web; repeatable): its origin joins the Content-Security-Policy's connect-src, and the page offers it", func(v string) error {
		direct = append(direct, v)
		return nil
	})
	proxy := fs.String("dicomweb-proxy", "", "serve a same-origin proxy at "+proxyPrefix+"/ to the DICOMweb server at `URL`, forwarding only searches (QIDO-RS), retrievals (WADO-RS) and storage (STOW-RS)")
	user := fs.String("dicomweb-proxy-user", "", "user name the proxy sends to its DICOMweb server (HTTP basic; default: none, the page's own credentials pass through)")
	password := fs.String("dicomweb-proxy-password", "", "password of -dicomweb-proxy-user (default: $"+envProxyPassword+")")
	token := fs.String("dicomweb-proxy-token", "", "bearer token the proxy sends to its DICOMweb server (default: $"+envProxyToken+")")
	return func() (pacsConfig, error) {
		var c pacsConfig
		for _, d := range direct {
			u, err := parseRoot("-dicomweb", d)
			if err != nil {
				return c, err
			}
			c.direct = append(c.direct, u)
		}
		a := proxyAuth{user: *user, password: *password, token: *token}
		if a.user != "" && a.password == "" {
			a.password = os.Getenv(envProxyPassword)
		}
		if a.user == "" && a.token == "" {
			a.token = os.Getenv(envProxyToken)
		}
		if *proxy == "" {
			if *user != "" || *token != "" || *password != "" {
				return c, errors.New("-dicomweb-proxy-user, -password and -token need -dicomweb-proxy")
			}
			return c, nil
		}
		if a.user != "" && a.token != "" {
			return c, errors.New("give the proxy either -dicomweb-proxy-user or -dicomweb-proxy-token, not both")
		}
		u, err := parseRoot("-dicomweb-proxy", *proxy)
		if err != nil {
			return c, err
		}
		c.proxy, c.proxyAuth = u, a
		return c, nil
	}
}

// parseRoot checks a DICOMweb root URL given to flag name.
func parseRoot(name, v string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(v))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s %q: not a URL: %w", name, v, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%s %q: the URL must start with http:// or https://", name, v)
	case u.Host == "":
		return nil, fmt.Errorf("%s %q: the URL names no server", name, v)
	case u.User != nil:
		return nil, fmt.Errorf("%s %s: no credentials in the URL (use -dicomweb-proxy-user or -token for the proxy; the page asks for its own)", name, u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%s %q: the URL must be the DICOMweb root, without ? or #", name, v)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// origin returns scheme://host[:port] of u.
func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// bases returns the DICOMweb roots the page is told about, space
// separated: the proxy first when it is on (unless static), then the
// direct ones.
func (c pacsConfig) bases(static bool) string {
	var b []string
	if c.proxy != nil && !static {
		b = append(b, proxyPrefix)
	}
	for _, u := range c.direct {
		b = append(b, u.String())
	}
	return strings.Join(b, " ")
}

// csp returns the Content-Security-Policy with the direct PACS origins in
// connect-src.
func (c pacsConfig) csp() string {
	return cspWith(ContentSecurityPolicy, c.direct)
}

// cspWith adds the origins of roots after 'self' in policy's connect-src.
func cspWith(policy string, roots []*url.URL) string {
	if len(roots) == 0 {
		return policy
	}
	var add []string
	seen := map[string]bool{}
	for _, u := range roots {
		if o := origin(u); !seen[o] {
			seen[o] = true
			add = append(add, o)
		}
	}
	return strings.Replace(policy, "connect-src 'self'", "connect-src 'self' "+strings.Join(add, " "), 1)
}

// The page's tags that serve fills in.
var (
	pacsMeta = []byte(`<meta name="sscscore-dicomweb" content="">`)
	cspMeta  = []byte(`connect-src 'self';`)
)

// configurePage writes the PACS configuration into index.html: the
// sscscore-dicomweb meta tag's content, and the direct PACS origins into
// the page's own CSP meta tag (which can only narrow the header's, so both
// must list them). It returns warnings when the page lacks a tag.
func (c pacsConfig) configurePage(page []byte, static bool) ([]byte, []string) {
	bases := c.bases(static)
	if bases == "" {
		return page, nil
	}
	var warn []string
	if bytes.Contains(page, pacsMeta) {
		filled := []byte(`<meta name="sscscore-dicomweb" content="` + html.EscapeString(bases) + `">`)
		page = bytes.Replace(page, pacsMeta, filled, 1)
	} else {
		warn = append(warn, "index.html has no <meta name=\"sscscore-dicomweb\" content=\"\"> tag: the page cannot learn the DICOMweb servers")
	}
	if len(c.direct) > 0 {
		if i := bytes.Index(page, []byte(`http-equiv="Content-Security-Policy"`)); i >= 0 && bytes.Contains(page[i:], cspMeta) {
			with := cspWith("connect-src 'self';", c.direct)
			page = append(page[:i:i], bytes.Replace(page[i:], cspMeta, []byte(with), 1)...)
		} else if bytes.Contains(page, []byte("Content-Security-Policy")) {
			warn = append(warn, "index.html's Content-Security-Policy meta tag has no \"connect-src 'self';\" to extend: the page may not reach the -dicomweb servers")
		}
	}
	return page, warn
}

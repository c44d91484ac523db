package dicomweb

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"sscscore/model/codec"
	"sscscore/model/ingest"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		base     string
		auth     Auth
		wantBase string
		wantErr  string
	}{
		{"http://127.0.0.1:8042/dicom-web", Auth{}, "http://127.0.0.1:8042/dicom-web", ""},
		{" https://pacs.example/dicom-web/ ", Auth{Token: "t"}, "https://pacs.example/dicom-web", ""},
		{"http://pacs:8042", Auth{User: "u"}, "http://pacs:8042", ""},
		{"ftp://pacs/dicom-web", Auth{}, "", "must start with http:// or https://"},
		{"pacs:8042/dicom-web", Auth{}, "", "must start with http:// or https://"},
		{"http:///dicom-web", Auth{}, "", "names no server"},
		{"http://alice:secret@pacs/dicom-web", Auth{}, "", "holds credentials"},
		{"http://pacs/dicom-web?x=1", Auth{}, "", "without ? or #"},
		{"http://pacs/dicom-web", Auth{User: "u", Token: "t"}, "", "not both"},
		{"http://pa cs/", Auth{}, "", "not a URL"},
	} {
		c, err := New(tc.base, tc.auth, nil)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("New(%q): got error %v, want one saying %q", tc.base, err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("New(%q): got error %q showing the password, want it hidden", tc.base, err)
			}
		case err != nil:
			t.Errorf("New(%q): got error %v, want nil", tc.base, err)
		case c.Base() != tc.wantBase:
			t.Errorf("New(%q).Base() = %q, want %q", tc.base, c.Base(), tc.wantBase)
		}
	}
}

// The Accept header asks for every transfer syntax ingestion reads (the
// native ones and each registered decoder's), one media range each, then
// any syntax as a fallback, last.
func TestRetrieveAccept(t *testing.T) {
	a := RetrieveAccept()
	ranges := strings.Split(a, ", ")
	syntaxes := ingest.TransferSyntaxes()
	if len(ranges) != len(syntaxes)+1 {
		t.Fatalf("got %d media ranges, want %d: %s", len(ranges), len(syntaxes)+1, a)
	}
	for i, ts := range syntaxes {
		want := `multipart/related; type="application/dicom"; transfer-syntax=` + ts
		if ranges[i] != want {
			t.Errorf("range %d: got %q, want %q", i, ranges[i], want)
		}
	}
	if last := ranges[len(ranges)-1]; !strings.Contains(last, "transfer-syntax=*") {
		t.Errorf("last range %q, want the transfer-syntax=* fallback", last)
	}
	for _, ts := range append(codec.Registered(), "1.2.840.10008.1.2.1", "1.2.840.10008.1.2") {
		if !strings.Contains(a, "transfer-syntax="+ts+",") {
			t.Errorf("Accept: got %q, want it to list %s (%s)", a, ts, codec.SyntaxName(ts))
		}
	}
}

// DICOM JSON values (PS3.18 F.2): strings, numbers (IS and DS may come as
// numbers or strings), person names by their groups, absent values.
func TestObjectValues(t *testing.T) {
	var o object
	err := json.Unmarshal([]byte(`{
		"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^Jane", "Ideographic": "X"}]},
		"00100011": {"vr": "PN", "Value": [{"Ideographic": "山田^太郎"}]},
		"00080061": {"vr": "CS", "Value": ["CT", "SR"]},
		"00201208": {"vr": "IS", "Value": [30]},
		"00201209": {"vr": "IS", "Value": ["99"]},
		"00200011": {"vr": "IS", "Value": [3.0]},
		"00080050": {"vr": "SH"},
		"00081030": {"vr": "LO", "Value": [null]},
		"0020000e": {"vr": "UI", "Value": ["1.2.3"]}
	}`), &o)
	if err != nil {
		t.Fatalf("json.Unmarshal: got error %v, want nil", err)
	}
	for _, tc := range []struct{ tag, want string }{
		{tagPatientName, "Doe^Jane"},
		{"00100011", "山田^太郎"},
		{tagModalitiesInStudy, "CT"},
		{tagAccessionNumber, ""},
		{tagStudyDescription, ""},
		{tagSeriesInstanceUID, "1.2.3"},
		{tagPatientID, ""},
	} {
		if got := o.str(tc.tag); got != tc.want {
			t.Errorf("str(%s) = %q, want %q", tc.tag, got, tc.want)
		}
	}
	for _, tc := range []struct {
		tag  string
		want int
	}{{tagNumStudyInstances, 30}, {tagNumSeriesInstances, 99}, {tagSeriesNumber, 3}, {tagNumStudySeries, 0}} {
		if got := o.int(tc.tag); got != tc.want {
			t.Errorf("int(%s) = %d, want %d", tc.tag, got, tc.want)
		}
	}
	if got := o.strs(tagModalitiesInStudy); len(got) != 2 || got[1] != "SR" {
		t.Errorf("strs(ModalitiesInStudy) = %q, want [CT SR]", got)
	}
}

func TestBadArguments(t *testing.T) {
	c, err := New("http://127.0.0.1:1/dicom-web", Auth{}, nil)
	if err != nil {
		t.Fatalf("New: got error %v, want nil", err)
	}
	ctx := context.Background()
	nothing := func(int, []byte) error { return nil }
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"date", func() error { _, err := c.SearchStudies(ctx, StudyQuery{DateFrom: "2007-04-25"}); return err }(), "not a date as YYYYMMDD"},
		{"study UID", func() error { _, err := c.SearchSeries(ctx, "1.2/../x"); return err }(), "not a DICOM UID"},
		{"series UID", c.RetrieveSeries(ctx, "1.2", "", 0, nothing), "not a DICOM UID"},
		{"store nothing", c.Store(ctx), "no files"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one saying %q", tc.name, tc.err, tc.want)
		}
	}
}

// closedURL returns the URL of a loopback port nobody listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen: got error %v, want nil", err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/dicom-web"
}

func TestUnreachable(t *testing.T) {
	base := closedURL(t)
	c, err := New(base, Auth{}, nil)
	if err != nil {
		t.Fatalf("New: got error %v, want nil", err)
	}
	_, err = c.SearchStudies(context.Background(), StudyQuery{PatientID: "X"})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), base+"/studies?") {
		t.Errorf("got %v, want ErrUnreachable naming %s/studies", err, base)
	}
}

// Servers that answer something other than DICOMweb, or stop in the middle
// of a series. (Real servers do this when misconfigured or overloaded; a
// well-behaved Orthanc cannot be made to, hence httptest here.)
func TestBadServers(t *testing.T) {
	const study, series = "1.2.3", "1.2.3.4"
	part := "--b\r\nContent-Type: application/dicom\r\nContent-Length: 4\r\n\r\nDICM\r\n"
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		parts   int   // parts handed over before the error
		err     error // of RetrieveSeries
		search  error // of SearchStudies
	}{
		{"HTML page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body>Welcome to nginx!</body></html>"))
		}, 0, ErrBadResponse, ErrBadResponse},
		{"garbage JSON and multipart", func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/studies") {
				w.Header().Set("Content-Type", "application/dicom+json")
				w.Write([]byte(`[{"0020000D": {"vr": "UI", "Value": [`))
				return
			}
			w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=b`)
			w.Write([]byte("\x00\x01 not multipart at all"))
		}, 0, ErrBadResponse, ErrBadResponse},
		{"stops mid-stream", func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/studies") {
				w.Header().Set("Content-Type", "application/dicom+json")
				w.Write([]byte(`[{"0020000D": {"vr": "UI", "Value": ["1.2.3"]}}, {"00`))
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler) // drops the connection
			}
			w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=b`)
			w.Write([]byte(part + part + "--b\r\nContent-Length: 4\r\n\r\nDI"))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}, 2, ErrTruncated, ErrTruncated},
		{"fewer files than listed", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=b`)
			w.Write([]byte(part + "--b--\r\n"))
		}, 1, ErrTruncated, ErrBadResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			c, err := New(srv.URL+"/dicom-web", Auth{}, nil)
			if err != nil {
				t.Fatalf("New: got error %v, want nil", err)
			}
			var got int
			err = c.RetrieveSeries(context.Background(), study, series, 3, func(i int, p []byte) error {
				if i != got || string(p) != "DICM" {
					t.Errorf("part %d: got index %d, %q; want %d, \"DICM\"", got, i, p, got)
				}
				got++
				return nil
			})
			url := srv.URL + "/dicom-web/studies/" + study + "/series/" + series
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), url) {
				t.Errorf("retrieve: got %v, want %v naming %s", err, tc.err, url)
			}
			if got != tc.parts {
				t.Errorf("retrieve: got %d parts before the error, want %d", got, tc.parts)
			}
			_, err = c.SearchStudies(context.Background(), StudyQuery{})
			if !errors.Is(err, tc.search) || !strings.Contains(err.Error(), srv.URL+"/dicom-web/studies?") {
				t.Errorf("search: got %v, want %v naming the URL", err, tc.search)
			}
		})
	}
}

// An error returned by each stops the retrieval and comes back wrapped.
func TestRetrieveStops(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=b`)
		for range 5 {
			w.Write([]byte("--b\r\n\r\nDICM\r\n"))
		}
		w.Write([]byte("--b--"))
	}))
	defer srv.Close()
	c, err := New(srv.URL, Auth{}, nil)
	if err != nil {
		t.Fatalf("New: got error %v, want nil", err)
	}
	stop := errors.New("enough")
	n := 0
	err = c.RetrieveSeries(context.Background(), "1", "2", 0, func(i int, p []byte) error {
		n++
		if i == 1 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("got %v after %d parts, want %v after 2", err, n, stop)
	}
}

func TestEncodeQuery(t *testing.T) {
	got := encodeQuery(map[string][]string{
		"PatientName":  {"Doe^J* ?"},
		"PatientID":    {"a&b=c+d%e#f"},
		"includefield": {"00081030", "00080061"},
		"x":            {"é\"<>'`\x01"},
	})
	want := "PatientID=a%26b%3Dc%2Bd%25e%23f&PatientName=Doe^J*%20?&includefield=00081030&includefield=00080061&x=%C3%A9%22%3C%3E%27%60%01"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

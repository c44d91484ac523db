package main

import (
	"strings"
	"testing"

	"sscscore/model/dicomweb/orthanctest"
	"sscscore/model/shareddata"
)

func TestParseDICOMwebURL(t *testing.T) {
	for _, tc := range []struct {
		arg     string
		want    pacsRef
		wantErr string
	}{
		{"dicomweb://127.0.0.1:8042/dicom-web?study=1.2.3", pacsRef{"http://127.0.0.1:8042/dicom-web", "1.2.3", ""}, ""},
		{"dicomwebs://pacs.example/wado/rs?study=1.2&series=1.2.4", pacsRef{"https://pacs.example/wado/rs", "1.2", "1.2.4"}, ""},
		{"DICOMweb://pacs?series=1&study=2", pacsRef{"http://pacs", "2", "1"}, ""},
		{"dicomweb://pacs/dicom-web", pacsRef{}, "no study"},
		{"dicomweb://pacs/dicom-web?study=1&patient=x", pacsRef{}, `unknown parameter "patient"`},
		{"dicomweb://alice:secret@pacs/dicom-web?study=1", pacsRef{}, "--user"},
		{"http://pacs/dicom-web?study=1", pacsRef{}, "starts with dicomweb://"},
	} {
		got, err := parseDICOMwebURL(tc.arg)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: got error %v, want one saying %q (without the password)", tc.arg, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: got error %v, want nil", tc.arg, err)
		case got != tc.want:
			t.Errorf("%s: got %+v, want %+v", tc.arg, got, tc.want)
		}
	}
}

// TestScoreDICOMweb scores A0002 retrieved from a real Orthanc: the CSV and
// the JSON are those of the folder on disk.
func TestScoreDICOMweb(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	srv := orthanctest.Start(t, orthanctest.Options{User: "reader", Password: "pw"})
	srv.Upload(t, dir)
	t.Setenv(envPACSPassword, "pw")
	hostPath := strings.TrimPrefix(srv.DICOMweb, "http://")
	const study = "1.3.6.1.4.1.14519.5.2.1.6655.2359.104855313699639828167809534834"
	const series = "1.3.6.1.4.1.14519.5.2.1.6655.2359.207154000096236603057216610983"
	pacsURL := "dicomweb://" + hostPath + "?study=" + study

	for _, format := range []string{"--csv", "--json"} {
		want, errs, code := run(t, "score", format, "-q", dir)
		if code != 0 {
			t.Fatalf("score %s %s: exit %d: %s, want 0", format, dir, code, errs)
		}
		for _, u := range []string{pacsURL, pacsURL + "&series=" + series} {
			got, errs, code := run(t, "score", format, "--user", "reader", u)
			if code != 0 {
				t.Fatalf("score %s %s: exit %d: %s, want 0", format, u, code, errs)
			}
			if got != want {
				t.Errorf("score %s %s: got\n%s\nwant the folder's\n%s", format, u, got, want)
			}
			if !strings.Contains(errs, "PACS: 30/30 done") {
				t.Errorf("score %s %s: got stderr %q, want the retrieval progress \"PACS: 30/30 done\"", format, u, errs)
			}
		}
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong password", []string{"--user", "reader", "--password", "nope", pacsURL}, "refused access"},
		{"no credentials", []string{pacsURL}, "refused access"},
		{"unknown study", []string{"--user", "reader", "dicomweb://" + hostPath + "?study=1.2.3"}, "has no study 1.2.3"},
		{"unknown series", []string{"--user", "reader", pacsURL + "&series=1.2.3"}, "has no series 1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "no credentials" {
				t.Setenv(envPACSPassword, "")
			}
			_, errs, code := run(t, append([]string{"score", "-q"}, tc.args...)...)
			if code == 0 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, srv.DICOMweb) {
				t.Errorf("exit %d, stderr %q; want a failure saying %q and naming %s", code, errs, tc.want, srv.DICOMweb)
			}
		})
	}
}

package orthanctest

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"sscscore/model/shareddata"
)

// TestUploadCT loads the CT series the PACS tests use and checks that
// Orthanc holds every instance, in the transfer syntax it was sent in, and
// answers DICOMweb. The JPEG-LS transcode of A0002-B40f keeps its SOP
// Instance UIDs, so it goes to a server of its own.
func TestUploadCT(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rels      []string
		instances int
		series    int
		syntax    string // of the first instance
	}{
		{"A0002 and C3N-00247", []string{"chest-ct/A0002-B40f", "chest-ct/C3N-00247-B70f"}, 30 + 99, 2, "1.2.840.10008.1.2.1"},
		{"JPEG-LS transcode", []string{"chest-ct/A0002-B40f-jpegls"}, 30, 1, "1.2.840.10008.1.2.4.80"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var paths []string
			for _, rel := range tc.rels {
				paths = append(paths, shareddata.Path(t, rel))
			}
			srv := Start(t, Options{})
			srv.Upload(t, paths...)

			ctx := context.Background()
			var st struct{ CountInstances, CountSeries int }
			getJSON(t, srv, "/statistics", &st)
			if st.CountInstances != tc.instances || st.CountSeries != tc.series {
				t.Errorf("Orthanc holds %d instances in %d series, want %d in %d", st.CountInstances, st.CountSeries, tc.instances, tc.series)
			}
			var ids []string
			getJSON(t, srv, "/instances", &ids)
			if len(ids) == 0 {
				t.Fatalf("instances listed: got %d, want some", len(ids))
			}
			ts, err := srv.Get(ctx, "/instances/"+ids[0]+"/metadata/TransferSyntax")
			if err != nil {
				t.Fatalf("srv.Get: got error %v, want nil", err)
			}
			if got := string(ts); got != tc.syntax {
				t.Errorf("stored transfer syntax %q, want %q", got, tc.syntax)
			}
			var studies []map[string]any
			getJSON(t, srv, "/dicom-web/studies", &studies)
			if len(studies) == 0 {
				t.Errorf("studies listed by DICOMweb: got %d, want some", len(studies))
			}
		})
	}
}

func getJSON(t *testing.T, srv *Server, path string, v any) {
	t.Helper()
	body, err := srv.Get(context.Background(), path)
	if err != nil {
		t.Fatalf("srv.Get: got error %v, want nil", err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: got error %v, want nil", path, err)
	}
}

// TestAuth checks that a server with a user refuses requests without the
// right credentials and accepts them with.
func TestAuth(t *testing.T) {
	srv := Start(t, Options{User: "alice", Password: "s3cret"})
	for _, tc := range []struct {
		name, user, pass string
		want             int
	}{
		{"none", "", "", http.StatusUnauthorized},
		{"wrong password", "alice", "nope", http.StatusUnauthorized},
		{"right", "alice", "s3cret", http.StatusOK},
	} {
		req, err := http.NewRequest(http.MethodGet, srv.DICOMweb+"/studies", nil)
		if err != nil {
			t.Fatalf("http.NewRequest: got error %v, want nil", err)
		}
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("http.DefaultClient.Do: got error %v, want nil", err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: got status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
}

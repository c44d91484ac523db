package dicomweb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"sscscore/model/dcmwrite"
	"sscscore/model/dicomweb/orthanctest"
	"sscscore/model/ingest"
	"sscscore/model/shareddata"
	"sscscore/model/volume"
)

// UIDs of the shared test data (its INDEX.tsv).
const (
	a0002Study  = "1.3.6.1.4.1.14519.5.2.1.6655.2359.104855313699639828167809534834"
	a0002Series = "1.3.6.1.4.1.14519.5.2.1.6655.2359.207154000096236603057216610983"
	c3nStudy    = "1.3.6.1.4.1.14519.5.2.1.7085.2626.258626612405225511766549337110"
)

// TestOrthanc runs the client against a real Orthanc holding A0002-B40f
// and C3N-00247-B70f.
func TestOrthanc(t *testing.T) {
	a0002 := shareddata.Path(t, "chest-ct/A0002-B40f")
	c3n := shareddata.Path(t, "chest-ct/C3N-00247-B70f")
	srv := orthanctest.Start(t, orthanctest.Options{})
	srv.Upload(t, a0002, c3n)
	c, err := New(srv.DICOMweb, Auth{}, nil)
	if err != nil {
		t.Fatalf("New: got error %v, want nil", err)
	}
	ctx := context.Background()

	t.Run("search", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			q    StudyQuery
			want []string // study UIDs, in any order
		}{
			{"all CT", StudyQuery{}, []string{a0002Study, c3nStudy}},
			{"patient ID", StudyQuery{PatientID: "Lung_Dx-A0002"}, []string{a0002Study}},
			{"patient name with wildcard", StudyQuery{PatientName: "C3N*"}, []string{c3nStudy}},
			{"patient name in other case", StudyQuery{PatientName: "lung_dx-a0002"}, []string{a0002Study}},
			{"date range", StudyQuery{DateFrom: "20070101", DateTo: "20071231"}, []string{a0002Study}},
			{"date from", StudyQuery{DateFrom: "20100101"}, []string{c3nStudy}},
			{"date to", StudyQuery{DateTo: "20080101"}, []string{a0002Study}},
			{"one day", StudyQuery{DateFrom: "20100227", DateTo: "20100227"}, []string{c3nStudy}},
			{"accession", StudyQuery{AccessionNumber: "1598252606449858"}, []string{c3nStudy}},
			{"other modality", StudyQuery{Modality: "MR"}, nil},
			{"any modality", StudyQuery{Modality: "*", PatientID: "C3N-00247"}, []string{c3nStudy}},
			{"no match", StudyQuery{PatientID: "nobody"}, nil},
		} {
			got, err := c.SearchStudies(ctx, tc.q)
			if err != nil {
				t.Errorf("%s: got error %v, want nil", tc.name, err)
				continue
			}
			var uids []string
			for _, s := range got {
				uids = append(uids, s.UID)
			}
			slices.Sort(uids)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(uids, want) {
				t.Errorf("%s: got studies %q, want %q", tc.name, uids, want)
			}
		}
		got, err := c.SearchStudies(ctx, StudyQuery{Limit: 1})
		if err != nil || len(got) != 1 {
			t.Errorf("limit 1: got %d studies (%v), want 1", len(got), err)
		}
		got, err = c.SearchStudies(ctx, StudyQuery{PatientID: "Lung_Dx-A0002"})
		if err != nil || len(got) != 1 {
			t.Fatalf("A0002: got %d studies (%v), want 1", len(got), err)
		}
		want := Study{UID: a0002Study, PatientID: "Lung_Dx-A0002", PatientName: "Lung_Dx-A0002", Date: "20070425",
			Time: got[0].Time, Description: "Thorax^AThoraxRoutine (Adult)", Modalities: []string{"CT"}, NumSeries: 1, NumInstances: 30}
		if fmt.Sprint(got[0]) != fmt.Sprint(want) {
			t.Errorf("A0002:\n got %+v\nwant %+v", got[0], want)
		}
		if !strings.HasPrefix(got[0].Time, "173333") {
			t.Errorf("A0002 study time %q, want 173333...", got[0].Time)
		}
	})

	t.Run("series", func(t *testing.T) {
		got, err := c.SearchSeries(ctx, a0002Study)
		if err != nil {
			t.Fatalf("c.SearchSeries: got error %v, want nil", err)
		}
		want := []Series{{StudyUID: a0002Study, UID: a0002Series, Modality: "CT", Description: "ThoraxRoutine  8.0.0  B40f", Number: 3, NumInstances: 30}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
		got, err = c.SearchSeries(ctx, c3nStudy)
		if err != nil || len(got) != 1 || got[0].NumInstances != 99 || got[0].Description != "LUNG 3.0  B70f" {
			t.Errorf("C3N-00247: got %+v (%v), want one series of 99 instances, LUNG 3.0  B70f", got, err)
		}
	})

	t.Run("retrieve", func(t *testing.T) {
		files := retrieve(t, c, a0002Study, a0002Series, 30)
		sameVolume(t, files, a0002)
	})

	t.Run("unknown series", func(t *testing.T) {
		err := c.RetrieveSeries(ctx, a0002Study, "1.2.3.4", 0, func(int, []byte) error { return nil })
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != http.StatusNotFound {
			t.Errorf("got %v, want an HTTPError 404", err)
		}
	})

	t.Run("store then find", func(t *testing.T) {
		file := smallCT(t, "SSCSCORE-STOW-TEST")
		if err := c.Store(ctx, file); err != nil {
			t.Fatalf("c.Store: got error %v, want nil", err)
		}
		studies, err := c.SearchStudies(ctx, StudyQuery{PatientID: "SSCSCORE-STOW-TEST"})
		if err != nil || len(studies) != 1 || studies[0].NumInstances != 1 {
			t.Fatalf("got %+v (%v), want the one study stored, of one instance", studies, err)
		}
		series, err := c.SearchSeries(ctx, studies[0].UID)
		if err != nil || len(series) != 1 {
			t.Fatalf("got series %+v (%v), want one", series, err)
		}
		got := retrieve(t, c, studies[0].UID, series[0].UID, 1)
		if !bytes.Equal(got[0].data, file) {
			t.Errorf("retrieved: got %d bytes, want the %d bytes stored", len(got[0].data), len(file))
		}
	})

	t.Run("store refused", func(t *testing.T) {
		err := c.Store(ctx, []byte("this is not a DICOM file"))
		if err == nil || !strings.Contains(err.Error(), srv.DICOMweb+"/studies") {
			t.Errorf("got %v, want an error naming %s/studies", err, srv.DICOMweb)
		}
	})
}

// TestOrthancJPEGLS retrieves the JPEG-LS transcode of A0002-B40f: it
// arrives compressed (as stored) and decodes to the voxels of the original.
func TestOrthancJPEGLS(t *testing.T) {
	jls := shareddata.Path(t, "chest-ct/A0002-B40f-jpegls")
	a0002 := shareddata.Path(t, "chest-ct/A0002-B40f")
	srv := orthanctest.Start(t, orthanctest.Options{})
	srv.Upload(t, jls)
	c, err := New(srv.DICOMweb, Auth{}, nil)
	if err != nil {
		t.Fatalf("New: got error %v, want nil", err)
	}
	series, err := c.SearchSeries(context.Background(), a0002Study)
	if err != nil || len(series) != 1 {
		t.Fatalf("got series %+v (%v), want one", series, err)
	}
	files := retrieve(t, c, a0002Study, series[0].UID, series[0].NumInstances)
	if len(files) != 30 {
		t.Fatalf("got %d files, want 30", len(files))
	}
	inv := scan(t, files)
	s, err := inv.Lookup(inv.Chosen)
	if err != nil {
		t.Fatalf("inv.Lookup: got error %v, want nil", err)
	}
	if s.TransferSyntax != "JPEG-LS lossless" {
		t.Errorf("retrieved series' transfer syntax %q, want JPEG-LS lossless", s.TransferSyntax)
	}
	sameVolume(t, files, a0002)
}

// TestOrthancAuth: a server that wants HTTP basic authentication refuses
// wrong or missing credentials with ErrUnauthorized and accepts the right
// ones.
func TestOrthancAuth(t *testing.T) {
	srv := orthanctest.Start(t, orthanctest.Options{User: "alice", Password: "s3cret"})
	for _, tc := range []struct {
		name string
		auth Auth
		ok   bool
	}{
		{"none", Auth{}, false},
		{"wrong password", Auth{User: "alice", Password: "wrong"}, false},
		{"unknown token", Auth{Token: "abc"}, false},
		{"right", Auth{User: "alice", Password: "s3cret"}, true},
	} {
		c, err := New(srv.DICOMweb, tc.auth, nil)
		if err != nil {
			t.Fatalf("New: got error %v, want nil", err)
		}
		_, err = c.SearchStudies(context.Background(), StudyQuery{})
		var he *HTTPError
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: got error %v, want nil", tc.name, err)
		case !tc.ok && (!errors.Is(err, ErrUnauthorized) || !errors.As(err, &he) || he.Status != http.StatusUnauthorized):
			t.Errorf("%s: got %v, want ErrUnauthorized (HTTP 401)", tc.name, err)
		case !tc.ok && (!strings.Contains(err.Error(), srv.DICOMweb+"/studies") || strings.Contains(err.Error(), "wrong")):
			t.Errorf("%s: got message %q, want one naming the URL and not showing the password", tc.name, err)
		}
	}
}

// file is one retrieved part.
type file struct {
	path string
	data []byte
}

func retrieve(t *testing.T, c *Client, study, series string, total int) []file {
	t.Helper()
	var files []file
	err := c.RetrieveSeries(context.Background(), study, series, total, func(i int, part []byte) error {
		if i != len(files) {
			return fmt.Errorf("part index %d, want %d", i, len(files))
		}
		files = append(files, file{fmt.Sprintf("%s/studies/%s/series/%s#%d", c.Base(), study, series, i+1), part})
		return nil
	})
	if err != nil {
		t.Fatalf("c.RetrieveSeries: got error %v, want nil", err)
	}
	if total > 0 && len(files) != total {
		t.Fatalf("got %d files, want %d", len(files), total)
	}
	return files
}

func scan(t *testing.T, files []file) *ingest.Inventory {
	t.Helper()
	var in []ingest.File
	for _, f := range files {
		in = append(in, ingest.BytesFile(f.path, f.data))
	}
	inv, err := ingest.Scan(context.Background(), in, ingest.Options{})
	if err != nil {
		t.Fatalf("ingest.Scan: got error %v, want nil", err)
	}
	return inv
}

// sameVolume checks that the retrieved files load into the volume of the
// folder dir: same geometry, every voxel equal.
func sameVolume(t *testing.T, files []file, dir string) {
	t.Helper()
	var in []ingest.File
	for _, f := range files {
		in = append(in, ingest.BytesFile(f.path, f.data))
	}
	ctx := context.Background()
	got, _, _, err := ingest.LoadFiles(ctx, in, ingest.Options{})
	if err != nil {
		t.Fatalf("retrieved files: got error %v, want nil", err)
	}
	disk, err := ingest.DiskFiles(dir)
	if err != nil {
		t.Fatalf("ingest.DiskFiles: got error %v, want nil", err)
	}
	want, _, _, err := ingest.LoadFiles(ctx, disk, ingest.Options{})
	if err != nil {
		t.Fatalf("%s: got error %v, want nil", dir, err)
	}
	if fmt.Sprint(got.Geom) != fmt.Sprint(want.Geom) {
		t.Errorf("geometry:\n got %+v\nwant %+v", got.Geom, want.Geom)
	}
	if !slices.Equal(got.Voxels(), want.Voxels()) {
		t.Errorf("voxels: got ones differing from %s's, want the same", dir)
	}
}

// smallCT writes a 16x16 CT slice of a new patient with the project's DICOM
// writer.
func smallCT(t *testing.T, patientID string) []byte {
	t.Helper()
	g := volume.Geometry{Nx: 16, Ny: 16, Nz: 1, Spacing: [3]float64{1, 1, 1}, Direction: [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, SliceZ: []float64{0}}
	v, err := volume.New(g)
	if err != nil {
		t.Fatalf("volume.New: got error %v, want nil", err)
	}
	var b bytes.Buffer
	meta := dcmwrite.SeriesMeta{PatientID: patientID, PatientName: "Test^Stow", SeriesDescription: "STOW test", Intercept: -1024, StudyDate: "20260101"}
	if err := dcmwrite.WriteSlice(&b, v, 0, meta); err != nil {
		t.Fatalf("dcmwrite.WriteSlice: got error %v, want nil", err)
	}
	return b.Bytes()
}

// The benchmark needs Orthanc, which WebAssembly cannot start; leaving it
// out there keeps the networks' weights out of the js/wasm test binary.

//go:build !js && !wasip1

package dicomweb

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"sscscore/model/cascade"
	"sscscore/model/dicomweb/orthanctest"
	"sscscore/model/ingest"
	"sscscore/model/shareddata"
)

// BenchmarkOpenToScoresA0002 times A0002-B40f from "open" to its scores, two
// ways in one run: from the folder on disk (read, ingest, score) and from a
// real Orthanc on loopback (QIDO-RS study and series search, WADO-RS
// retrieval, ingest, score). It reports each path's seconds per scan, the
// PACS path's searches and retrieval alone (fetch-s/op), and the ratio
// pacs/folder; ns/op is the two paths together. The two results must
// be equal.
//
//	GOEXPERIMENT=simd go test -run '^$' -bench OpenToScores -benchtime 5x ./model/dicomweb
func BenchmarkOpenToScoresA0002(b *testing.B) {
	dir := shareddata.Path(b, "chest-ct/A0002-B40f")
	srv := orthanctest.Start(b, orthanctest.Options{})
	srv.Upload(b, dir)
	c, err := New(srv.DICOMweb, Auth{}, nil)
	if err != nil {
		b.Fatalf("New: got error %v, want nil", err)
	}
	cas, err := cascade.Default()
	if err != nil {
		b.Fatalf("cascade.Default: got error %v, want nil", err)
	}
	ctx := context.Background()
	folder := func() *cascade.Result {
		files, err := ingest.DiskFiles(dir)
		if err != nil {
			b.Fatalf("ingest.DiskFiles: got error %v, want nil", err)
		}
		return scoreFiles(b, cas, files)
	}
	var tFetch time.Duration // of the PACS path: QIDO-RS and WADO-RS only
	pacs := func() *cascade.Result {
		t0 := time.Now()
		studies, err := c.SearchStudies(ctx, StudyQuery{PatientID: "Lung_Dx-A0002"})
		if err != nil || len(studies) != 1 {
			b.Fatalf("search: got %d studies and error %v, want 1 and nil", len(studies), err)
		}
		series, err := c.SearchSeries(ctx, studies[0].UID)
		if err != nil || len(series) != 1 {
			b.Fatalf("series: got %d and error %v, want 1 and nil", len(series), err)
		}
		var files []ingest.File
		name := c.Base() + "/studies/" + studies[0].UID + "/series/" + series[0].UID
		err = c.RetrieveSeries(ctx, studies[0].UID, series[0].UID, series[0].NumInstances, func(i int, part []byte) error {
			files = append(files, ingest.BytesFile(fmt.Sprintf("%s#%d", name, i+1), part))
			return nil
		})
		if err != nil {
			b.Fatalf("c.RetrieveSeries: got error %v, want nil", err)
		}
		tFetch += time.Since(t0)
		return scoreFiles(b, cas, files)
	}
	// Warm the caches (disk, Orthanc, the networks' plans) and check that
	// the two paths score alike.
	if a, p := jsonOf(b, folder()), jsonOf(b, pacs()); a != p {
		b.Fatalf("scores differ:\npacs got  %s\nfolder want %s", p, a)
	}
	var tFolder, tPACS time.Duration
	tFetch = 0
	b.ResetTimer()
	timed := func(f func() *cascade.Result) time.Duration {
		t0 := time.Now()
		f()
		return time.Since(t0)
	}
	for i := range b.N {
		// Alternate the order, so that neither path always runs on a
		// machine warmed by the other.
		if i%2 == 0 {
			tFolder += timed(folder)
			tPACS += timed(pacs)
		} else {
			tPACS += timed(pacs)
			tFolder += timed(folder)
		}
	}
	n := float64(b.N)
	b.ReportMetric(tFolder.Seconds()/n, "folder-s/op")
	b.ReportMetric(tPACS.Seconds()/n, "pacs-s/op")
	b.ReportMetric(tFetch.Seconds()/n, "fetch-s/op")
	b.ReportMetric(tPACS.Seconds()/tFolder.Seconds(), "pacs/folder")
}

func scoreFiles(b *testing.B, cas *cascade.Cascade, files []ingest.File) *cascade.Result {
	ctx := context.Background()
	inv, err := ingest.Scan(ctx, files, ingest.Options{})
	if err != nil {
		b.Fatalf("ingest.Scan: got error %v, want nil", err)
	}
	src, err := inv.Open("")
	if err != nil {
		b.Fatalf("inv.Open: got error %v, want nil", err)
	}
	res, err := cas.Score(ctx, src, cascade.Options{SeriesUID: src.Series().UID})
	if err != nil {
		b.Fatalf("cas.Score: got error %v, want nil", err)
	}
	return res
}

func jsonOf(b *testing.B, r *cascade.Result) string {
	j, err := json.Marshal(r)
	if err != nil {
		b.Fatalf("json.Marshal: got error %v, want nil", err)
	}
	return string(j)
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"sscscore/model/dicomweb"
	"sscscore/model/ingest"
	"sscscore/wasm/internal/protocol"
)

// The PACS requests: study and series searches (QIDO-RS), the retrieval of
// a series (WADO-RS) into the same reading and scoring as dropped files,
// and storing the result's DICOM SR (STOW-RS). The HTTP is model/dicomweb's
// over net/http, which in the browser is the worker's fetch: the worker
// talks to the PACS itself and the page only sees the events.

// studyLimit is the most studies a search lists.
const studyLimit = 100

// client returns the DICOMweb client of a request's PACS.
func (e *Engine) client(p *protocol.PACS) (*dicomweb.Client, error) {
	if p == nil || strings.TrimSpace(p.URL) == "" {
		return nil, errors.New("Enter the DICOMweb address of the PACS first.")
	}
	if e.opt.HTTP == nil {
		return nil, errors.New("This build cannot reach a PACS.")
	}
	auth := dicomweb.Auth{User: p.User, Password: p.Password, Token: p.Token}
	c, err := dicomweb.NewDoer(strings.TrimSpace(p.URL), auth, e.opt.HTTP)
	if err != nil {
		return nil, fmt.Errorf("The PACS address %q cannot be used: %w", p.URL, err)
	}
	return c, nil
}

// taskError answers a PACS task with an error in plain words.
func taskError(send Send, job int, task string, err error) {
	send(&protocol.Msg{Kind: protocol.Error, Job: job, Task: task, Error: pacsMessage(err)}, nil)
}

// pacsMessage says what went wrong with a PACS request (model/dicomweb's
// errors name the address and the reason), and what to check.
func pacsMessage(err error) string {
	if errors.Is(err, context.Canceled) {
		return "Stopped."
	}
	msg := sentence(err.Error())
	switch {
	case errors.Is(err, dicomweb.ErrUnreachable):
		msg += " Check the address and that the PACS is running. A PACS on another server must allow this page to connect (CORS), or be reached through the proxy of the server of this page."
	case errors.Is(err, dicomweb.ErrBadResponse):
		msg += " Check the address: it must be the PACS's DICOMweb root (it often ends in /dicom-web)."
	}
	return msg
}

// PACSSearch searches the PACS for studies (a task: answered by found or
// error).
func (e *Engine) PACSSearch(ctx context.Context, job int, p *protocol.PACS, q *protocol.StudyQuery, send Send) {
	c, err := e.client(p)
	if err != nil {
		taskError(send, job, protocol.PACSSearch, err)
		return
	}
	var dq dicomweb.StudyQuery
	if q != nil {
		dq = dicomweb.StudyQuery{PatientID: q.PatientID, PatientName: q.PatientName, AccessionNumber: q.Accession,
			DateFrom: q.DateFrom, DateTo: q.DateTo, Modality: q.Modality}
	}
	dq.Limit = studyLimit
	studies, err := c.SearchStudies(ctx, dq)
	if err != nil {
		taskError(send, job, protocol.PACSSearch, err)
		return
	}
	found := &protocol.FoundInfo{}
	if len(studies) >= studyLimit {
		found.Limit = studyLimit
	}
	for _, s := range studies {
		found.Studies = append(found.Studies, protocol.StudyInfo{
			UID: s.UID, PatientID: s.PatientID, PatientName: strings.TrimSpace(strings.ReplaceAll(s.PatientName, "^", " ")),
			BirthDate: s.PatientBirthDate, Date: s.Date, Accession: s.Accession, Description: strings.TrimSpace(s.Description),
			Modalities: s.Modalities, Series: s.NumSeries, Instances: s.NumInstances,
		})
	}
	send(&protocol.Msg{Kind: protocol.Found, Job: job, Task: protocol.PACSSearch, Found: found}, nil)
}

// PACSSeries lists the series of a study and proposes the one to open (a
// task: answered by found or error).
func (e *Engine) PACSSeries(ctx context.Context, job int, p *protocol.PACS, study string, send Send) {
	c, err := e.client(p)
	if err != nil {
		taskError(send, job, protocol.PACSSeries, err)
		return
	}
	series, err := c.SearchSeries(ctx, study)
	if err != nil {
		taskError(send, job, protocol.PACSSeries, err)
		return
	}
	send(&protocol.Msg{Kind: protocol.Found, Job: job, Task: protocol.PACSSeries, Found: seriesFound(series)}, nil)
}

// seriesFound lists a study's series for the page, usable ones first, and
// proposes one. The PACS lists only each series' modality, description,
// number and count of instances, so the choice is made on those: CT
// series with more than one image can be opened, and the one with the
// most images is proposed (more slices: thinner slices over the same
// chest), the rule the header pass also applies among equals. Once the
// series arrives, its files go through the same header pass as dropped
// files (localizers, orientation, compression, gaps).
func seriesFound(series []dicomweb.Series) *protocol.FoundInfo {
	found := &protocol.FoundInfo{}
	var best *protocol.PACSSeriesInfo
	usable := 0
	for _, s := range series {
		si := protocol.PACSSeriesInfo{UID: s.UID, Number: s.Number, Modality: s.Modality,
			Description: strings.TrimSpace(s.Description), Instances: s.NumInstances}
		switch {
		case s.Modality != "" && s.Modality != "CT":
			si.Reason = "not CT (" + s.Modality + ")"
		case s.NumInstances == 1:
			si.Reason = "a single image, not a stack of slices"
		default:
			si.Usable = true
			usable++
		}
		found.Series = append(found.Series, si)
	}
	// Usable first, then by series number.
	sortSeries(found.Series)
	for i := range found.Series {
		s := &found.Series[i]
		if s.Usable && (best == nil || s.Instances > best.Instances) {
			best = s
		}
	}
	switch {
	case best == nil:
		found.Why = "No series of this study can be scored: none is a CT stack of slices."
	case usable == 1:
		found.Chosen = best.UID
		found.Why = fmt.Sprintf("Chose %s: the only CT series of this study (%s).", describeSeries(best), plural(best.Instances, "image", "images"))
	default:
		found.Chosen = best.UID
		found.Why = fmt.Sprintf("Chose %s: of the %d CT series it has the most images (%d), which usually means the thinnest slices; choose another below if you prefer.",
			describeSeries(best), usable, best.Instances)
	}
	return found
}

func describeSeries(s *protocol.PACSSeriesInfo) string {
	if s.Description != "" {
		return "“" + s.Description + "”"
	}
	return fmt.Sprintf("series %d", s.Number)
}

// sortSeries orders series usable first, then by number.
func sortSeries(s []protocol.PACSSeriesInfo) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && seriesBefore(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func seriesBefore(a, b protocol.PACSSeriesInfo) bool {
	if a.Usable != b.Usable {
		return a.Usable
	}
	return a.Number < b.Number
}

// PACSOpen retrieves a series from the PACS (series "": every series of
// the study that can be scored) and reads it as Open reads files. Each part's header is read (ingest.Scanner) as soon as it
// arrives, while the rest downloads; the levels pass needs the order of
// all slices, so it starts when the last part is in. The scan in use (and
// its result) is replaced only once the whole series has arrived, so a
// retrieval that fails or is cancelled loses nothing already on screen.
func (e *Engine) PACSOpen(ctx context.Context, job int, p *protocol.PACS, study, series string, total int, send Send) {
	e.begin()
	e.finish(send, job, e.pacsOpen(ctx, job, p, study, series, total, send))
}

func (e *Engine) pacsOpen(ctx context.Context, job int, p *protocol.PACS, study, series string, total int, send Send) error {
	c, err := e.client(p)
	if err != nil {
		return err
	}
	// Series "" is every series of the study that can be scored: the
	// header pass then chooses among them as among a dropped folder's.
	want := []protocol.PACSSeriesInfo{{UID: series, Instances: total}}
	if series == "" {
		all, err := c.SearchSeries(ctx, study)
		if err != nil {
			return errors.New(pacsMessage(err))
		}
		want, total = nil, 0
		for _, s := range seriesFound(all).Series {
			if s.Usable {
				want = append(want, s)
				total += s.Instances
			}
		}
		if len(want) == 0 {
			return errors.New("No series of this study can be scored: none is a CT stack of slices.")
		}
	}
	prog := e.stage(send, job, protocol.StageDownload, "images")
	prog.report(0, total)
	read := e.stage(send, job, protocol.StageRead, "files")
	sc := ingest.NewScanner(ingest.Options{Workers: e.opt.Parallel})
	var files []ingest.File
	for _, s := range want {
		err = c.RetrieveSeries(ctx, study, s.UID, s.Instances, func(i int, part []byte) error {
			f := ingest.BytesFile(fmt.Sprintf("pacs/%s/%04d.dcm", s.UID, i+1), part)
			files = append(files, f)
			prog.bytes += int64(len(part))
			n := max(total, len(files))
			prog.report(len(files), n)
			sc.Add(f)
			read.report(len(files), n)
			return e.checkpoint(ctx)
		})
		if err != nil {
			break
		}
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return context.Canceled
		}
		return fmt.Errorf("%s %s", pacsMessage(err), received(len(files), total, prog.bytes))
	}
	if len(files) == 0 {
		return errors.New("The PACS sent no images.")
	}
	prog.report(len(files), len(files))
	read.report(len(files), len(files))
	e.reset(job)
	return e.useInventory(ctx, job, sc.Inventory(), len(files), send)
}

// received says how much of a failed retrieval had arrived.
func received(n, total int, bytes int64) string {
	if n == 0 {
		return "No image had arrived."
	}
	of := ""
	if total > 0 {
		of = fmt.Sprintf(" of %d", total)
	}
	return fmt.Sprintf("%d%s images (%.1f MB) had arrived; a partial series is not scored, as its levels would be wrong.", n, of, float64(bytes)/1e6)
}

// Store sends the DICOM SR of the current result to the PACS with STOW-RS
// (a task: answered by stored or error).
func (e *Engine) Store(ctx context.Context, job int, p *protocol.PACS, send Send) {
	stored, err := e.store(ctx, p)
	if err != nil {
		taskError(send, job, protocol.Store, err)
		return
	}
	send(&protocol.Msg{Kind: protocol.Stored, Job: job, Task: protocol.Store, Stored: stored}, nil)
}

func (e *Engine) store(ctx context.Context, p *protocol.PACS) (*protocol.StoredInfo, error) {
	c, err := e.client(p)
	if err != nil {
		return nil, err
	}
	files, err := e.storeFiles(e.job) // the result of the scan in use (the task has its own number)
	if err != nil {
		return nil, err
	}
	info := &protocol.StoredInfo{URL: strings.TrimSpace(p.URL)}
	var data [][]byte
	for _, f := range files {
		data = append(data, f.data)
		info.Files = append(info.Files, f.what)
		info.Bytes += len(f.data)
		info.SOPInstanceUIDs = append(info.SOPInstanceUIDs, f.uid)
	}
	if err := c.Store(ctx, data...); err != nil {
		return nil, err
	}
	return info, nil
}

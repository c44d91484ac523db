// Package protocol defines the messages between the page (wasm/ui) and the
// Web Worker that reads and scores scans (wasm/worker).
//
// Every message posted either way is a JavaScript object
//
//	{json: string, files?: File[], buf?: ArrayBuffer}
//
// where json is a [Msg] in JSON (field names from the json tags), files are
// the File objects of an [Open] request (passed by reference: the worker
// reads them lazily, nothing is copied) and buf is the pixel data of an
// [Image] event (transferred, not copied). Keeping the structured part in
// JSON lets both sides share these types and lets the protocol be tested
// without a browser. The worker encodes with encoding/json; the page, to
// stay small, converts with wasm/internal/jsconv and the browser's JSON
// object. This package therefore imports nothing.
//
// A request that starts work carries a job number chosen by the page
// (increasing); every event about that work carries the same number, so the
// page can ignore events of a job it has cancelled or replaced. Only one job
// runs at a time: a new Open, Demo or Choose cancels the running one.
//
// Requests (page to worker):
//
//	open    {job, paths}, files   read these files (folders expanded, zip archives opened)
//	demo    {job}                 read the built-in demo scan
//	choose  {job, series}         use another series of the last inventory
//	cancel  {job}                 stop the job (or its running heat map); the worker answers done{cancelled}
//	move    {job, level, slice}   move level (1-5) of the current result to slice and rescore it
//	export  {job, format, patient}  make an export ("csv" or "json") of the current result
//	heatmap {job, level, method}  compute a slow heat map (e.g. occlusion) of one level slice
//	pacs-search {job, pacs, query}  search a PACS for studies (DICOMweb QIDO-RS); a task
//	pacs-series {job, pacs, study}  list a study's series (QIDO-RS); a task
//	pacs-open {job, pacs, study, series, total}  retrieve a series (WADO-RS; series "":
//	                              every CT series of the study, the usual choice among them) and
//	                              read it as open reads files: the same events, after download progress
//	store   {job, pacs}           store the current result in the PACS as a DICOM SR
//	                              with STOW-RS; a task
//	weights {job}, files          use this weights folder's networks from now on (checked
//	                              whole; the scan in use is dropped); a task answered by
//	                              ready (the new model card) and done, or error
//
// export also makes "sr": the DICOM SR of the current result (a .dcm file in
// the exported event's buf). The PACS requests carry the PACS's DICOMweb
// base URL and credentials ([PACS]) every time: the worker keeps neither.
// A task (pacs-search, pacs-series, store) runs beside the scan jobs and is
// answered by exactly one event naming it in task: found or stored, or
// error{job, task, error}; its job number is the page's count of such
// requests, not a scan job.
//
// Events (worker to page):
//
//	ready     {ready}               the worker is running; what this build can do
//	progress  {job, progress}       a stage advanced
//	inventory {job, inventory}      files read: series found, the choice, the file report
//	image     {job, image}, buf     a coronal reformat or an axial slice, int16 HU
//	result    {job, result}         levels and scores (only from a real, trained cascade)
//	heatmap   {job, heatmap}, buf   a heat map of one level slice, float32 values
//	exported  {job, export}, buf?   an export's file name, type and content (binary
//	                                exports such as "sr" in buf)
//	found     {job, task, found}    the studies or series a PACS search found
//	stored    {job, task, stored}   what a store request sent to the PACS
//	error     {job, error}          the job failed; error says why in plain words
//	done      {job, task, cancelled, timings, memory}  the job (or, with task set, a
//	                                heat map request) ended, after its last event
package protocol

// Message kinds.
const (
	Open   = "open"
	Demo   = "demo"
	Choose = "choose"
	Cancel = "cancel"
	Move   = "move"
	Export = "export"
	// Heatmap is both a request (compute a slow map) and an event (a map).
	Heatmap = "heatmap"
	// PACS requests (see the package doc).
	PACSSearch = "pacs-search"
	PACSSeries = "pacs-series"
	PACSOpen   = "pacs-open"
	Store      = "store"
	// UseWeights asks the worker to run a weights folder's networks.
	UseWeights = "weights"

	Ready     = "ready"
	Progress  = "progress"
	Inventory = "inventory"
	Image     = "image"
	Result    = "result"
	Exported  = "exported"
	Found     = "found"
	Stored    = "stored"
	Error     = "error"
	Done      = "done"
)

// Msg is one message; Kind says which of the other fields are set.
type Msg struct {
	Kind string `json:"kind"`
	Job  int    `json:"job,omitempty"`

	// Open: the relative path of each File in the message's files (a
	// folder's files carry their path inside the folder).
	Paths []string `json:"paths,omitempty"`
	// Choose: the UID of the series to use.
	Series string `json:"series,omitempty"`
	// Move: the level (1-5) and the slice index to move it to.
	Level int `json:"level,omitempty"`
	Slice int `json:"slice,omitempty"`
	// Export: "csv" or "json", and whether to include the patient's name
	// and ID.
	Format  string `json:"format,omitempty"`
	Patient bool   `json:"patient,omitempty"`
	// Heatmap request: the method of the map to compute (one of
	// ReadyInfo.HeatmapMethods with Slow set) for Level.
	Method string `json:"method,omitempty"`
	// PACS requests: the server and credentials; pacs-search: the query;
	// pacs-series and pacs-open: the study; pacs-open: the series (in
	// Series; "" for every CT series of the study) and its number of
	// instances from the series search (0 when not known).
	PACS  *PACS       `json:"pacs,omitempty"`
	Query *StudyQuery `json:"query,omitempty"`
	Study string      `json:"study,omitempty"`
	Total int         `json:"total,omitempty"`

	Ready     *ReadyInfo     `json:"ready,omitempty"`
	Progress  *ProgressInfo  `json:"progress,omitempty"`
	Inventory *InventoryInfo `json:"inventory,omitempty"`
	Image     *ImageInfo     `json:"image,omitempty"`
	Result    *ResultInfo    `json:"result,omitempty"`
	Heatmap   *HeatmapInfo   `json:"heatmap,omitempty"`
	Export    *ExportInfo    `json:"export,omitempty"`
	Found     *FoundInfo     `json:"found,omitempty"`
	Stored    *StoredInfo    `json:"stored,omitempty"`
	Error     string         `json:"error,omitempty"`
	Cancelled bool           `json:"cancelled,omitempty"`
	// Task is set on the done event of a request that is not a scan (a
	// heat map request): "heatmap"; and on the answer (found, stored or
	// error) of a PACS task: its request kind.
	Task string `json:"task,omitempty"`
	// Done: how long each stage took (ms, by stage, plus StageDemo and
	// StageTotal), and the worker's WebAssembly memory (bytes; it only
	// grows, so this is its peak).
	Timings map[Stage]float64 `json:"timings,omitempty"`
	Memory  int64             `json:"memory,omitempty"`
}

// ReadyInfo says what the worker of this build can do.
type ReadyInfo struct {
	// Version and Commit name the worker's build (model/buildinfo).
	Version string `json:"version"`
	Commit  string `json:"commit"`
	// Scoring is true when the build holds a trained cascade; otherwise
	// NoScoring says, for the page to show, why scores are not available.
	Scoring   bool   `json:"scoring"`
	NoScoring string `json:"noScoring,omitempty"`
	// Model summarises the model card (nil without a cascade).
	Model *ModelCard `json:"model,omitempty"`
	// Demo is true when the build holds the demo scan; otherwise NoDemo
	// says so in words.
	Demo   bool   `json:"demo"`
	NoDemo string `json:"noDemo,omitempty"`
	// HeatmapMethods lists the heat maps this build makes, fast ones
	// (sent with every scored level) and slow ones (made on request).
	HeatmapMethods []HeatmapMethod `json:"heatmapMethods,omitempty"`
}

// HeatmapMethod is one way of explaining a level's scores.
type HeatmapMethod struct {
	// Name identifies the method in requests and heat map events.
	Name string `json:"name"`
	// Label names it for the page, Doc says in a sentence what it shows.
	Label string `json:"label"`
	Doc   string `json:"doc,omitempty"`
	// Slow methods are computed on request, one level at a time, with
	// progress and cancel; the others come with the scores.
	Slow bool `json:"slow,omitempty"`
}

// ModelCard is the summary of the trained cascade shown on the page.
type ModelCard struct {
	Name string `json:"name"`
	// Fields are label/value pairs in display order (architecture,
	// training data, validation results...).
	Fields [][2]string `json:"fields"`
	// Statement is shown prominently while it holds, e.g. "Trained on
	// synthetic data; research use only."
	Statement string `json:"statement,omitempty"`
	// Weights identifies the weights (a hash), for provenance.
	Weights string `json:"weights,omitempty"`
}

// Stage names a stage of a job in progress events and timings; on the
// wire it is the constant's string.
type Stage string

// Stages of a job, in order.
const (
	StageRead   Stage = "read"   // reading file headers
	StageDecode Stage = "decode" // decoding slices
	StageLevels Stage = "levels" // finding the five levels
	StageScore  Stage = "score"  // scoring the level slices
	StageMaps   Stage = "maps"   // the level slices' images and fast heat maps
	// StageDownload is the retrieval of a series from a PACS (pacs-open):
	// parts received of the series' instances, with Bytes.
	StageDownload Stage = "download"
	// StageHeatmap is the progress of a slow heat map request.
	StageHeatmap Stage = "heatmap"
	// StageDemo (making the demo scan) and StageTotal (the whole job)
	// appear in timings only.
	StageDemo  Stage = "demo"
	StageTotal Stage = "total"
)

// ProgressInfo reports one stage's progress.
type ProgressInfo struct {
	Stage Stage `json:"stage"`
	Done  int   `json:"done"`
	Total int   `json:"total"`
	// Unit names what is counted ("files", "slices", "levels").
	Unit string `json:"unit,omitempty"`
	// ElapsedMS is the time spent in the stage so far, for the page's
	// estimate of the time remaining.
	ElapsedMS float64 `json:"elapsedMs"`
	// Bytes received so far (StageDownload).
	Bytes int64 `json:"bytes,omitempty"`
}

// InventoryInfo is what the header pass found.
type InventoryInfo struct {
	// Series lists the series, usable ones first in order of preference.
	Series []SeriesInfo `json:"series"`
	// Chosen is the UID of the series in use ("" when none is usable) and
	// Why says why it was chosen (or why none could be).
	Chosen string `json:"chosen"`
	Why    string `json:"why"`
	// Manual is true when the user chose the series.
	Manual bool `json:"manual,omitempty"`
	// Files counts the input files (zip entries included, archives not).
	Files int `json:"files"`
	// Used counts the files whose slices are in the chosen series.
	Used int `json:"used"`
	// Groups summarise the files not used, one line per reason.
	Groups []FileGroup `json:"groups,omitempty"`
	// Warnings apply to the whole input.
	Warnings []string `json:"warnings,omitempty"`
	// Patient identifies the patient of the chosen series; the page shows
	// it only when the user asks.
	Patient *Patient `json:"patient,omitempty"`
}

// SeriesInfo describes one series for the series table.
type SeriesInfo struct {
	UID         string  `json:"uid"`
	Description string  `json:"description"`
	Slices      int     `json:"slices"`
	Rows        int     `json:"rows"`
	Columns     int     `json:"columns"`
	Thickness   float64 `json:"thickness"`
	Spacing     float64 `json:"spacing"` // between slice centres, mm
	Kernel      string  `json:"kernel"`
	Syntax      string  `json:"syntax,omitempty"`
	// Usable series can be scored; otherwise Reason says why not.
	Usable bool     `json:"usable"`
	Reason string   `json:"reason,omitempty"`
	Issues []string `json:"issues,omitempty"`
}

// FileGroup is a set of files left out for one reason.
type FileGroup struct {
	// Status is "skipped" (not wanted, e.g. a localizer) or "rejected"
	// (could not be read).
	Status string `json:"status"`
	Code   string `json:"code"`
	// Text says it in plain words, count included: "12 files are JPEG 2000
	// compressed, which this version cannot read".
	Text  string   `json:"text"`
	Count int      `json:"count"`
	Paths []string `json:"paths"`
	// Reasons holds each file's own reason, parallel to Paths.
	Reasons []string `json:"reasons"`
}

// Patient identifies a patient; shown and exported only on request.
type Patient struct {
	Name      string `json:"name,omitempty"`
	ID        string `json:"id,omitempty"`
	BirthDate string `json:"birthDate,omitempty"`
	StudyDate string `json:"studyDate,omitempty"`
}

// Image roles.
const (
	RoleCoronal = "coronal"
	RoleAxial   = "axial"
)

// ImageInfo describes the int16 Hounsfield pixels (row-major, Width*Height)
// sent in the message's buf.
type ImageInfo struct {
	Role   string `json:"role"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	// PixelW and PixelH are the size of a pixel in mm, for the display
	// aspect ratio.
	PixelW float64 `json:"pixelW"`
	PixelH float64 `json:"pixelH"`
	// Axial: the slice index and its patient z (mm), and the level (1-5)
	// it shows, 0 for none.
	Slice int     `json:"slice,omitempty"`
	Z     float64 `json:"z,omitempty"`
	Level int     `json:"level,omitempty"`
	// Coronal: the patient z (mm) of each image row's slice (row r shows
	// slice RowSlice[r]).
	RowSlice []int     `json:"rowSlice,omitempty"`
	SliceZ   []float64 `json:"sliceZ,omitempty"`
	// LungRuns, for an axial slice, is its lung mask as runs of pixels
	// (index y*Width+x): start, length, start, length...; the page draws
	// the lung outline from it and blends heat maps only inside it.
	LungRuns []int32 `json:"lungRuns,omitempty"`
}

// ResultInfo holds the cascade's levels and scores: model/cascade's
// Result as the page needs it (this package imports nothing, so the page
// does not link the model).
type ResultInfo struct {
	// Levels holds L1..L5 in order.
	Levels []LevelResult `json:"levels"`
	// Mean holds the whole-lung scores: the mean over the scored levels.
	Mean MeanScores `json:"mean"`
	// Warnings about the result (e.g. a level outside the scanned range).
	Warnings []string `json:"warnings,omitempty"`
	// Note is the model's standing caveat (trained on synthetic data...).
	Note string `json:"note,omitempty"`
}

// Level status values (as model/cascade's).
const (
	StatusScored  = "scored"
	StatusOutside = "outside" // the level lies outside the scanned range
	StatusNoLung  = "no-lung" // the level slice shows no lung to score
)

// LevelResult is one level: where it is and its scores.
type LevelResult struct {
	Level int `json:"level"` // 1-5
	// Status is StatusScored, StatusOutside (Outside says "above" or
	// "below") or StatusNoLung; Message says why a level is not scored.
	Status  string `json:"status"`
	Outside string `json:"outside,omitempty"`
	Message string `json:"message,omitempty"`
	// Slice is the level slice (0 = most cranial) and Z its patient z
	// (mm); both nil when the level lies outside the scan.
	Slice *int     `json:"slice,omitempty"`
	Z     *float64 `json:"z,omitempty"`
	// EstimateZ is the levels network's estimate of the level's z, and
	// EstimatePos the same as a fractional slice index (extrapolated when
	// outside the scan); Confidence its probability mass within ±8 mm.
	EstimateZ   float64 `json:"estimateZ"`
	EstimatePos float64 `json:"estimatePos"`
	Confidence  float64 `json:"confidence"`
	// Scores are the mean over Slices (the level slice and its
	// neighbours), nil unless scored; Rounded the same in steps of 5.
	Scores  *Scores `json:"scores,omitempty"`
	Rounded *Scores `json:"rounded,omitempty"`
	Slices  []int   `json:"slices,omitempty"`
	// Moved is set when the user placed the level.
	Moved bool `json:"moved,omitempty"`
}

// MeanScores are the whole-lung scores over Levels scored levels (nil
// scores when none was scored).
type MeanScores struct {
	Scores  *Scores `json:"scores,omitempty"`
	Rounded *Scores `json:"rounded,omitempty"`
	Levels  int     `json:"levels"`
}

// Scores are percentages of the lung area.
type Scores struct {
	TOT float64 `json:"tot"`
	GG  float64 `json:"gg"`
	RET float64 `json:"ret"`
}

// Score names, as heat maps name the score they explain.
const (
	ScoreTOT = "tot"
	ScoreGG  = "gg"
	ScoreRET = "ret"
)

// HeatmapInfo describes a heat map of one level slice whose Width*Height
// float32 values (row-major) travel in the message's buf.
type HeatmapInfo struct {
	Level int `json:"level"`
	Slice int `json:"slice"`
	// Method is the HeatmapMethod's name, Score the score explained
	// (ScoreTOT, ScoreGG or ScoreRET).
	Method string `json:"method"`
	Score  string `json:"score"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	// Value (i, j) belongs at pixel (X0 + i*StepX, Y0 + j*StepY) of the
	// axial image (column, row; fractional, pixel centres at integers).
	X0    float64 `json:"x0"`
	Y0    float64 `json:"y0"`
	StepX float64 `json:"stepX"`
	StepY float64 `json:"stepY"`
	// Unit names what a value measures (e.g. "score points"); Signed maps
	// may be negative (then the colour scale is symmetric about 0).
	Unit   string `json:"unit"`
	Signed bool   `json:"signed,omitempty"`
	// Max is the largest absolute value, a suggested end of the colour
	// scale.
	Max float64 `json:"max"`
}

// ExportInfo is a file made by the worker for the page to download.
type ExportInfo struct {
	Name string `json:"name"`
	Type string `json:"type"` // MIME type
	Text string `json:"text"`
	// Binary exports (such as "sr") come in the message's buf instead of
	// Text.
	Binary bool `json:"binary,omitempty"`
}

// Export formats.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
	// FormatSR is the DICOM Structured Report of the result (binary).
	FormatSR = "sr"
)

// PACS says which DICOMweb server to talk to, and how to log in. The page
// holds the credentials in memory only and sends them with each request.
type PACS struct {
	// URL is the DICOMweb base URL (absolute), e.g.
	// http://pacs:8042/dicom-web.
	URL string `json:"url"`
	// User and Password: HTTP basic authentication when User is set;
	// Token: "Authorization: Bearer" when set.
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
}

// StudyQuery is a study search (QIDO-RS); empty fields match anything.
type StudyQuery struct {
	PatientID   string `json:"patientId,omitempty"`
	PatientName string `json:"patientName,omitempty"`
	Accession   string `json:"accession,omitempty"`
	// DateFrom and DateTo bound the study date, YYYYMMDD.
	DateFrom string `json:"dateFrom,omitempty"`
	DateTo   string `json:"dateTo,omitempty"`
	// Modality is "CT" unless set.
	Modality string `json:"modality,omitempty"`
}

// FoundInfo answers pacs-search (Studies) or pacs-series (Series).
type FoundInfo struct {
	Studies []StudyInfo      `json:"studies,omitempty"`
	Series  []PACSSeriesInfo `json:"series,omitempty"`
	// Limit is set when the PACS may hold more matches than were listed.
	Limit int `json:"limit,omitempty"`
	// Chosen is the series to open by default ("" when none can be
	// scored) and Why says why in a sentence (pacs-series).
	Chosen string `json:"chosen,omitempty"`
	Why    string `json:"why,omitempty"`
}

// StudyInfo is one study found.
type StudyInfo struct {
	UID         string   `json:"uid"`
	PatientID   string   `json:"patientId,omitempty"`
	PatientName string   `json:"patientName,omitempty"`
	BirthDate   string   `json:"birthDate,omitempty"`
	Date        string   `json:"date,omitempty"`
	Accession   string   `json:"accession,omitempty"`
	Description string   `json:"description,omitempty"`
	Modalities  []string `json:"modalities,omitempty"`
	Series      int      `json:"series,omitempty"`
	Instances   int      `json:"instances,omitempty"`
}

// PACSSeriesInfo is one series of a study on the PACS.
type PACSSeriesInfo struct {
	UID         string `json:"uid"`
	Number      int    `json:"number,omitempty"`
	Modality    string `json:"modality,omitempty"`
	Description string `json:"description,omitempty"`
	Instances   int    `json:"instances"`
	// Usable series can be opened for scoring; otherwise Reason says why
	// not.
	Usable bool   `json:"usable"`
	Reason string `json:"reason,omitempty"`
}

// StoredInfo says what a store request sent.
type StoredInfo struct {
	// Files names what was sent ("DICOM SR"), Bytes their
	// size, SOPInstanceUIDs the new instances' UIDs.
	Files           []string `json:"files"`
	Bytes           int      `json:"bytes"`
	SOPInstanceUIDs []string `json:"sopInstanceUids,omitempty"`
	// URL is the DICOMweb base URL stored to.
	URL string `json:"url"`
}

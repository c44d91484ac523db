package engine

import (
	"fmt"
	"sort"
	"strings"

	"sscscore/model/ingest"
	"sscscore/wasm/internal/protocol"
)

// codeOther marks files of usable series other than the one in use.
const codeOther ingest.Code = "other-series"

// summarize turns an inventory into what the page shows: the series table,
// the choice and why, and the files not used grouped by reason in plain
// words. uid is the series in use ("" for none).
func summarize(inv *ingest.Inventory, uid string, manual bool) *protocol.InventoryInfo {
	info := &protocol.InventoryInfo{Chosen: uid, Why: inv.ChosenWhy, Manual: manual}
	if uid == "" {
		info.Why = sentence(inv.ChosenWhy)
	} else if uid != inv.Chosen {
		info.Why = "You chose this series."
	}
	info.Warnings = append(info.Warnings, inv.Warnings...)
	for _, s := range inv.Series {
		si := protocol.SeriesInfo{
			UID: s.UID, Description: strings.TrimSpace(s.Description), Slices: s.Slices,
			Rows: s.Rows, Columns: s.Columns, Thickness: s.Thickness, Spacing: s.Spacing[2],
			Kernel: s.Kernel, Syntax: s.TransferSyntax, Usable: s.Usable && s.Axial,
			Reason: s.Reason, Issues: s.Issues,
		}
		if s.Usable && !s.Axial && si.Reason == "" {
			si.Reason = "not an axial series"
		}
		info.Series = append(info.Series, si)
		if s.UID == uid {
			info.Patient = &protocol.Patient{Name: strings.TrimSpace(strings.ReplaceAll(s.PatientName, "^", " ")),
				ID: s.PatientID, BirthDate: s.PatientBirthDate, StudyDate: s.StudyDate}
			for _, is := range s.Issues {
				info.Warnings = append(info.Warnings, "Series in use: "+is)
			}
		}
	}

	groups := map[string]*protocol.FileGroup{}
	var order []string
	archives := 0
	for _, f := range inv.Files {
		if f.Code == ingest.CodeArchive {
			archives++
			continue
		}
		info.Files++
		if f.Series == uid && uid != "" && (f.Status == ingest.Accepted || f.Status == ingest.Decoded) {
			info.Used++
			continue
		}
		status, code, reason := string(f.Status), f.Code, f.Reason
		if f.Status == ingest.Accepted || f.Status == ingest.Decoded {
			status, code, reason = string(ingest.Skipped), codeOther, "belongs to another series"
		}
		key := groupKey(code, reason)
		g := groups[key]
		if g == nil {
			g = &protocol.FileGroup{Status: status, Code: string(code)}
			groups[key] = g
			order = append(order, key)
		}
		g.Count++
		g.Paths = append(g.Paths, f.Path)
		g.Reasons = append(g.Reasons, reason)
	}
	// Rejected (unreadable) before skipped (unwanted), larger groups first.
	sort.SliceStable(order, func(i, j int) bool {
		a, b := groups[order[i]], groups[order[j]]
		if rejA, rejB := a.Status == string(ingest.Rejected), b.Status == string(ingest.Rejected); rejA != rejB {
			return rejA
		}
		return a.Count > b.Count
	})
	for _, k := range order {
		g := groups[k]
		g.Text = groupText(g)
		info.Groups = append(info.Groups, *g)
	}
	if archives > 0 {
		info.Warnings = append(info.Warnings, fmt.Sprintf("%s opened; %s inside counted as files.",
			plural(archives, "zip archive was", "zip archives were"), pronoun(archives)))
	}
	return info
}

func pronoun(n int) string {
	if n == 1 {
		return "its entries are"
	}
	return "their entries are"
}

// groupKey separates unsupported compressions by syntax; other reasons
// group by code alone.
func groupKey(code ingest.Code, reason string) string {
	if code == ingest.CodeUnsupportedSyntax {
		return string(code) + "|" + syntaxOf(reason)
	}
	return string(code)
}

// syntaxOf extracts the syntax name from a reason such as "JPEG 2000
// lossless (1.2.840.10008.1.2.4.90) compressed pixel data cannot be
// decoded by this version".
func syntaxOf(reason string) string {
	if i := strings.Index(reason, " ("); i > 0 {
		return reason[:i]
	}
	if i := strings.Index(reason, " compressed"); i > 0 {
		return reason[:i]
	}
	return reason
}

// groupText says why a group of files was not used, in plain words.
func groupText(g *protocol.FileGroup) string {
	n := g.Count
	are := func(one, many string) string {
		if n == 1 {
			return "1 file " + one
		}
		return fmt.Sprintf("%d files %s", n, many)
	}
	switch ingest.Code(g.Code) {
	case ingest.CodeUnsupportedSyntax:
		return are("is ", "are ") + syntaxOf(g.Reasons[0]) + " compressed, which this version cannot read"
	case ingest.CodeNotDICOM:
		return are("is not a DICOM file", "are not DICOM files") + " (for example text or licence files)"
	case ingest.CodeDICOMDIR:
		return are("is a DICOMDIR index", "are DICOMDIR indexes") + ", not needed: files are recognised by their content"
	case ingest.CodeNoPixels:
		return are("holds no image", "hold no image") + " (reports, plans, dose screens)"
	case ingest.CodeNotCT:
		return are("is not CT", "are not CT") + " (" + strings.Join(modalities(g.Reasons), ", ") + ")"
	case ingest.CodeLocalizer:
		return are("is a localizer (scout) image", "are localizer (scout) images")
	case ingest.CodeScreenSave:
		return are("is a screen capture", "are screen captures")
	case ingest.CodeNotAxial:
		return are("is not an axial slice", "are not axial slices") + " (coronal, sagittal or oblique)"
	case ingest.CodeNoGeometry:
		return are("lacks the position or orientation needed to place it", "lack the position or orientation needed to place them") + " in a volume"
	case ingest.CodeNotHU:
		return are("holds", "hold") + " values that are not Hounsfield units"
	case ingest.CodeColor:
		return are("is a colour image", "are colour images")
	case ingest.CodeMalformed:
		return are("is damaged: its", "are damaged: their") + " DICOM structure is broken"
	case ingest.CodeTruncated:
		return are("is truncated: it ends", "are truncated: they end") + " too early"
	case ingest.CodeUnsupportedPixels:
		return are("uses", "use") + " a pixel format this version cannot read"
	case ingest.CodeDecodeError:
		return are("could not be decoded", "could not be decoded")
	case ingest.CodeReadError:
		return are("could not be read", "could not be read")
	case ingest.CodeDuplicate:
		return are("repeats", "repeat") + " a slice position already read from another file"
	case codeOther:
		return are("belongs to another series", "belong to other series") + " (listed above; choose one to use it)"
	}
	return are("was not used", "were not used") + ": " + g.Reasons[0]
}

// modalities lists the distinct modalities named by reasons like
// "modality MR, not CT".
func modalities(reasons []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range reasons {
		m := strings.TrimPrefix(r, "modality ")
		if i := strings.Index(m, ","); i > 0 {
			m = m[:i]
		}
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"

	"sscscore/model/dicomweb"
	"sscscore/model/ingest"
)

// The score command reads studies from a PACS over DICOMweb when an
// argument is a URL dicomweb://HOST[:PORT]/PATH?study=UID[&series=UID]
// (dicomwebs:// for https): the DICOMweb root is http(s)://HOST[:PORT]/PATH.

// pacsFlags are the credentials flags of commands that talk to a PACS.
type pacsFlags struct {
	user, password, token *string
}

// Environment variables that give the password and token without putting
// them on the command line (where other users of the machine can see them).
const (
	envPACSPassword = "SSCSCORE_DICOMWEB_PASSWORD"
	envPACSToken    = "SSCSCORE_DICOMWEB_TOKEN"
)

func addPACSFlags(fs *flag.FlagSet) *pacsFlags {
	return &pacsFlags{
		user:     fs.String("user", "", "user name for HTTP basic authentication with the PACS of a dicomweb:// URL"),
		password: fs.String("password", "", "password of --user (default: $"+envPACSPassword+")"),
		token:    fs.String("token", "", "bearer token for the PACS of a dicomweb:// URL (default: $"+envPACSToken+")"),
	}
}

// auth returns the credentials the flags and the environment give.
func (p *pacsFlags) auth() dicomweb.Auth {
	a := dicomweb.Auth{User: *p.user, Password: *p.password, Token: *p.token}
	if a.User != "" && a.Password == "" {
		a.Password = os.Getenv(envPACSPassword)
	}
	if a.User == "" && a.Token == "" {
		a.Token = os.Getenv(envPACSToken)
	}
	return a
}

// isDICOMwebURL reports whether a command-line argument is a dicomweb:// or
// dicomwebs:// URL rather than a path.
func isDICOMwebURL(arg string) bool {
	l := strings.ToLower(arg)
	return strings.HasPrefix(l, "dicomweb://") || strings.HasPrefix(l, "dicomwebs://")
}

// pacsRef is a parsed dicomweb:// URL.
type pacsRef struct {
	Base          string // the DICOMweb root, http(s)://HOST[:PORT]/PATH
	Study, Series string // Series may be empty: every CT series of the study
}

// parseDICOMwebURL parses dicomweb://HOST[:PORT]/PATH?study=UID[&series=UID].
func parseDICOMwebURL(arg string) (pacsRef, error) {
	u, err := url.Parse(arg)
	if err != nil {
		return pacsRef{}, fmt.Errorf("%q is not a URL: %w", arg, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "dicomweb":
		u.Scheme = "http"
	case "dicomwebs":
		u.Scheme = "https"
	default:
		return pacsRef{}, fmt.Errorf("%q: a PACS URL starts with dicomweb:// (http) or dicomwebs:// (https)", arg)
	}
	if u.User != nil {
		return pacsRef{}, fmt.Errorf("%s: give credentials with --user and --password or --token, not in the URL", u.Redacted())
	}
	q := u.Query()
	ref := pacsRef{Study: q.Get("study"), Series: q.Get("series")}
	for k := range q {
		if k != "study" && k != "series" {
			return pacsRef{}, fmt.Errorf("%s: unknown parameter %q (only study and series)", arg, k)
		}
	}
	if ref.Study == "" {
		return pacsRef{}, fmt.Errorf("%s: no study: add ?study=STUDY_INSTANCE_UID", arg)
	}
	u.RawQuery, u.Fragment = "", ""
	ref.Base = u.String()
	return ref, nil
}

// inputFiles returns the files of the command-line arguments: disk paths
// (files, folders, zip archives) and dicomweb:// URLs, whose series are
// retrieved into memory, reported to progress (stage "PACS"; nil: none).
// Files keep the order of the arguments.
func inputFiles(ctx context.Context, args []string, auth dicomweb.Auth, progress func(stage string, done, total int)) ([]ingest.File, error) {
	var files []ingest.File
	for _, arg := range args {
		if !isDICOMwebURL(arg) {
			df, err := ingest.DiskFiles(arg)
			if err != nil {
				return nil, err
			}
			files = append(files, df...)
			continue
		}
		ref, err := parseDICOMwebURL(arg)
		if err != nil {
			return nil, err
		}
		pf, err := retrieveStudy(ctx, ref, auth, func(done, total int) {
			if progress != nil {
				progress("PACS", done, total)
			}
		})
		if err != nil {
			return nil, err
		}
		files = append(files, pf...)
	}
	return files, nil
}

// retrieveStudy retrieves the series ref names (or every CT series of its
// study) over DICOMweb. Each file is named by its series' WADO-RS URL and its
// place in the answer (…/series/UID#3), so that ingestion's reports name it.
func retrieveStudy(ctx context.Context, ref pacsRef, auth dicomweb.Auth, progress func(done, total int)) ([]ingest.File, error) {
	c, err := dicomweb.New(ref.Base, auth, nil)
	if err != nil {
		return nil, err
	}
	series, err := c.SearchSeries(ctx, ref.Study)
	if err != nil {
		return nil, err
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("%s: the PACS has no study %s", ref.Base, ref.Study)
	}
	var want []dicomweb.Series
	var others []string
	for _, s := range series {
		switch {
		case ref.Series != "":
			if s.UID == ref.Series {
				want = append(want, s)
			}
		case s.Modality == "CT" || s.Modality == "":
			want = append(want, s)
		default:
			others = append(others, s.Modality)
		}
	}
	switch {
	case len(want) == 0 && ref.Series != "":
		return nil, fmt.Errorf("%s: study %s has no series %s", ref.Base, ref.Study, ref.Series)
	case len(want) == 0:
		return nil, fmt.Errorf("%s: study %s has no CT series (only %s)", ref.Base, ref.Study, strings.Join(others, ", "))
	}
	total := 0
	for _, s := range want {
		total += s.NumInstances
	}
	var files []ingest.File
	for _, s := range want {
		name := fmt.Sprintf("%s/studies/%s/series/%s", c.Base(), s.StudyUID, s.UID)
		err := c.RetrieveSeries(ctx, ref.Study, s.UID, s.NumInstances, func(i int, part []byte) error {
			files = append(files, ingest.BytesFile(fmt.Sprintf("%s#%d", name, i+1), part))
			progress(len(files), max(total, len(files)))
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

package cohort

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// ErrMerge reports shards that do not make up their cohort exactly: a
// shard missing or given twice, a job missing or present twice, outputs of
// different cohorts.
var ErrMerge = errors.New("cohort: cannot merge")

// maxListed is how many keys a merge error lists.
const maxListed = 5

// Merge joins the outputs of the shards of one cohort (each named by its
// CSV path, as given to Run) into out. Every shard 1..n must be there
// once, and every job of the cohort in exactly one of them; otherwise
// nothing is written and the error (ErrMerge) says what is missing or
// duplicated. The merged outputs equal those of a single run.
func Merge(shards []string, out string) (*Summary, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("%w: no shard outputs given", ErrMerge)
	}
	type shardOut struct {
		name string
		man  *Manifest
		recs []*Record
	}
	var outs []shardOut
	for _, s := range shards {
		p := PathsOf(s)
		m, err := readManifest(p.Manifest)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrMerge, s, err)
		}
		f, err := os.Open(p.Journal)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrMerge, s, err)
		}
		recs, _, torn, err := readJournal(f, p.Journal)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMerge, err)
		}
		if torn {
			return nil, fmt.Errorf("%w: %s ends with a torn line: shard %s did not finish (run it again with --resume)", ErrMerge, p.Journal, m.Shard)
		}
		outs = append(outs, shardOut{p.CSV, m, recs})
	}
	first := outs[0].man
	sh, err := ParseShard(first.Shard)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMerge, outs[0].name, err)
	}
	n := max(sh.Count, 1)
	byIndex := map[int]string{}
	owner := map[string]string{} // job key -> output holding it
	var all []*Record
	var problems []string
	for _, o := range outs {
		m := o.man
		if m.CohortSHA256 != first.CohortSHA256 || m.AllSeries != first.AllSeries {
			return nil, fmt.Errorf("%w: %s is from another cohort than %s (roots %v, %d jobs; against %v, %d jobs)",
				ErrMerge, o.name, outs[0].name, m.Roots, m.CohortJobs, first.Roots, first.CohortJobs)
		}
		s, err := ParseShard(m.Shard)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrMerge, o.name, err)
		}
		if max(s.Count, 1) != n {
			return nil, fmt.Errorf("%w: %s is shard %s, %s is shard %s: different shard counts", ErrMerge, o.name, m.Shard, outs[0].name, first.Shard)
		}
		idx := max(s.Index, 1)
		if prev, dup := byIndex[idx]; dup {
			return nil, fmt.Errorf("%w: shard %d/%d given twice (%s and %s)", ErrMerge, idx, n, prev, o.name)
		}
		byIndex[idx] = o.name
		have := map[string]*Record{}
		for _, r := range o.recs {
			have[r.Key] = r
		}
		var missing []string
		for _, k := range m.Keys {
			r := have[k]
			if r == nil {
				missing = append(missing, k)
				continue
			}
			if prev, dup := owner[k]; dup {
				problems = append(problems, fmt.Sprintf("%s is in both %s and %s", k, prev, o.name))
				continue
			}
			owner[k] = o.name
			all = append(all, r)
			delete(have, k)
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("%s (shard %s) misses %d of its %d jobs (%s): run the shard again with --resume",
				o.name, m.Shard, len(missing), len(m.Keys), listed(missing)))
		}
		if len(have) > 0 {
			problems = append(problems, fmt.Sprintf("%s holds %d jobs its manifest does not list (%s)", o.name, len(have), listed(sortedKeys(have))))
		}
	}
	var absent []string
	for i := 1; i <= n; i++ {
		if _, ok := byIndex[i]; !ok {
			absent = append(absent, fmt.Sprintf("%d/%d", i, n))
		}
	}
	if len(absent) > 0 {
		problems = append(problems, "shards missing: "+strings.Join(absent, ", "))
	}
	if len(problems) == 0 && len(all) != first.CohortJobs {
		problems = append(problems, fmt.Sprintf("the shards hold %d jobs, the cohort has %d", len(all), first.CohortJobs))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrMerge, strings.Join(problems, "; "))
	}
	man := *first
	man.Shard = ""
	man.Keys = keysOf(all)
	p := PathsOf(out)
	if err := writeOutputs(p, &man, all); err != nil {
		return nil, err
	}
	sum := &Summary{Paths: p, Jobs: len(all), Outside: len(man.Outside)}
	for _, r := range all {
		if r.Status == StatusScored {
			sum.Scored++
		} else {
			sum.Failed++
		}
	}
	return sum, nil
}

// listed names the first few keys.
func listed(keys []string) string {
	if len(keys) > maxListed {
		return strings.Join(keys[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(keys)-maxListed)
	}
	return strings.Join(keys, ", ")
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys(m map[string]*Record) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

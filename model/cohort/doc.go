// Package cohort scores a cohort of chest CT studies in one run, or in
// shards of a run on a cluster.
//
// [Discover] reads the headers of every file under the roots (folders, zip
// archives, DICOMDIR media: files are found by content) and groups the
// image series by study (StudyInstanceUID). Each study becomes a [Job]
// (one per usable series with AllSeries); a job scans the study's files
// again on their own and scores them exactly as `sscscore score` does on
// that study alone ([ScoreFiles]: the same series choice, the same
// cascade), so a batch row equals the single scan's.
//
// [Run] shares the jobs among workers, each with its own inference plans
// and a share of the cores (inference gives the same bits on any thread
// count), and keeps three files beside the CSV it is given:
//
//   - NAME.csv: the paper's CSV layout, one row per job, followed by the
//     columns Study, Series, Status, Reason and Warnings (a study that
//     could not be scored has a row with its reason);
//   - NAME.jsonl: the full result of each job with its provenance (files,
//     series UID, model and weights hashes, warnings, build), appended and
//     synced to disk as each scan finishes, so that an interrupted run
//     loses at most the scans in flight;
//   - NAME.manifest.json: the roots, the shard and the jobs it holds.
//
// With Resume a run reads the journal back (a line torn by a kill is
// dropped) and scores only what is missing. When the run ends both files
// are rewritten sorted by study, so the outputs are identical whatever the
// number of workers or shards. A [Shard] takes a stable share of the
// studies by a hash of the study key, and [Merge] joins the shards'
// outputs, checking that every job is present exactly once.
package cohort

#!/bin/bash
# Submit the scoring of a cohort to Slurm: N array tasks (one shard each) and
# the merge that waits for all of them. Prints the two job IDs.
#
#   deploy/slurm/submit-cohort.sh [-n SHARDS] [-c CPUS_PER_TASK] -o OUT ROOT... [-- SBATCH_OPTIONS...]
#
# Results: OUT/results.csv, OUT/results.jsonl, OUT/results.manifest.json; each
# task's log in the submitting directory (sscscore-sscscore-cohort-JOB_TASK.log).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=4 cpus=1 out=
while getopts "n:c:o:" opt; do
  case "$opt" in
  n) n=$OPTARG ;;
  c) cpus=$OPTARG ;;
  o) out=$OPTARG ;;
  *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
roots=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do roots+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ -n "$out" ] && [ ${#roots[@]} -gt 0 ] || { echo "usage: $0 [-n SHARDS] [-c CPUS] -o OUT ROOT... [-- SBATCH_OPTIONS...]" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
array=$(sbatch --parsable "$@" --array=1-"$n" --cpus-per-task="$cpus" "$here/score-cohort.sbatch" score "$out" "$n" "${roots[@]}")
array=${array%%;*}
merge=$(sbatch --parsable "$@" --dependency=afterok:"$array" --kill-on-invalid-dep=yes --job-name=sscscore-merge \
  "$here/score-cohort.sbatch" merge "$out" "$n")
merge=${merge%%;*}
echo "$array $merge"

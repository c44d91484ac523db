#!/usr/bin/env bash
# build.sh: one entry point for building, testing, serving and benchmarking sscscore.
#
#   ./build.sh build    native CLI (bin/sscscore), browser wasm (web/static), server (bin/serve)
#   ./build.sh test     everything CI runs: the gates (go mod tidy, gofmt, go generate, go vet,
#                       staticcheck, -race on the concurrent packages), native tests (scalar and SIMD),
#                       js/wasm tests under node, real-browser tests in headless Chromium
#   ./build.sh gate [NAME...]  only the gates (all, or some of: tidy gofmt generate vet staticcheck race)
#   ./build.sh serve    build, then serve the app on http://127.0.0.1:8080 (the demo scan is built in)
#   ./build.sh bench    all benchmarks (native scalar and SIMD, js/wasm under node, in-browser)
#   ./build.sh wasm     only the browser wasm binaries
#   ./build.sh anchor   the CNN engine next to TensorFlow.js and onnxruntime-web in Chromium (~15 min)
#   ./build.sh ldflags  print the linker flags that stamp the version and commit (the browser tests use them)
#   ./build.sh train    retrain the shipped weights (fixed seeds, both networks at once, ~65 min on
#                       2 cores from an empty phantom cache) into runs/ (TRAIN_OUT), then export them to model/weights
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")"
ROOT=$(pwd)
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

go_root() { go env GOROOT; }
wasm_exec() { echo "$(go_root)/lib/wasm/go_js_wasm_exec"; }

# stamp_ldflags prints the linker flags that stamp the build's version and commit
# into model/buildinfo (sscscore version, the page, the worker, every export and report
# name them). From git (`git describe --always --dirty`, `git rev-parse HEAD`; GOFLAGS has
# -buildvcs=false, so the toolchain records neither); SSCSCORE_VERSION and SSCSCORE_COMMIT
# override them, e.g. for a source tarball that is no git checkout (there, without them,
# the build says "dev" and "unknown").
stamp_ldflags() {
  local v="${SSCSCORE_VERSION:-}" c="${SSCSCORE_COMMIT:-}"
  if git rev-parse --git-dir >/dev/null 2>&1; then
    [ -n "$v" ] || v=$(git describe --always --dirty 2>/dev/null || true)
    [ -n "$c" ] || c=$(git rev-parse HEAD 2>/dev/null || true)
  fi
  local f=""
  [ -z "$v" ] || f="-X sscscore/model/buildinfo.version=$v"
  [ -z "$c" ] || f="$f -X sscscore/model/buildinfo.commit=$c"
  echo "${f# }"
}
# STAMP: the stamp of every binary of this run, computed once (below, before the command).
STAMP=""

# Packages whose tests also run under js/wasm (node): the pure-Go core.
core_pkgs() { go list ./model/... ; }

build_wasm() {
  mkdir -p web/static
  install -m 0644 "$(go_root)/lib/wasm/wasm_exec.js" web/static/wasm_exec.js
  if [ -d wasm/worker ]; then
    GOOS=js GOARCH=wasm GOEXPERIMENT=simd go build -trimpath -ldflags="-s -w $STAMP" -o web/static/worker.wasm ./wasm/worker
  fi
  if [ -d wasm/ui ]; then
    GOOS=js GOARCH=wasm GOEXPERIMENT=simd go build -trimpath -ldflags="-s -w $STAMP" -o web/static/ui.wasm ./wasm/ui
  fi
  # The stamp the wasm carries: the browser tests build the native tools with it.
  mkdir -p bin && echo "$STAMP" >bin/wasm.ldflags
  if [ -d cmd/precompress ]; then
    go run ./cmd/precompress web/static/*.wasm
  fi
}

build() {
  mkdir -p bin
  GOEXPERIMENT=simd go build -trimpath -ldflags="$STAMP" -o bin/sscscore ./cmd/sscscore
  build_wasm
  if [ -d serve ] && ls serve/*.go >/dev/null 2>&1; then
    go build -trimpath -ldflags="$STAMP" -o bin/serve ./serve
  fi
}

# CI gates (./build.sh test runs them first; `./build.sh gate NAME...` runs some).
# Each prints what failed and how to fix it, and returns non-zero.
STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2 # staticcheck 2026.2.2: knows Go 1.27
# The packages that run work on several goroutines, tested under the race detector: each with
# the tests that drive its concurrent code (the worker pool; ingest's parallel header scan and
# slice decoding; the engine's read-ahead, parallel reads and cancellation; the tiled GEMM's
# goroutines; jpeg2000's parallel code-block decoding of real scans; the cascade scoring slices
# in parallel), not the long sweeps over the whole corpus, which add minutes and no concurrency.
RACE_TESTS=(
  "./model/parallel" "."
  "./model/ingest" "TestA0002Reference|TestLazyVolume|TestProgressAndCancel|TestPanicRecovered|TestBrokenFilesInFolder|TestZip$|TestScannerMatchesScan"
  "./wasm/internal/engine" "TestOpenA0002|TestMixedFolder|TestCancel$|TestReadAhead|TestSliceCache|TestCancelScoring|TestDemoHook"
  "./model/nn/gemm" "."
  "./model/codec/jpeg2000" "TestFixtures|TestCorpusToshibaSign|TestDICOMSignRules|TestParameterPrecedence|TestHostileSize"
  "./model/cascade" "TestScoreSmall|TestScoreCancelled"
)

gate_tidy() {
  go mod tidy -diff || { echo "FAIL: go.mod/go.sum are not tidy (the diff above): run go mod tidy" >&2; return 1; }
}

gate_gofmt() {
  local bad
  bad=$(gofmt -l .) || { echo "FAIL: gofmt could not read every file (above)" >&2; return 1; }
  [ -z "$bad" ] || { echo "$bad"; echo "FAIL: not gofmt'ed (above): run gofmt -w on them" >&2; return 1; }
}

# gate_generate runs go generate ./... on a copy of the source tree (tracked and untracked
# files, not ignored ones) and fails when it changed or added a file there: the generated
# code in the tree must be what its generator writes now. (A copy: the tree itself is left
# as it is, and edits made meanwhile do not count.)
gate_generate() {
  local tmp rc=0
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/sscscore-generate.XXXXXX")
  mkdir "$tmp/tree"
  git ls-files -z -co --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$tmp/tree" -xf -
  cp -a "$tmp/tree" "$tmp/orig"
  (cd "$tmp/tree" && go generate ./...) || rc=$?
  if [ "$rc" = 0 ] && ! diff -r "$tmp/orig" "$tmp/tree" >"$tmp/diff"; then
    head -50 "$tmp/diff"
    echo "FAIL: go generate ./... changes the tree (above): run it and commit what it writes" >&2
    rc=1
  fi
  rm -rf "$tmp"
  return "$rc"
}

# (The gates run as `if gate_x`, where set -e does not stop at a failing command: each
# gate collects its commands' failures itself.)
gate_vet() {
  local rc=0
  go vet ./... || rc=1
  GOEXPERIMENT=simd go vet ./model/... || rc=1
  GOOS=js GOARCH=wasm go vet ./wasm/... || rc=1
  GOOS=js GOARCH=wasm GOEXPERIMENT=simd go vet ./model/... ./wasm/... || rc=1
  return "$rc"
}

# gate_staticcheck: honnef.co/go/tools at a pinned version, from the module proxy (built
# once into bin/), natively (scalar and SIMD kernels) and for the browser (js/wasm).
gate_staticcheck() {
  local sc="$ROOT/bin/staticcheck-${STATICCHECK##*@}"
  local rc=0
  if [ ! -x "$sc" ]; then
    GOBIN="$ROOT/bin/.staticcheck" go install "$STATICCHECK" || return 1
    mv "$ROOT/bin/.staticcheck/staticcheck" "$sc" && rmdir "$ROOT/bin/.staticcheck" || return 1
  fi
  "$sc" ./... || rc=1
  GOEXPERIMENT=simd "$sc" ./model/... || rc=1
  GOOS=js GOARCH=wasm "$sc" ./model/... ./wasm/... || rc=1
  return "$rc"
}

# gate_race: RACE_TESTS under the race detector, one package after the other.
gate_race() {
  local i rc=0
  for ((i = 0; i < ${#RACE_TESTS[@]}; i += 2)); do
    go test -race -count=1 -timeout 20m -run "${RACE_TESTS[i+1]}" "${RACE_TESTS[i]}" || rc=1
  done
  return "$rc"
}

GATES="tidy gofmt generate vet staticcheck race"

# gates runs the named gates (all by default), timing each, and fails when one fails.
gates() {
  local g t0 failed=""
  for g in ${@:-$GATES}; do
    echo "== gate: $g"
    t0=$SECONDS
    if "gate_$g"; then
      echo "-- gate $g: ok ($((SECONDS - t0)) s)"
    else
      echo "-- gate $g: FAILED ($((SECONDS - t0)) s)"
      failed="$failed $g"
    fi
  done
  [ -z "$failed" ] || { echo "FAILED gates:$failed" >&2; return 1; }
}

run_tests() {
  gates
  echo "== native tests (scalar kernels)"
  go test -count=1 -timeout 20m ./...
  echo "== native tests (SIMD kernels, GOEXPERIMENT=simd)"
  GOEXPERIMENT=simd go test -count=1 -timeout 20m ./model/...
  echo "== js/wasm tests under node (scalar and SIMD)"
  GOOS=js GOARCH=wasm go test -count=1 -timeout 20m -exec="$(wasm_exec)" $(core_pkgs)
  GOOS=js GOARCH=wasm GOEXPERIMENT=simd go test -count=1 -timeout 20m -exec="$(wasm_exec)" $(core_pkgs)
  echo "== browser glue: js/wasm tests under node"
  GOOS=js GOARCH=wasm go test -count=1 -timeout 5m -exec="$(wasm_exec)" ./wasm/internal/jsconv ./wasm/internal/protocol ./wasm/internal/view
}

bench() {
  local pat="${BENCH:-.}"
  echo "== native benchmarks (scalar)"
  go test -run '^$' -bench "$pat" -benchtime "${BENCHTIME:-1x}" ./model/... | tee /tmp/sscscore-bench-native.txt
  echo "== native benchmarks (SIMD)"
  GOEXPERIMENT=simd go test -run '^$' -bench "$pat" -benchtime "${BENCHTIME:-1x}" ./model/... | tee /tmp/sscscore-bench-simd.txt
  echo "== js/wasm benchmarks under node (SIMD)"
  GOOS=js GOARCH=wasm GOEXPERIMENT=simd go test -run '^$' -bench "$pat" -benchtime "${BENCHTIME:-1x}" -exec="$(wasm_exec)" $(core_pkgs) | tee /tmp/sscscore-bench-wasm.txt
  echo "== js/wasm benchmarks under node (scalar, CNN engine)"
  GOOS=js GOARCH=wasm go test -run '^$' -bench "$pat" -benchtime "${BENCHTIME:-1x}" -exec="$(wasm_exec)" ./model/nn/... | tee /tmp/sscscore-bench-wasm-scalar.txt
  echo "== the app: native worker engine, then headless Chromium against the server built from ./serve (time to interactive, drop to done per stage, peak wasm memory, download size)"
  go test -run '^$' -bench "$pat" -benchtime "${BENCHTIME:-1x}" ./wasm/internal/engine ./serve/e2e | tee /tmp/sscscore-bench-browser.txt
}

# anchor: the CNN engine (wasm/anchorbench) side by side with TensorFlow.js and onnxruntime-web
# in headless Chromium (../shared/tools/anchor-bench); extra arguments go to its run.sh.
anchor() {
  local dir="${ANCHOR_DIR:-/tmp/sscscore-anchor}"
  mkdir -p "$dir"
  GOOS=js GOARCH=wasm GOEXPERIMENT=simd go build -trimpath -ldflags='-s -w' -o "$dir/engine.wasm" ./wasm/anchorbench
  cp -f "$(go_root)/lib/wasm/wasm_exec.js" "$dir/wasm_exec.js"
  if [ $# -eq 0 ]; then set -- --configs gowasm,tfjs-wasm-t1,ort-t1 --repeat 3; fi
  ANCHOR_BENCH_EXT="$dir" "$ROOT/../shared/tools/anchor-bench/run.sh" "$@"
}

cmd="${1:-build}"
shift || true
# train reproduces the shipped weights: the two networks train side by side, one core each
# (one thread each, so that every sum is taken in a fixed order), on phantoms
# generated on the fly and cached in $TMPDIR/sscscore-cache; the best checkpoints by validation
# MAE are exported to model/weights. The commands are the ones MODEL_CARD.md gives.
train() {
  mkdir -p bin
  GOEXPERIMENT=simd go build -trimpath -ldflags="$STAMP" -o bin/sscscore ./cmd/sscscore
  local out="${TRAIN_OUT:-runs}"
  mkdir -p "$out"
  bin/sscscore train levels --out "$out/levels" --seed 1 --steps 1500 --batch 4 --val-every 250 \
    --threads 1 --train-seeds 1:201 --val-seeds 1000001:1000021 >"$out/levels.log" 2>&1 &
  local lv=$!
  bin/sscscore train scores --out "$out/scores" --seed 1 --steps 1400 --batch 12 --val-every 200 \
    --threads 1 --train-seeds 1:301 --val-seeds 1000001:1000025 >"$out/scores.log" 2>&1 &
  local sc=$!
  echo "training both networks; progress in $out/levels.log and $out/scores.log"
  local rc=0
  wait "$lv" || rc=$?
  wait "$sc" || rc=$?
  grep -a -h validation "$out/levels.log" "$out/scores.log" || true
  [ "$rc" = 0 ] || { echo "training failed (exit $rc)" >&2; return "$rc"; }
  bin/sscscore train export --levels "$out/levels" --scores "$out/scores" \
    --note "./build.sh train (seed 1; levels 1500 steps of 4 on phantom seeds 1-200, scores 1400 steps of 12 on phantom seeds 1-300)"
}

case "$cmd" in
  build|wasm|test|serve|bench|train) STAMP=$(stamp_ldflags) ;;
esac
case "$cmd" in
  build) build ;;
  wasm) build_wasm ;;
  test) build; run_tests ;;
  serve) build; exec bin/serve "$@" ;;
  bench) build; bench ;;
  anchor) anchor "$@" ;;
  train) train ;;
  ldflags) stamp_ldflags ;;
  gate) gates "$@" ;;
  *) echo "usage: $0 build|test|serve|bench|wasm|anchor|train|ldflags|gate [NAME...]" >&2; exit 2 ;;
esac

package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestPrecompressRoundTrip(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "x.wasm")
	// Compressible but not trivial content.
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 200_000)
	for i := range src {
		src[i] = byte(rng.IntN(16))
	}
	if err := os.WriteFile(name, src, 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	sizes, err := precompress(name, false)
	if err != nil {
		t.Fatalf("precompress: got error %v, want nil", err)
	}
	if sizes[0] != int64(len(src)) {
		t.Errorf("size %d, want %d", sizes[0], len(src))
	}
	for i, c := range codings {
		out := name + c.ext
		if !upToDate(out, src, c) {
			t.Errorf("%s: got other bytes when decompressed, want the source's", out)
		}
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatalf("os.Stat: got error %v, want nil", err)
		}
		if fi.Size() != sizes[i+1] || fi.Size() >= int64(len(src)) {
			t.Errorf("%s: got size %d (reported %d), want the reported size, below the source's %d", out, fi.Size(), sizes[i+1], len(src))
		}
	}
	// Up-to-date variants are not rewritten; stale ones are.
	old := time.Now().Add(-time.Hour)
	for _, c := range codings {
		os.Chtimes(name+c.ext, old, old)
	}
	if _, err := precompress(name, false); err != nil {
		t.Fatalf("precompress: got error %v, want nil", err)
	}
	for _, c := range codings {
		fi, _ := os.Stat(name + c.ext)
		if !fi.ModTime().Equal(old) {
			t.Errorf("%s up to date: got it rewritten, want it kept", c.ext)
		}
	}
	src2 := bytes.Repeat([]byte("changed "), 1000)
	os.WriteFile(name, src2, 0o644)
	if _, err := precompress(name, false); err != nil {
		t.Fatalf("precompress: got error %v, want nil", err)
	}
	for _, c := range codings {
		if !upToDate(name+c.ext, src2, c) {
			t.Errorf("%s after the source changed: got the old variant, want it refreshed", c.ext)
		}
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Errorf("directory holds %d files, want 3", len(ents))
	}
}

func TestPrecompressMissingFile(t *testing.T) {
	if _, err := precompress(filepath.Join(t.TempDir(), "nope.wasm"), false); err == nil {
		t.Fatalf("no error for a missing file: got nil error, want an error")
	}
}

// TestStaleTemporaryFilesRemoved checks that a run removes the temporary
// files of its outputs that an earlier, killed run left behind, and no
// other file.
func TestStaleTemporaryFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "worker.wasm")
	if err := os.WriteFile(name, bytes.Repeat([]byte("wasm "), 5000), 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	stale := []string{".worker.wasm.br.tmp123456", ".worker.wasm.gz.tmp42"}
	keep := []string{".other.wasm.br.tmp1", "notes.txt"}
	for _, f := range append(stale, keep...) {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("partial"), 0o644); err != nil {
			t.Fatalf("os.WriteFile: got error %v, want nil", err)
		}
	}
	if _, err := precompress(name, false); err != nil {
		t.Fatalf("precompress: got error %v, want nil", err)
	}
	for _, f := range stale {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("stale %s: stat error %v, want it removed", f, err)
		}
	}
	for _, f := range keep {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v, want it kept", f, err)
		}
	}
}

// TestTempFilesRemoveAll checks the interrupt's cleanup: every temporary
// file being written is removed, and none can be made afterwards.
func TestTempFilesRemoveAll(t *testing.T) {
	dir := t.TempDir()
	p := &tempFiles{names: map[string]bool{}}
	for _, out := range []string{"a.wasm.br", "a.wasm.gz"} {
		f, err := p.create(filepath.Join(dir, out))
		if err != nil {
			t.Fatalf("p.create: got error %v, want nil", err)
		}
		f.Close()
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("%d temporary files, want 2", len(ents))
	}
	p.removeAll()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("after removeAll the folder holds %d files, want 0", len(ents))
	}
	if f, err := p.create(filepath.Join(dir, "b.wasm.br")); err == nil {
		f.Close()
		t.Errorf("create after removeAll: no error, want one")
	}
}

// TestInterruptLeavesNoLitter interrupts the program while it compresses
// and checks that the folder holds only the source afterwards.
func TestInterruptLeavesNoLitter(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "js" {
		t.Skip("needs POSIX signals and the go command")
	}
	gobin, err := exec.LookPath("go") // go test puts its own toolchain first on the PATH
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "precompress")
	if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: got error %v, want nil\n%s", err, out)
	}
	dir := t.TempDir()
	name := filepath.Join(dir, "worker.wasm")
	// Enough work at quality 11 to be interrupted midway (several seconds).
	rng := rand.New(rand.NewPCG(3, 4))
	src := make([]byte, 8<<20)
	for i := range src {
		src[i] = byte(rng.IntN(64))
	}
	if err := os.WriteFile(name, src, 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	for _, delay := range []time.Duration{300 * time.Millisecond, 1500 * time.Millisecond} {
		cmd := exec.Command(bin, "-force", name)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("cmd.Start: got error %v, want nil", err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait()
		ents, _ := os.ReadDir(dir)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if err == nil {
			// It finished first: the variants, and nothing else.
			t.Logf("interrupt after %v came too late: %v", delay, names)
			if len(names) != 3 {
				t.Errorf("after a full run the folder holds %q, want the source and two variants", names)
			}
			continue
		}
		for _, n := range names {
			if n != "worker.wasm" && n != "worker.wasm.gz" && n != "worker.wasm.br" {
				t.Errorf("interrupted after %v (%v, %s): the folder holds %q, want no temporary file", delay, err, stderr.String(), n)
			}
		}
		// A variant written is complete.
		for _, c := range codings {
			if _, err := os.Stat(name + c.ext); err == nil && !upToDate(name+c.ext, src, c) {
				t.Errorf("interrupted after %v: got a partial %s, want none or a whole one", delay, c.ext)
			}
		}
	}
}

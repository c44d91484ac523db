package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
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
		t.Fatal(err)
	}
	sizes, err := precompress(name, false)
	if err != nil {
		t.Fatal(err)
	}
	if sizes[0] != int64(len(src)) {
		t.Errorf("size %d, want %d", sizes[0], len(src))
	}
	for i, c := range codings {
		out := name + c.ext
		if !upToDate(out, src, c) {
			t.Errorf("%s does not decompress to the source", out)
		}
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != sizes[i+1] || fi.Size() >= int64(len(src)) {
			t.Errorf("%s: size %d (reported %d), source %d", out, fi.Size(), sizes[i+1], len(src))
		}
	}
	// Up-to-date variants are not rewritten; stale ones are.
	old := time.Now().Add(-time.Hour)
	for _, c := range codings {
		os.Chtimes(name+c.ext, old, old)
	}
	if _, err := precompress(name, false); err != nil {
		t.Fatal(err)
	}
	for _, c := range codings {
		fi, _ := os.Stat(name + c.ext)
		if !fi.ModTime().Equal(old) {
			t.Errorf("%s rewritten although up to date", c.ext)
		}
	}
	src2 := bytes.Repeat([]byte("changed "), 1000)
	os.WriteFile(name, src2, 0o644)
	if _, err := precompress(name, false); err != nil {
		t.Fatal(err)
	}
	for _, c := range codings {
		if !upToDate(name+c.ext, src2, c) {
			t.Errorf("%s not refreshed after the source changed", c.ext)
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
		t.Fatal("no error for a missing file")
	}
}

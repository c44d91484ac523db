package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"testing"
)

// TestInventoryInput checks that the inventory hands back every file Scan
// read, zip entries included, with their bytes.
func TestInventoryInput(t *testing.T) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for name, body := range map[string]string{"a/x.txt": "hello", "b.txt": "zip b"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatalf("zw.Create: got error %v, want nil", err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("zw.Close: got error %v, want nil", err)
	}
	files := []File{BytesFile("c.zip", zb.Bytes()), BytesFile("y.txt", []byte("plain"))}
	inv, err := Scan(context.Background(), files, Options{})
	if err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{"y.txt", "plain", true},
		{"c.zip!/a/x.txt", "hello", true},
		{"c.zip!/b.txt", "zip b", true},
		{"c.zip", "", true},
		{"missing.txt", "", false},
	}
	for _, tc := range tests {
		f, ok := inv.Input(tc.path)
		if ok != tc.ok {
			t.Errorf("Input(%q): ok = %v, want %v", tc.path, ok, tc.ok)
			continue
		}
		if !ok || tc.want == "" {
			continue
		}
		b := make([]byte, f.Size)
		if _, err := f.R.ReadAt(b, 0); err != nil && err != io.EOF {
			t.Fatalf("Input(%q): reading: got error %v, want nil", tc.path, err)
		}
		if string(b) != tc.want || f.Path != tc.path {
			t.Errorf("Input(%q) = %q at %q, want %q", tc.path, b, f.Path, tc.want)
		}
	}
}

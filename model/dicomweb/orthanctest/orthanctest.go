// Package orthanctest starts a real Orthanc PACS (Debian's /usr/sbin/Orthanc
// with its DICOMweb plugin) for tests: a throw-away storage folder in
// t.TempDir(), a free loopback HTTP port, DICOMweb at /dicom-web, and
// optionally HTTP basic authentication. Tests load DICOM files into it with
// Upload (Orthanc's REST API, POST /instances) and then talk DICOMweb to it.
//
// When Orthanc or its DICOMweb plugin is not installed the test is skipped,
// except with the environment variable CI=true, where it fails. Under
// WebAssembly (js/wasm tests under node) Start always skips.
package orthanctest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Paths of Debian's packages orthanc and orthanc-dicomweb. The environment
// variables ORTHANC and ORTHANC_DICOMWEB_PLUGIN override them.
const (
	DefaultBinary = "/usr/sbin/Orthanc"
	DefaultPlugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
)

// startTimeout bounds how long Orthanc may take to answer /system.
const startTimeout = 60 * time.Second

// Options configure the server.
type Options struct {
	// User and Password: when User != "", Orthanc requires HTTP basic
	// authentication with these credentials on every request.
	User, Password string
}

// Server is a running Orthanc.
type Server struct {
	// Root is Orthanc's REST root, http://127.0.0.1:PORT.
	Root string
	// DICOMweb is the DICOMweb root, Root + "/dicom-web".
	DICOMweb string
	// Log is the path of Orthanc's log (stdout and stderr).
	Log string

	opt  Options
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, set before done is closed
}

// Start starts Orthanc with the DICOMweb plugin and waits until it answers.
// It is stopped by t.Cleanup.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	bin, plugin := binaries(t)
	dir := t.TempDir()
	var lastErr error
	// A free port found now may be taken by another process before Orthanc
	// binds it: try a few times.
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(dir, attempt, bin, plugin, opt)
		if err == nil {
			t.Cleanup(s.stop)
			return s
		}
		lastErr = err
	}
	t.Fatalf("orthanctest: %v", lastErr)
	return nil
}

// binaries returns the paths of Orthanc and its DICOMweb plugin, skipping
// (or failing, with CI=true) when either is missing.
func binaries(t testing.TB) (bin, plugin string) {
	t.Helper()
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("Orthanc cannot be started from WebAssembly; its tests run natively")
	}
	bin, plugin = DefaultBinary, DefaultPlugin
	if v := os.Getenv("ORTHANC"); v != "" {
		bin = v
	}
	if v := os.Getenv("ORTHANC_DICOMWEB_PLUGIN"); v != "" {
		plugin = v
	}
	for _, p := range []string{bin, plugin} {
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("Orthanc with its DICOMweb plugin is needed (Debian packages orthanc, orthanc-dicomweb): %v", err)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	return bin, plugin
}

// config is Orthanc's configuration file (keys of Orthanc 1.10 and the
// DICOMweb plugin 1.7, as in Debian's /etc/orthanc/orthanc.json and
// dicomweb.json).
func config(dir string, httpPort, dicomPort int, plugin string, opt Options) ([]byte, error) {
	c := map[string]any{
		"Name":                   "sscscore-test",
		"StorageDirectory":       filepath.Join(dir, "storage"),
		"IndexDirectory":         filepath.Join(dir, "index"),
		"HttpPort":               httpPort,
		"DicomPort":              dicomPort,
		"DicomServerEnabled":     false, // DIMSE would listen on every interface; the tests use DICOMweb only
		"RemoteAccessAllowed":    false,
		"HttpServerEnabled":      true,
		"HttpDescribeErrors":     true,
		"HttpCompressionEnabled": false,
		"HttpThreadsCount":       8,
		"ConcurrentJobs":         1,
		"WebDavEnabled":          false,
		"OrthancExplorerEnabled": false,
		"StorageCompression":     false,
		"SaveJobs":               false,
		"Plugins":                []string{plugin},
		"DicomWeb": map[string]any{
			"Enable":     true,
			"Root":       "/dicom-web/",
			"EnableWado": false,
			"Ssl":        false,
		},
		"AuthenticationEnabled": opt.User != "",
	}
	if opt.User != "" {
		c["RegisteredUsers"] = map[string]string{opt.User: opt.Password}
	}
	return json.MarshalIndent(c, "", "  ")
}

func start(dir string, attempt int, bin, plugin string, opt Options) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	cfg, err := config(dir, ports[0], ports[1], plugin, opt)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "orthanc.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "orthanc-"+strconv.Itoa(attempt)+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, cfgPath)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	root := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	s := &Server{Root: root, DICOMweb: root + "/dicom-web", Log: logPath, opt: opt, cmd: cmd, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("orthanctest: Orthanc exited while starting (%v); log %s:\n%s", s.err, logPath, tail(logPath))
		case <-time.After(100 * time.Millisecond):
		}
		if s.ready() {
			return s, nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-s.done
			return nil, fmt.Errorf("orthanctest: Orthanc did not answer %s/system within %v; log %s:\n%s", root, startTimeout, logPath, tail(logPath))
		}
	}
}

// ready reports whether Orthanc answers /system and has loaded the DICOMweb
// plugin.
func (s *Server) ready() bool {
	for _, p := range []string{"/system", "/dicom-web/studies?limit=1"} {
		req, err := http.NewRequest(http.MethodGet, s.Root+p, nil)
		if err != nil {
			return false
		}
		s.auth(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
	}
	return true
}

func (s *Server) auth(req *http.Request) {
	if s.opt.User != "" {
		req.SetBasicAuth(s.opt.User, s.opt.Password)
	}
}

// stop asks Orthanc to stop (SIGTERM) and kills it when it takes longer than
// ten seconds.
func (s *Server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// Upload stores DICOM files (paths of files or folders, read recursively)
// in Orthanc with its REST API (POST /instances). Files that are not DICOM
// fail the test, naming the file.
func (s *Server) Upload(t testing.TB, paths ...string) {
	t.Helper()
	n, dup := 0, 0
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			stored, err := s.UploadBytes(context.Background(), b)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			n++
			if !stored {
				dup++
			}
			return nil
		})
		if err != nil {
			t.Fatalf("orthanctest: upload: %v", err)
		}
	}
	if n == 0 {
		t.Fatalf("orthanctest: upload: no files in %q", paths)
	}
	if dup > 0 {
		// Orthanc keeps the first file of each SOP Instance UID (a
		// transcode of a series already loaded is not stored again).
		t.Logf("orthanctest: upload: %d of %d files were already stored (same SOP Instance UID)", dup, n)
	}
}

// UploadBytes stores one DICOM file with POST /instances. stored is false
// when Orthanc already held an instance with its SOP Instance UID (and kept
// that one).
func (s *Server) UploadBytes(ctx context.Context, file []byte) (stored bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Root+"/instances", bytes.NewReader(file))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/dicom")
	s.auth(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("orthanctest: Orthanc answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var st struct{ Status string }
	if err := json.Unmarshal(body, &st); err != nil {
		return false, fmt.Errorf("orthanctest: Orthanc's answer is not JSON: %w", err)
	}
	switch st.Status {
	case "Success":
		return true, nil
	case "AlreadyStored":
		return false, nil
	}
	return false, fmt.Errorf("orthanctest: Orthanc did not store the file: status %q", st.Status)
}

// Get fetches a path of Orthanc's REST API (with the server's credentials)
// and returns the body; a status other than 200 is an error.
func (s *Server) Get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Root+path, nil)
	if err != nil {
		return nil, err
	}
	s.auth(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("GET %s: %s", s.Root+path, resp.Status)
	}
	return body, nil
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// tail returns the last lines of a log file.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

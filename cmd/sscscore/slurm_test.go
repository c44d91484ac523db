package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sscscore/model/cohort"
	"sscscore/model/shareddata"
)

// slurmTools are the programs the Slurm test runs (Debian's slurm-wlm and
// munge packages).
var slurmTools = []string{"munged", "slurmctld", "slurmd", "sbatch", "scontrol", "sinfo"}

// slurmShards is the number of shards the Slurm test submits.
const slurmShards = 4

// slurmCluster is a one-node Slurm cluster on this machine: munged,
// slurmctld and slurmd run in the foreground on loopback ports, with their
// configuration, key, state and logs in a test folder.
type slurmCluster struct {
	dir  string
	conf string
	env  []string
}

// startSlurm starts the cluster and stops it when the test ends. It skips
// the test when the programs are missing (fails when CI=true).
func startSlurm(t *testing.T) *slurmCluster {
	t.Helper()
	for _, tool := range slurmTools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("LookPath(%s): got error %v, want nil (CI installs slurm-wlm and munge)", tool, err)
			}
			t.Skipf("%s not found: install slurm-wlm and munge", tool)
		}
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("euid: got %d, want 0 (the Slurm test runs slurmd as root)", os.Geteuid())
		}
		t.Skip("the Slurm test runs slurmd as root")
	}
	dir := t.TempDir()
	c := &slurmCluster{dir: dir, conf: filepath.Join(dir, "slurm.conf")}
	for _, d := range []string{"state", "spool", "log", "munge"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatalf("os.MkdirAll: got error %v, want nil", err)
		}
	}
	key := make([]byte, 1024)
	rand.Read(key)
	keyFile := filepath.Join(dir, "munge", "munge.key")
	if err := os.WriteFile(keyFile, key, 0o400); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	sock := filepath.Join(dir, "munge", "munge.sock")
	c.daemon(t, "munged", "-F", "-f", "--key-file="+keyFile, "--socket="+sock,
		"--pid-file="+filepath.Join(dir, "munge", "munged.pid"), "--log-file="+filepath.Join(dir, "log", "munged.log"),
		"--seed-file="+filepath.Join(dir, "munge", "seed"))
	waitFor(t, 10*time.Second, "munged's socket", func() bool { _, err := os.Stat(sock); return err == nil })

	host, err := os.Hostname()
	if err != nil {
		t.Fatalf("os.Hostname: got error %v, want nil", err)
	}
	host, _, _ = strings.Cut(host, ".")
	conf := fmt.Sprintf(`ClusterName=sscscoretest
SlurmctldHost=%[1]s(127.0.0.1)
SlurmctldPort=%[2]d
SlurmdPort=%[3]d
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=%[4]s
SlurmUser=root
SlurmdUser=root
StateSaveLocation=%[5]s/state
SlurmdSpoolDir=%[5]s/spool
SlurmctldPidFile=%[5]s/slurmctld.pid
SlurmdPidFile=%[5]s/slurmd.pid
SlurmctldLogFile=%[5]s/log/slurmctld.log
SlurmdLogFile=%[5]s/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SchedulerParameters=sched_interval=1
MinJobAge=600
KillWait=5
NodeName=%[1]s NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=%[1]s Default=YES MaxTime=INFINITE State=UP
`, host, freePort(t), freePort(t), sock, dir)
	if err := os.WriteFile(c.conf, []byte(conf), 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	c.env = append(os.Environ(), "SLURM_CONF="+c.conf)
	c.daemon(t, "slurmctld", "-D", "-i", "-f", c.conf)
	c.daemon(t, "slurmd", "-D", "-f", c.conf, "-N", host)
	waitFor(t, 60*time.Second, "the node to be idle", func() bool {
		out, _ := c.run("sinfo", "-h", "-o", "%t")
		return strings.TrimSpace(out) == "idle"
	})
	return c
}

// daemon starts a program in the foreground and stops it (SIGTERM, then
// SIGKILL) when the test ends; its output goes to log/NAME.out.
func (c *slurmCluster) daemon(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := os.Create(filepath.Join(c.dir, "log", name+".out"))
	if err != nil {
		t.Fatalf("os.Create: got error %v, want nil", err)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = c.env
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: got error %v, want nil", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); out.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
}

// run runs a Slurm command against the cluster.
func (c *slurmCluster) run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// logs returns the cluster's logs, for a failure message.
func (c *slurmCluster) logs() string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(c.dir, "log", "*"))
	jobLogs, _ := filepath.Glob(filepath.Join(c.dir, "work", "*.log"))
	for _, f := range append(files, jobLogs...) {
		data, _ := os.ReadFile(f)
		if len(data) > 3000 {
			data = data[len(data)-3000:]
		}
		fmt.Fprintf(&b, "== %s\n%s\n", filepath.Base(f), data)
	}
	return b.String()
}

// jobState returns the state of a job (COMPLETED, FAILED, PENDING...).
func (c *slurmCluster) jobState(id string) string {
	out, err := c.run("scontrol", "-o", "show", "job", id)
	if err != nil {
		return ""
	}
	for _, f := range strings.Fields(out) {
		if s, ok := strings.CutPrefix(f, "JobState="); ok {
			return s
		}
	}
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen: got error %v, want nil", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: got a timeout after %v, want it done before", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBatchSlurm scores the test cohort on a one-node Slurm cluster started
// here: deploy/slurm/submit-cohort.sh submits a job array of 4 shards and
// the merge that depends on it; the merged CSV and JSON lines must equal
// the single-process run's, byte for byte.
func TestBatchSlurm(t *testing.T) {
	c := startSlurm(t)
	roots, ref := cohortRun(t)
	repo, err := shareddata.RepoRoot()
	if err != nil {
		t.Fatalf("shareddata.RepoRoot: got error %v, want nil", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("os.Executable: got error %v, want nil", err)
	}
	// The jobs run this test binary as sscscore.
	work := filepath.Join(c.dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatalf("os.MkdirAll: got error %v, want nil", err)
	}
	wrapper := filepath.Join(work, "sscscore")
	script := fmt.Sprintf("#!/bin/sh\n%s=1 exec %q \"$@\"\n", testMainEnv, exe)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	out := filepath.Join(work, "out")
	submit := exec.Command(filepath.Join(repo, "deploy", "slurm", "submit-cohort.sh"),
		append([]string{"-n", fmt.Sprint(slurmShards), "-o", out}, roots...)...)
	submit.Dir = work
	submit.Env = append(c.env, "SSCSCORE="+wrapper)
	ids, err := submit.CombinedOutput()
	if err != nil {
		t.Fatalf("submit-cohort.sh: got %v: %s, want the job IDs", err, ids)
	}
	f := strings.Fields(string(ids))
	if len(f) != 2 {
		t.Fatalf("submit-cohort.sh printed %q, want the array and merge job IDs", ids)
	}
	array, merge := f[0], f[1]
	var state string
	waitFor(t, 10*time.Minute, "the merge job", func() bool {
		state = c.jobState(merge)
		switch state {
		case "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "":
			return false
		}
		return true
	})
	if state != "COMPLETED" {
		t.Fatalf("merge job %s: got %s (array %s task 1: %s), want COMPLETED\n%s", merge, state, array, c.jobState(array+"_1"), c.logs())
	}
	for i := 1; i <= slurmShards; i++ {
		if s := c.jobState(fmt.Sprintf("%s_%d", array, i)); s != "COMPLETED" {
			t.Errorf("array task %d: got %s, want COMPLETED", i, s)
		}
	}
	merged := cohort.PathsOf(filepath.Join(out, "results.csv"))
	rp := cohort.PathsOf(ref)
	for _, pair := range [][2]string{{merged.CSV, rp.CSV}, {merged.Journal, rp.Journal}} {
		if got, want := mustRead(t, pair[0]), mustRead(t, pair[1]); !bytes.Equal(got, want) {
			t.Errorf("%s merged from %d Slurm shards differs from the single-process run:\n%s\nwant\n%s", filepath.Base(pair[0]), slurmShards, got, want)
		}
	}
	var sizes []string
	for i := 1; i <= slurmShards; i++ {
		m := readRecords(t, filepath.Join(out, fmt.Sprintf("shard-%d-of-%d.csv", i, slurmShards)))
		sizes = append(sizes, fmt.Sprint(len(m)))
	}
	t.Logf("array %s (shards of %s jobs) and merge %s completed; merged output equals the single run", array, strings.Join(sizes, "+"), merge)
}

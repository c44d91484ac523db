package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"sscscore/model/cohort"
)

// fakeClock advances by step on each reading.
func fakeClock(step time.Duration) func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

// TestProgressScore checks the progress of one scan: a line redrawn in
// place on a terminal, plain lines (one per finished stage, few while one
// runs) in a log.
func TestProgressScore(t *testing.T) {
	steps := [][3]any{{"read", 0, 30}, {"read", 15, 30}, {"read", 30, 30}, {"levels", 0, 1}, {"levels", 1, 1}, {"scores", 0, 15}, {"scores", 15, 15}}
	tests := []struct {
		live      bool
		wantLines int
		want      []string
		notWant   string
	}{
		{false, 3, []string{"read: 30/30 done in", "levels: 1/1 done in", "scores: 15/15 done in"}, "\r"},
		{true, 0, []string{"\rread    15/30", "\rscores  15/15"}, "\n"},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		p := &progressLine{w: &buf, live: tc.live, now: fakeClock(100 * time.Millisecond)}
		p.start = p.now()
		for _, s := range steps {
			p.stage(s[0].(string), s[1].(int), s[2].(int))
		}
		p.finish()
		got := buf.String()
		if n := strings.Count(got, "\n"); n != tc.wantLines {
			t.Errorf("live %v: %d lines, want %d:\n%q", tc.live, n, tc.wantLines, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("live %v: got %q, want it to contain %q", tc.live, got, w)
			}
		}
		if strings.Contains(got, tc.notWant) {
			t.Errorf("live %v: got output %q, want it without %q", tc.live, got, tc.notWant)
		}
	}
}

// TestProgressBatch checks the batch lines: done/total, scans per minute
// over this run (not counting resumed jobs) and the time left.
func TestProgressBatch(t *testing.T) {
	var buf bytes.Buffer
	p := &progressLine{w: &buf, now: fakeClock(30 * time.Second)}
	p.start = p.now()
	p.scan(cohort.Event{Done: 2, Total: 6, Resumed: 2})
	p.scan(cohort.Event{Done: 3, Total: 6, Resumed: 2, Took: 20 * time.Second,
		Record: &cohort.Record{Key: "S1", PatID: "P1", Status: cohort.StatusScored}})
	p.scan(cohort.Event{Done: 4, Total: 6, Resumed: 2, Took: time.Second,
		Record: &cohort.Record{Key: "S2", PatID: "P2", Status: cohort.StatusFailed, Reason: "no usable axial CT series"}})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		"2/6 done in earlier runs, 4 to score",
		"3/6 scored S1 (P1) in 20.0 s; 1.0 scans/min, about 3:00 left",
		"4/6 failed S2 (P2): no usable axial CT series in 1.0 s; 1.3 scans/min, about 1:30 left",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d: got %q, want %q", i+1, lines[i], want[i])
		}
	}
}

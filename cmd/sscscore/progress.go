package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"sscscore/model/cohort"
)

// logEvery is the least time between two plain log lines about the same
// stage of one scan.
const logEvery = 5 * time.Second

// liveWidth is the width a live progress line is cut to.
const liveWidth = 100

// progressLine shows long work on stderr: on a terminal one line redrawn
// in place (carriage return), otherwise plain log lines, so that a log
// file (a Slurm job's, a redirected run's) reads line by line.
type progressLine struct {
	w     io.Writer
	live  bool
	now   func() time.Time
	start time.Time
	// stage of a single scan: the one shown, when it began, the last log
	// line about it
	cur           string
	curAt, logged time.Time
	// drawn is the length of the live line on screen.
	drawn int
}

// newProgressLine returns a progress display on w, live when w is a
// terminal.
func newProgressLine(w io.Writer) *progressLine {
	now := time.Now
	return &progressLine{w: w, live: isTerminal(w), now: now, start: now()}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// draw replaces the live line with s.
func (p *progressLine) draw(s string) {
	if len(s) > liveWidth {
		s = s[:liveWidth-1] + "…"
	}
	pad := max(0, p.drawn-len(s))
	fmt.Fprintf(p.w, "\r%s%s", s, strings.Repeat(" ", pad))
	p.drawn = len(s)
}

// stage follows one scan's cascade (stages "read", "levels", "scores"):
// live, the stage and its count; in a log, a line when a stage is done
// and at most one every logEvery while it runs.
func (p *progressLine) stage(stage string, done, total int) {
	t := p.now()
	if stage != p.cur {
		p.cur, p.curAt, p.logged = stage, t, t
	}
	if p.live {
		p.draw(fmt.Sprintf("%-7s %d/%d", stage, done, total))
		return
	}
	switch {
	case done >= total:
		fmt.Fprintf(p.w, "%s: %d/%d done in %s\n", stage, done, total, seconds(t.Sub(p.curAt)))
		p.cur = "" // a stage that restarts is logged again
	case t.Sub(p.logged) >= logEvery:
		fmt.Fprintf(p.w, "%s: %d/%d\n", stage, done, total)
		p.logged = t
	}
}

// scan reports a batch run after each job: done / total, scans per minute
// over this run and the time left.
func (p *progressLine) scan(ev cohort.Event) {
	elapsed := p.now().Sub(p.start)
	scored := ev.Done - ev.Resumed
	var rate float64
	left := "time left unknown"
	if scored > 0 && elapsed > 0 {
		rate = float64(scored) / elapsed.Minutes()
		left = "about " + clock(time.Duration(float64(ev.Total-ev.Done)/rate*float64(time.Minute))) + " left"
	}
	head := fmt.Sprintf("%d/%d", ev.Done, ev.Total)
	if ev.Record == nil {
		msg := fmt.Sprintf("%s jobs to score", head)
		if ev.Resumed > 0 {
			msg = fmt.Sprintf("%s done in earlier runs, %d to score", head, ev.Total-ev.Done)
		}
		if p.live {
			p.draw(msg)
		} else {
			fmt.Fprintln(p.w, msg)
		}
		return
	}
	r := ev.Record
	what := fmt.Sprintf("%s %s (%s)", r.Status, r.Key, r.PatID)
	if r.Status == cohort.StatusFailed {
		what += ": " + r.Reason
	}
	if p.live {
		p.draw(fmt.Sprintf("%s  %.1f scans/min  %s  | %s", head, rate, left, what))
		return
	}
	fmt.Fprintf(p.w, "%s %s in %s; %.1f scans/min, %s\n", head, what, seconds(ev.Took), rate, left)
}

// finish ends the live line (a nil progressLine does nothing).
func (p *progressLine) finish() {
	if p == nil || !p.live || p.drawn == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.drawn))
	p.drawn = 0
}

// seconds formats d as seconds with one decimal.
func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// clock formats d as h:mm:ss or m:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

//go:build js && wasm

package main

import (
	"fmt"
	"math"
	"strconv"
	"syscall/js"
	"time"

	"honnef.co/go/js/dom/v2"

	"sscscore/wasm/internal/protocol"
	"sscscore/wasm/internal/view"
)

// moveDelay is how long the page waits after the last key press or drag
// before it asks the worker to rescore a moved level, so that holding an
// arrow key does not queue a rescoring per slice.
const moveDelay = 150 * time.Millisecond

// renderLevelLines draws (or moves) the five level lines over the coronal
// reformat. Each line is a focusable slider: arrow keys move it by one
// slice, Page Up/Down by five, and it can be dragged.
func (a *app) renderLevelLines() {
	cv, r := a.coronal, a.result
	if cv == nil || r == nil {
		empty(a.byID("level-lines"))
		if cv != nil {
			cv.lines = map[int]*dom.BasicHTMLElement{}
		}
		return
	}
	nz := len(cv.info.SliceZ)
	for _, l := range r.Levels {
		line := cv.lines[l.Level]
		if line == nil {
			line = a.newLevelLine(l.Level)
			cv.lines[l.Level] = line
			a.byID("level-lines").AppendChild(line)
		}
		// A level outside the scan sits at the scan's end, marked, until
		// the user places it.
		k := 0
		if l.Slice != nil {
			k = *l.Slice
		} else {
			k = min(max(int(math.Round(l.EstimatePos)), 0), nz-1)
		}
		lbl := fmt.Sprintf("L%d", l.Level)
		switch l.Outside {
		case "above":
			lbl += " ↑ outside"
		case "below":
			lbl += " ↓ outside"
		}
		query(line, ".lbl").SetTextContent(lbl)
		for cls, on := range map[string]bool{"outside": l.Status == protocol.StatusOutside, "moved": l.Moved, "nolung": l.Status == protocol.StatusNoLung} {
			if on {
				line.Class().Add(cls)
			} else {
				line.Class().Remove(cls)
			}
		}
		line.Get("dataset").Set("status", l.Status)
		a.placeLine(line, l.Level, k)
		if l.Status == protocol.StatusOutside {
			line.SetAttribute("aria-valuetext", fmt.Sprintf("L%d lies %s the scan; move it to place it yourself", l.Level, l.Outside))
		}
	}
}

// lineSlice returns the slice a level line is at.
func lineSlice(line *dom.BasicHTMLElement) int {
	k, _ := strconv.Atoi(line.Get("dataset").Get("slice").String())
	return k
}

// placeLine puts a level line at slice k and updates its accessible value.
func (a *app) placeLine(line *dom.BasicHTMLElement, level, k int) {
	cv := a.coronal
	if cv == nil || len(cv.info.SliceZ) == 0 {
		return
	}
	k = min(max(k, 0), len(cv.info.SliceZ)-1)
	z := cv.info.SliceZ[k]
	row := view.DisplayRowOfZ(cv.rowZ, cv.rows, z)
	top := (row + 0.5) / float64(max(cv.rows, 1)) * 100
	line.Style().SetProperty("top", fmt.Sprintf("%.3f%%", top), "")
	line.SetAttribute("aria-valuenow", strconv.Itoa(k+1))
	line.SetAttribute("aria-valuetext", fmt.Sprintf("L%d at slice %d, z = %.0f mm", level, k+1, z))
	line.Get("dataset").Set("slice", strconv.Itoa(k))
}

func (a *app) newLevelLine(level int) *dom.BasicHTMLElement {
	line := create("div")
	line.Class().Add("level-line")
	line.SetAttribute("id", fmt.Sprintf("level-L%d", level))
	line.SetAttribute("role", "slider")
	line.SetAttribute("tabindex", "0")
	line.SetAttribute("aria-orientation", "vertical")
	line.SetAttribute("aria-label", fmt.Sprintf("Level L%d (%s): move with the arrow keys", level, view.LevelNames[level-1]))
	line.SetAttribute("aria-valuemin", "1")
	line.SetAttribute("aria-valuemax", strconv.Itoa(len(a.coronal.info.SliceZ)))
	line.AppendChild(text("span", fmt.Sprintf("L%d", level)))
	query(line, "span").Class().Add("lbl")

	on(line.Value, "keydown", func(ev js.Value) {
		step := 0
		switch ev.Get("key").String() {
		case "ArrowUp", "ArrowLeft":
			step = -1
		case "ArrowDown", "ArrowRight":
			step = 1
		case "PageUp":
			step = -5
		case "PageDown":
			step = 5
		default:
			return
		}
		ev.Call("preventDefault")
		a.moveLevel(line, level, lineSlice(line)+step)
	})

	dragging := false
	sliceAt := func(ev js.Value) int {
		rect := a.byID("coronal-box").GetBoundingClientRect()
		y := ev.Get("clientY").Float() - rect.Top()
		h := rect.Height()
		if h <= 0 || a.coronal == nil {
			return lineSlice(line)
		}
		row := y/h*float64(a.coronal.rows) - 0.5
		return view.NearestSlice(a.coronal.info.SliceZ, view.ZAtDisplayRow(a.coronal.rowZ, a.coronal.rows, row))
	}
	on(line.Value, "pointerdown", func(ev js.Value) {
		ev.Call("preventDefault")
		dragging = true
		line.Class().Add("active")
		line.Focus()
		line.Call("setPointerCapture", ev.Get("pointerId"))
	})
	on(line.Value, "pointermove", func(ev js.Value) {
		if dragging {
			a.placeLine(line, level, sliceAt(ev))
		}
	})
	end := func(ev js.Value) {
		if !dragging {
			return
		}
		dragging = false
		line.Class().Remove("active")
		a.moveLevel(line, level, sliceAt(ev))
	}
	on(line.Value, "pointerup", end)
	on(line.Value, "pointercancel", end)
	return line
}

// moveLevel moves a level line to slice k at once and, after moveDelay
// without another move, asks the worker to rescore that level there.
func (a *app) moveLevel(line *dom.BasicHTMLElement, level, k int) {
	if a.coronal == nil || a.result == nil {
		return
	}
	k = min(max(k, 0), len(a.coronal.info.SliceZ)-1)
	a.placeLine(line, level, k)
	if a.moveTimer != nil {
		a.moveTimer.Stop()
	}
	job := a.job
	a.moveTimer = time.AfterFunc(moveDelay, func() {
		if a.job != job {
			return
		}
		a.status(fmt.Sprintf("Rescoring L%d at slice %d…", level, k+1))
		a.post(&protocol.Msg{Kind: protocol.Move, Job: job, Level: level, Slice: k}, nil)
	})
}

package train

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// SaveCurves draws the training loss and the validation metric of a run
// as a PNG (two panels side by side).
func SaveCurves(st *State, path string) error {
	loss := plot.New()
	loss.Title.Text = st.Kind + " network: training loss"
	loss.X.Label.Text = "step"
	loss.Y.Label.Text = "loss (moving average)"
	if len(st.Train) > 0 {
		xy := make(plotter.XYs, len(st.Train))
		for i, p := range st.Train {
			xy[i].X, xy[i].Y = float64(p.Step), p.Value
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		l.Color = color.RGBA{B: 200, A: 255}
		loss.Add(l, plotter.NewGrid())
	}
	val := plot.New()
	val.X.Label.Text = "step"
	if st.Kind == "levels" {
		val.Title.Text = "validation: level MAE"
		val.Y.Label.Text = "MAE (mm)"
	} else {
		val.Title.Text = "validation: score MAE"
		val.Y.Label.Text = "MAE (percent of lung)"
	}
	if len(st.Val) > 0 {
		if len(st.ValParts) == len(st.Val) {
			names := []string{"TOT", "GG", "RET"}
			cols := []color.Color{color.RGBA{A: 255}, color.RGBA{G: 150, A: 255}, color.RGBA{R: 200, A: 255}}
			for k := 0; k < 3; k++ {
				xy := make(plotter.XYs, len(st.ValParts))
				for i, p := range st.ValParts {
					xy[i].X, xy[i].Y = float64(p.Step), p.Value[k]
				}
				l, err := plotter.NewLine(xy)
				if err != nil {
					return err
				}
				l.Color = cols[k]
				val.Add(l)
				val.Legend.Add(names[k], l)
			}
		} else {
			xy := make(plotter.XYs, len(st.Val))
			for i, p := range st.Val {
				xy[i].X, xy[i].Y = float64(p.Step), p.Value
			}
			l, _, err := plotter.NewLinePoints(xy)
			if err != nil {
				return err
			}
			val.Add(l)
		}
		val.Add(plotter.NewGrid())
		val.Legend.Top = true
	}
	side := vg.Length(5) * vg.Inch
	img := vgimg.New(2*side, side)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	cs := plot.Align([][]*plot.Plot{{loss, val}}, tiles, dc)
	loss.Draw(cs[0][0])
	val.Draw(cs[0][1])
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&b); err != nil {
		return fmt.Errorf("train: drawing curves: %w", err)
	}
	if err := writeFileAtomic(path, b.Bytes()); err != nil {
		return fmt.Errorf("train: saving curves: %w", err)
	}
	return nil
}

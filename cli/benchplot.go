package cli

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// WriteScalingPlot draws the scaling curve as a PNG of three panels:
// credit throughput and commit latency (p50, p99) against the number of
// counties, and the index's subject-profile lookup latency (p50, p99)
// against the number of records (log scale). A panel without data says
// so instead of a curve.
func WriteScalingPlot(w io.Writer, title string, pts []ScalePoint, lookup []LookupPoint) error {
	var tp, p50, p99 plotter.XYs
	for _, p := range pts {
		x := float64(p.Counties)
		if !math.IsNaN(p.TPS.V) {
			tp = append(tp, plotter.XY{X: x, Y: p.TPS.V})
		}
		if !math.IsNaN(p.P50.V) {
			p50 = append(p50, plotter.XY{X: x, Y: p.P50.V})
		}
		if !math.IsNaN(p.P99.V) {
			p99 = append(p99, plotter.XY{X: x, Y: p.P99.V})
		}
	}
	var l50, l99 plotter.XYs
	for _, p := range lookup {
		if p.Records > 0 {
			l50 = append(l50, plotter.XY{X: p.Records, Y: p.P50us})
			l99 = append(l99, plotter.XY{X: p.Records, Y: p.P99us})
		}
	}
	blue := color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	orange := color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}

	a, err := panel("Credit throughput (100 clients)", "counties", "committed tx/s", []series{{"MakeCommitment", tp, blue}})
	if err != nil {
		return err
	}
	b, err := panel("Commit latency (100 clients)", "counties", "ms", []series{{"p50", p50, blue}, {"p99", p99, orange}})
	if err != nil {
		return err
	}
	c, err := panel("Index lookup: subject profile", "records in the index", "µs", []series{{"p50", l50, blue}, {"p99", l99, orange}})
	if err != nil {
		return err
	}
	if len(l50) > 0 {
		c.X.Scale = plot.LogScale{}
		c.X.Tick.Marker = recordTicks{}
		c.X.Min, c.X.Max = l50[0].X/2, l50[len(l50)-1].X*2
	}
	for _, p := range []*plot.Plot{a, b, c} {
		p.Y.Tick.Marker = plainTicks{}
	}
	for _, p := range []*plot.Plot{a, b} {
		p.X.Tick.Marker = integerTicks{}
		if len(pts) > 0 {
			p.X.Min, p.X.Max = float64(pts[0].Counties)-0.5, float64(pts[len(pts)-1].Counties)+0.5
		}
	}

	const width, height = 15 * vg.Inch, 4.6 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(96))
	dc := draw.New(img)
	top := dc
	if title != "" {
		top.Max.Y -= 0.3 * vg.Inch
		style := draw.TextStyle{Color: color.Black, Font: plot.DefaultFont, Handler: plot.DefaultTextHandler,
			XAlign: draw.XCenter, YAlign: draw.YTop}
		style.Font.Size = vg.Points(13)
		dc.FillText(style, vg.Point{X: width / 2, Y: height - 0.08*vg.Inch}, title)
	}
	tiles := draw.Tiles{Rows: 1, Cols: 3, PadX: 0.35 * vg.Inch, PadY: 0.1 * vg.Inch, PadTop: 0.1 * vg.Inch, PadBottom: 0.05 * vg.Inch,
		PadLeft: 0.1 * vg.Inch, PadRight: 0.2 * vg.Inch}
	canvases := plot.Align([][]*plot.Plot{{a, b, c}}, tiles, top)
	a.Draw(canvases[0][0])
	b.Draw(canvases[0][1])
	c.Draw(canvases[0][2])
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("write scaling plot: %w", err)
	}
	return nil
}

type series struct {
	name  string
	xy    plotter.XYs
	color color.Color
}

// panel is one plot with lines and points for each series, from y = 0.
func panel(title, x, y string, ss []series) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	any := false
	for _, s := range ss {
		if len(s.xy) == 0 {
			continue
		}
		any = true
		l, pts, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return nil, fmt.Errorf("plot %s: %w", title, err)
		}
		l.Color, pts.Color = s.color, s.color
		l.Width = vg.Points(2)
		pts.Shape = draw.CircleGlyph{}
		pts.Radius = vg.Points(3.5)
		p.Add(l, pts)
		p.Legend.Add(s.name, l, pts)
	}
	if !any {
		p.Title.Text = title + " (not measured)"
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		return p, nil
	}
	p.Y.Min = 0
	p.Y.Max *= 1.15
	return p, nil
}

// integerTicks marks every whole number on a small axis (county counts).
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for v := math.Ceil(lo); v <= hi; v++ {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)})
	}
	return ts
}

// recordTicks marks the powers of ten of a log axis as 10k, 100k, 1M.
type recordTicks struct{}

func (recordTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		v := math.Pow(10, e)
		if v < lo || v > hi {
			continue
		}
		ts = append(ts, plot.Tick{Value: v, Label: shortCount(v)})
	}
	return ts
}

// shortCount writes 10000 as 10k and 1000000 as 1M.
func shortCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", v)
}

// plainTicks are gonum's default ticks labelled like the table (2,500,
// 250, 0) rather than with a fixed precision (2500.00).
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			l := sig3(ts[i].Value)
			if strings.Contains(l, ".") {
				l = strings.TrimSuffix(strings.TrimRight(l, "0"), ".")
			}
			ts[i].Label = l
		}
	}
	return ts
}

package report

import (
	"bytes"
	"fmt"
	"html"
	"math"

	"github.com/chatterly/chatterly/loadtest/hist"
)

// Plot geometry, in SVG user units.
const (
	plotW, plotH           = 900, 460
	padL, padR, padT, padB = 84, 300, 40, 50
	// xDecades is how far right the percentile axis goes: 5 decades is
	// 99.999 %.
	xDecades = 5
)

// palette colours the series, in order.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"}

// dashes tell series apart once the palette repeats.
var dashes = []string{"", "6,3", "2,2"}

// PlotSVG draws a scenario's latency distributions, one line per step, as
// the classic HDR percentile plot: x is the percentile on a log scale of
// 1/(1−p) (so 90, 99, 99.9 … are evenly spaced and the tail is visible),
// y is latency in milliseconds on a log scale. It returns nil when no step
// has a distribution.
func PlotSVG(s *Scenario) []byte {
	var series []*Step
	lo, hi := math.Inf(1), 0.0
	for _, st := range s.Steps {
		if len(st.Distribution) == 0 {
			continue
		}
		series = append(series, st)
		for _, p := range st.Distribution {
			v := hist.Millis(max(p.Value, 1))
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if len(series) == 0 {
		return nil
	}
	yLo := math.Floor(math.Log10(lo))
	yHi := math.Ceil(math.Log10(hi))
	if yHi <= yLo {
		yHi = yLo + 1
	}
	iw, ih := float64(plotW-padL-padR), float64(plotH-padT-padB)
	xOf := func(pct float64) float64 {
		d := xDecades * 1.0
		if pct < 100 {
			d = math.Min(d, math.Log10(100/(100-pct)))
		}
		return padL + iw*d/xDecades
	}
	yOf := func(msv float64) float64 {
		return padT + ih*(1-(math.Log10(msv)-yLo)/(yHi-yLo))
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", plotW, plotH, plotW, plotH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", plotW, plotH)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s: latency by percentile</text>`+"\n", padL, html.EscapeString(s.Title))
	// Grid and axes.
	for d := 0; d <= xDecades; d++ {
		x := padL + iw*float64(d)/xDecades
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", x, padT, x, padT+ih)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, padT+ih+18, pctLabel(d))
	}
	for e := yLo; e <= yHi; e++ {
		y := yOf(math.Pow(10, e))
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", padL, y, padL+iw, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-6, y+4, msLabel(math.Pow(10, e)))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%.1f" fill="none" stroke="#333"/>`+"\n", padL, padT, iw, ih)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">percentile</text>`+"\n", padL+iw/2, plotH-8)
	fmt.Fprintf(&b, `<text transform="translate(14 %.1f) rotate(-90)" text-anchor="middle">latency (ms, log scale)</text>`+"\n", padT+ih/2)
	// Series, drawn as steps: each bucket holds its value up to its share.
	for i, st := range series {
		col := palette[i%len(palette)]
		dash := dashes[(i/len(palette))%len(dashes)]
		var pts bytes.Buffer
		prevX := xOf(0)
		for _, p := range st.Distribution {
			y := yOf(hist.Millis(max(p.Value, 1)))
			x := xOf(p.Percentile)
			fmt.Fprintf(&pts, "%.1f,%.1f %.1f,%.1f ", prevX, y, x, y)
			prevX = x
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.8" stroke-dasharray="%s" points="%s"/>`+"\n", col, dash, bytes.TrimSpace(pts.Bytes()))
		ly := padT + 14 + 18*i
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="3" stroke-dasharray="%s"/>`+"\n", padL+iw+12, ly-4, padL+iw+30, ly-4, col, dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", padL+iw+36, ly, html.EscapeString(clip(st.Label, 42)))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func pctLabel(decade int) string {
	switch decade {
	case 0:
		return "0%"
	case 1:
		return "90%"
	case 2:
		return "99%"
	}
	return fmt.Sprintf("99.%s%%", string(bytes.Repeat([]byte("9"), decade-2)))
}

func msLabel(v float64) string {
	switch {
	case v >= 1:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 0.001:
		return fmt.Sprintf("%g ms", v)
	default:
		return fmt.Sprintf("%g µs", v*1000)
	}
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

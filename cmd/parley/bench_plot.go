package main

import (
	"fmt"
	"math"
	"strings"
)

// plotSVG draws the run's timeline: packets received per second, loss and
// server CPU, each in its own panel sharing the time axis. Hand-written
// SVG, so the binary needs no plotting library.
func plotSVG(r *benchResult) string {
	const w, panelH, left, top, gap = 760, 150, 70, 40, 40
	type series struct {
		title, unit, color string
		v                  func(timePoint) float64
	}
	panels := []series{
		{"packets received per second", "pkt/s", "#1f77b4", func(p timePoint) float64 { return p.RxPPS }},
		{"loss", "%", "#d62728", func(p timePoint) float64 { return p.LossPct }},
		{"server CPU", "cores", "#2ca02c", func(p timePoint) float64 { return p.ServerCPU }},
	}
	pts := r.Timeline
	h := top + len(panels)*(panelH+gap) + 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	c := r.Config
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14">parley bench: %d room(s) x %d speakers x %d listeners, %s listeners</text>`+"\n",
		left, c.Rooms, c.Speakers, c.Listeners, c.Client)
	tmax := 1.0
	if n := len(pts); n > 0 {
		tmax = math.Max(1, pts[n-1].T)
	}
	pw := float64(w - left - 20)
	for i, s := range panels {
		y0 := float64(top + i*(panelH+gap))
		vmax := 0.0
		for _, p := range pts {
			vmax = math.Max(vmax, s.v(p))
		}
		if vmax == 0 {
			vmax = 1
		}
		vmax *= 1.1
		fmt.Fprintf(&b, `<text x="%d" y="%.0f">%s</text>`+"\n", left, y0-6, s.title)
		fmt.Fprintf(&b, `<rect x="%d" y="%.0f" width="%.0f" height="%d" fill="none" stroke="#999"/>`+"\n", left, y0, pw, panelH)
		fmt.Fprintf(&b, `<text x="%d" y="%.0f" text-anchor="end">%.4g %s</text>`+"\n", left-4, y0+10, vmax, s.unit)
		fmt.Fprintf(&b, `<text x="%d" y="%.0f" text-anchor="end">0</text>`+"\n", left-4, y0+panelH)
		var path strings.Builder
		for j, p := range pts {
			x := float64(left) + p.T/tmax*pw
			y := y0 + panelH - s.v(p)/vmax*panelH
			cmd := "L"
			if j == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, x, y)
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.5"/>`+"\n", strings.TrimSpace(path.String()), s.color)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">0 s</text><text x="%d" y="%d" text-anchor="end">%.0f s</text>`+"\n",
		left, h-8, w-20, h-8, tmax)
	b.WriteString("</svg>\n")
	return b.String()
}

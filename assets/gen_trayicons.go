//go:build ignore

// gen_trayicons draws the four tray icons from icon.png: the same blue square and document,
// with the badge redrawn for each state. Run with `go generate ./assets` after changing
// icon.png; the PNGs are committed (Fyne 2.7's tray takes PNG, not SVG).
package main

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"math"
	"os"
)

const (
	size   = 64           // tray icons are shown at 16-32 px; 64 stays sharp on high-DPI screens
	cx, cy = 174.5, 174.5 // the badge's centre in icon.png (256 px)
	radius = 48.0         // covers the old badge's edge
	ring   = 5.0          // a white ring separates the badge from the blue square
)

type shape func(x, y float64) bool

func segment(ax, ay, bx, by, halfWidth float64) shape {
	return func(x, y float64) bool {
		dx, dy := bx-ax, by-ay
		t := math.Max(0, math.Min(1, ((x-ax)*dx+(y-ay)*dy)/(dx*dx+dy*dy)))
		return math.Hypot(x-ax-t*dx, y-ay-t*dy) <= halfWidth
	}
}

func rect(x0, y0, x1, y1 float64) shape {
	return func(x, y float64) bool { return x >= x0 && x <= x1 && y >= y0 && y <= y1 }
}

func disc(px, py, r float64) shape {
	return func(x, y float64) bool { return math.Hypot(x-px, y-py) <= r }
}

func triangle(ax, ay, bx, by, qx, qy float64) shape {
	side := func(x1, y1, x2, y2, x, y float64) float64 { return (x2-x1)*(y-y1) - (y2-y1)*(x-x1) }
	return func(x, y float64) bool {
		d1, d2, d3 := side(ax, ay, bx, by, x, y), side(bx, by, qx, qy, x, y), side(qx, qy, ax, ay, x, y)
		neg, pos := d1 < 0 || d2 < 0 || d3 < 0, d1 > 0 || d2 > 0 || d3 > 0
		return !(neg && pos)
	}
}

func union(ss ...shape) shape {
	return func(x, y float64) bool {
		for _, s := range ss {
			if s(x, y) {
				return true
			}
		}
		return false
	}
}

var icons = []struct {
	file  string
	badge color.NRGBA
	glyph shape // relative to the badge's centre
}{
	{"tray-synced.png", color.NRGBA{0x2B, 0xB6, 0x7F, 0xFF}, union(segment(-20, 2, -6, 16, 6.5), segment(-6, 16, 21, -14, 6.5))},
	{"tray-syncing.png", color.NRGBA{0x3B, 0xA7, 0xFF, 0xFF}, union(triangle(-22, -2, 22, -2, 0, -27), rect(-7, -4, 7, 24))},
	{"tray-paused.png", color.NRGBA{0x86, 0x8E, 0x96, 0xFF}, union(rect(-15, -18, -4, 18), rect(4, -18, 15, 18))},
	{"tray-attention.png", color.NRGBA{0xF7, 0x67, 0x07, 0xFF}, union(rect(-5.5, -26, 5.5, 8), disc(0, 19, 6.5))},
}

func main() {
	f, err := os.Open("icon.png")
	if err != nil {
		log.Fatal(err)
	}
	src, err := png.Decode(f)
	if err != nil {
		log.Fatal(err)
	}
	base := image.NewNRGBA(src.Bounds())
	draw.Draw(base, base.Bounds(), src, image.Point{}, draw.Src)
	for _, ic := range icons {
		big := image.NewNRGBA(base.Bounds())
		copy(big.Pix, base.Pix)
		const ss = 4 // supersampling per axis for smooth edges
		for y := 0; y < 256; y++ {
			for x := 0; x < 256; x++ {
				var r, g, b, a, n float64
				for sy := 0; sy < ss; sy++ {
					for sx := 0; sx < ss; sx++ {
						px, py := float64(x)+(float64(sx)+0.5)/ss, float64(y)+(float64(sy)+0.5)/ss
						d := math.Hypot(px-cx, py-cy)
						var c color.NRGBA
						switch {
						case d > radius+ring:
							c = big.NRGBAAt(x, y)
						case d > radius || ic.glyph(px-cx, py-cy):
							c = color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
						default:
							c = ic.badge
						}
						fa := float64(c.A) / 255
						r, g, b, a, n = r+float64(c.R)*fa, g+float64(c.G)*fa, b+float64(c.B)*fa, a+fa, n+1
					}
				}
				if a > 0 {
					big.SetNRGBA(x, y, color.NRGBA{uint8(r / a), uint8(g / a), uint8(b / a), uint8(255 * a / n)})
				}
			}
		}
		if err := os.WriteFile(ic.file, encode(shrink(big)), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// shrink averages blocks of pixels (alpha-weighted) down to size x size.
func shrink(src *image.NRGBA) *image.NRGBA {
	k := src.Bounds().Dx() / size
	out := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var r, g, b, a float64
			for j := 0; j < k; j++ {
				for i := 0; i < k; i++ {
					c := src.NRGBAAt(x*k+i, y*k+j)
					fa := float64(c.A) / 255
					r, g, b, a = r+float64(c.R)*fa, g+float64(c.G)*fa, b+float64(c.B)*fa, a+fa
				}
			}
			if a > 0 {
				out.SetNRGBA(x, y, color.NRGBA{uint8(r/a + 0.5), uint8(g/a + 0.5), uint8(b/a + 0.5), uint8(255*a/float64(k*k) + 0.5)})
			}
		}
	}
	return out
}

func encode(img image.Image) []byte {
	var buf bytesBuffer
	if err := png.Encode(&buf, img); err != nil {
		log.Fatal(err)
	}
	return buf
}

type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

package file

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // image.Decode and DecodeConfig read GIFs
	"image/jpeg"
	"image/png"
	"net/http"
	"net/url"
	"strings"

	"github.com/chatterly/chatterly/api/fault"
)

// allowed are the content types a file may have, as http.DetectContentType
// sniffs them from its first 512 bytes: what the client claims is never
// trusted. Left out on purpose: HTML, XML and SVG (a page or script served
// from the api's origin), and unknown binaries (application/octet-stream:
// executables among them).
var allowed = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true, "image/bmp": true,
	"application/pdf": true, "application/zip": true, "application/x-gzip": true,
	"text/plain; charset=utf-8": true, "text/plain; charset=utf-16le": true, "text/plain; charset=utf-16be": true,
	"audio/mpeg": true, "audio/wave": true, "audio/ogg": true, "application/ogg": true,
	"video/mp4": true, "video/webm": true, "audio/mp4": true,
}

// decodable are the image types the api reads (the standard library's
// decoders): they get their dimensions and variants; other images are
// files like any other.
var decodable = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true}

// Image limits: a picture larger than maxPixels (or wider or taller than
// maxSide) is refused before it is decoded, so a small file that would
// inflate to gigabytes (a decompression bomb) costs only its header.
const (
	maxPixels = 40_000_000
	maxSide   = 16_384
	// ThumbSize bounds a thumbnail's longer side.
	ThumbSize = 360
)

// AvatarSizes are the square sizes an avatar is stored in.
var AvatarSizes = []int{64, 256}

var errType = fault.New(fault.UnsupportedMediaType, "this type of file is not accepted")

// sniff returns the content type of a file starting with head, or an
// unsupported_media_type fault when it is not allowed.
func sniff(head []byte) (string, error) {
	ct := http.DetectContentType(head)
	if !allowed[ct] {
		return "", errType
	}
	return ct, nil
}

// isImage reports whether ct is an image type the api decodes.
func isImage(ct string) bool { return decodable[ct] }

// imageSize reads an image's dimensions from its header and refuses one too
// large to decode.
func imageSize(b []byte) (int, int, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return 0, 0, fault.Invalid("file", "the image cannot be read")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxSide || cfg.Height > maxSide || cfg.Width*cfg.Height > maxPixels {
		return 0, 0, fault.Invalid("file", fmt.Sprintf("images have at most %d pixels, %d on a side", maxPixels, maxSide))
	}
	return cfg.Width, cfg.Height, nil
}

// decode decodes an image whose size imageSize accepted.
func decode(b []byte) (image.Image, error) {
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fault.Invalid("file", "the image cannot be read")
	}
	return img, nil
}

// thumbnail scales img to fit in size×size (never up) and encodes it: JPEG
// for a JPEG, PNG otherwise (transparency kept). It returns the bytes and
// their content type.
func thumbnail(img image.Image, srcType string, size int) ([]byte, string, error) {
	b := img.Bounds()
	w, h := fit(b.Dx(), b.Dy(), size)
	return encode(scale(img, b, w, h), srcType)
}

// avatar crops img to its centred square and scales it to size×size, PNG.
func avatar(img image.Image, size int) ([]byte, error) {
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	x0, y0 := b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2
	out, _, err := encode(scale(img, image.Rect(x0, y0, x0+side, y0+side), min(size, side), min(size, side)), "image/png")
	return out, err
}

func encode(img image.Image, srcType string) ([]byte, string, error) {
	var buf bytes.Buffer
	if srcType == "image/jpeg" {
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 82}); err != nil {
			return nil, "", fmt.Errorf("file: encode jpeg: %w", err)
		}
		return buf.Bytes(), "image/jpeg", nil
	}
	if err := png.Encode(&buf, img); err != nil {
		return nil, "", fmt.Errorf("file: encode png: %w", err)
	}
	return buf.Bytes(), "image/png", nil
}

// fit is w×h scaled to fit in size×size, never up, at least 1×1.
func fit(w, h, size int) (int, int) {
	if w <= size && h <= size {
		return w, h
	}
	if w >= h {
		return size, max(1, h*size/w)
	}
	return max(1, w*size/h), size
}

// scale resamples the part r of src to w×h by area averaging: each output
// pixel is the mean of the source pixels it covers, which is what a
// downscale needs (no aliasing) and costs one pass over the source. An
// upscale (never asked for here) repeats pixels.
func scale(src image.Image, r image.Rectangle, w, h int) *image.NRGBA {
	// Convert once to NRGBA so the inner loop reads bytes, not
	// interface calls (a GIF's paletted image, a JPEG's YCbCr).
	n := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(n, n.Bounds(), src, r.Min, draw.Src)
	sw, sh := r.Dx(), r.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		y0, y1 := y*sh/h, max((y+1)*sh/h, y*sh/h+1)
		for x := 0; x < w; x++ {
			x0, x1 := x*sw/w, max((x+1)*sw/w, x*sw/w+1)
			var rs, gs, bs, as, cnt uint64
			for sy := y0; sy < y1; sy++ {
				row := n.Pix[sy*n.Stride:]
				for sx := x0; sx < x1; sx++ {
					p := row[sx*4 : sx*4+4]
					a := uint64(p[3])
					// Premultiply so transparent pixels lend no colour.
					rs += uint64(p[0]) * a
					gs += uint64(p[1]) * a
					bs += uint64(p[2]) * a
					as += a
					cnt++
				}
			}
			c := color.NRGBA{A: uint8(as / cnt)}
			if as > 0 {
				c.R, c.G, c.B = uint8(rs/as), uint8(gs/as), uint8(bs/as)
			}
			dst.SetNRGBA(x, y, c)
		}
	}
	return dst
}

// disposition is the Content-Disposition of a download: images
// and text inline (shown in the page), everything else as an attachment
// (saved, never rendered by the browser from the api's origin).
func disposition(ct, name string, inline bool) string {
	kind := "attachment"
	if inline && (isImage(ct) || strings.HasPrefix(ct, "image/")) {
		kind = "inline"
	}
	return fmt.Sprintf(`%s; filename="%s"; filename*=UTF-8''%s`, kind, asciiName(name), pathEscape(name))
}

// asciiName is name for the plain filename parameter: printable ASCII
// without quotes or backslashes (the filename* parameter has the rest).
func asciiName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			b[i] = '_'
		}
	}
	return string(b)
}

func pathEscape(s string) string { return url.PathEscape(s) }

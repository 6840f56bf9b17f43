package portal

import (
	"bytes"
	"fmt"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// qrSVG draws text as a QR code in SVG: one path of dark modules with a
// quiet zone of four, scaled by the page. SVG keeps the image a few
// kilobytes and sharp on any screen or printer.
func qrSVG(text string) ([]byte, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	w := &svgWriter{}
	if err := q.Save(w); err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return w.buf.Bytes(), nil
}

// svgWriter is a qrcode.Writer that keeps the SVG in memory.
type svgWriter struct{ buf bytes.Buffer }

const quietZone = 4

func (s *svgWriter) Write(m qrcode.Matrix) error {
	bits := m.Bitmap()
	size := len(bits) + 2*quietZone
	fmt.Fprintf(&s.buf, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, size, size)
	fmt.Fprintf(&s.buf, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, size, size)
	// Bitmap is indexed [x][y] by the library; either way round is a QR
	// code read the same, but keep it as drawn.
	for x, col := range bits {
		for y, dark := range col {
			if dark {
				fmt.Fprintf(&s.buf, "M%d %dh1v1h-1z", x+quietZone, y+quietZone)
			}
		}
	}
	s.buf.WriteString(`"/></svg>`)
	return nil
}

func (s *svgWriter) Close() error { return nil }

var _ qrcode.Writer = (*svgWriter)(nil)

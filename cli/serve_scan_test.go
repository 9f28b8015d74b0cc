package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"html"
	"html/template"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/client/cert"
)

// printedVerifyURL is the verification page a certificate was printed
// for: another host than the test server's (a scan is answered by the
// server it is uploaded to, whatever host the link names).
const printedVerifyURL = "https://credit.example.gov.cn/verify"

var qrDataURL = regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`)

// printedQR is the PNG QR code of a certificate's printable page, taken
// from the page cert.RenderHTML makes (what `cert print` prints).
func printedQR(t *testing.T, jws, verifyURL string) []byte {
	t.Helper()
	c, err := cert.Parse(jws)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := cert.RenderHTML(&page, c, cert.PageOptions{VerifyURL: verifyURL}); err != nil {
		t.Fatal(err)
	}
	m := qrDataURL.FindStringSubmatch(page.String())
	if m == nil {
		t.Fatal("the printable page has no PNG QR code")
	}
	b, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1])) // html/template writes + as &#43;
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t *testing.T, img image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// scannedPage mimics a scanned printout: an A4 page at 150 dpi, off-white
// paper with lines of dark "text", and the QR code scaled by a factor
// that is not a whole number (bilinear) in the lower right.
func scannedPage(t *testing.T, qrPNG []byte) *image.RGBA {
	t.Helper()
	qr := decodePNG(t, qrPNG)
	page := image.NewRGBA(image.Rect(0, 0, 1240, 1754))
	draw.Draw(page, page.Bounds(), image.NewUniform(color.RGBA{0xf4, 0xf1, 0xe8, 0xff}), image.Point{}, draw.Src)
	ink := image.NewUniform(color.RGBA{0x30, 0x30, 0x38, 0xff})
	for y := 150; y < 1250; y += 48 {
		for x := 120; x < 1120; x += 70 {
			draw.Draw(page, image.Rect(x, y, x+52+(x*y)%15, y+18), ink, image.Point{}, draw.Src)
		}
	}
	const scale = 1.37
	qb := qr.Bounds()
	size := int(float64(qb.Dx()) * scale)
	x0, y0 := 860, 1330
	lum := func(x, y int) float64 {
		x, y = min(max(x, 0), qb.Dx()-1), min(max(y, 0), qb.Dy()-1)
		r, _, _, _ := color.GrayModel.Convert(qr.At(qb.Min.X+x, qb.Min.Y+y)).RGBA()
		return float64(r >> 8)
	}
	for dy := range size {
		for dx := range size {
			fx, fy := float64(dx)/scale, float64(dy)/scale
			ix, iy := int(fx), int(fy)
			ax, ay := fx-float64(ix), fy-float64(iy)
			v := (1-ax)*(1-ay)*lum(ix, iy) + ax*(1-ay)*lum(ix+1, iy) + (1-ax)*ay*lum(ix, iy+1) + ax*ay*lum(ix+1, iy+1)
			// Printed black is not black, nor white the paper's white.
			v = 0x28 + v*(0xe8-0x28)/255
			page.Set(x0+dx, y0+dy, color.RGBA{uint8(v), uint8(v), uint8(v * 0.97), 0xff})
		}
	}
	return page
}

// greyQR is the QR code as a grey image.
func greyQR(t *testing.T, qrPNG []byte) *image.Gray {
	t.Helper()
	qr := decodePNG(t, qrPNG)
	g := image.NewGray(qr.Bounds())
	draw.Draw(g, g.Bounds(), qr, qr.Bounds().Min, draw.Src)
	return g
}

// transparentQR is the QR code in black on a transparent background (as
// some tools export a QR code): transparent must read as white.
func transparentQR(t *testing.T, qrPNG []byte) *image.NRGBA {
	t.Helper()
	g := greyQR(t, qrPNG)
	out := image.NewNRGBA(g.Bounds())
	for i, v := range g.Pix {
		out.Pix[4*i+3] = 255 - v // black opaque, white transparent; colour black
	}
	return out
}

// countingLedger counts the ledger calls of the server.
type countingLedger struct {
	cert.Ledger
	calls atomic.Int64
}

func (l *countingLedger) CertificateHistory(ctx context.Context, id string) ([]credit.HistoryEntry, client.Result, error) {
	l.calls.Add(1)
	return l.Ledger.CertificateHistory(ctx, id)
}

func (l *countingLedger) TransactionByID(ctx context.Context, txID string) (*peer.ProcessedTransaction, error) {
	l.calls.Add(1)
	return l.Ledger.TransactionByID(ctx, txID)
}

func (l *countingLedger) BlockByTxID(ctx context.Context, txID string) (*common.Block, error) {
	l.calls.Add(1)
	return l.Ledger.BlockByTxID(ctx, txID)
}

// scan posts the scan form: the image as field qr (none if nil) and the
// other fields.
func (e *serveEnv) scan(name string, img []byte, fields map[string]string) (int, string) {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if img != nil {
		fw, _ := w.CreateFormFile("qr", name)
		fw.Write(img)
	}
	w.Close()
	resp, err := http.Post(e.http.URL+"/scan", w.FormDataContentType(), &body)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// linkOf is the QR link of a certificate on the test server.
func linkOf(t *testing.T, jws string) string {
	t.Helper()
	c, err := cert.Parse(jws)
	if err != nil {
		t.Fatal(err)
	}
	return "/verify?id=" + url.QueryEscape(c.Credential.CertificateID()) + "&digest=" + c.Digest
}

// TestServeScanAnswersAsTheQRLink: an image of a printed certificate's QR
// code (the PNG of the printable page, a JPEG of it, a scanned page holding
// it) uploaded to the scan form gives the very page the QR link gives:
// same look-up on the ledger, same verdict, same content (issue 6: the
// auditor "pastes, uploads or scans a certificate (or opens its QR
// link)").
func TestServeScanAnswersAsTheQRLink(t *testing.T) {
	e := newServeEnv(t)
	cases := []struct {
		name    string
		jws     string
		url     string // the printed page's --verify-url
		asOf    string
		verdict string
		reason  string
	}{
		{"valid", e.valid.JWS, printedVerifyURL, "", "valid", ""},
		{"revoked", e.revoked.JWS, printedVerifyURL, "", "invalid", "revoked"},
		{"revoked, as of before the revocation", e.revoked.JWS, printedVerifyURL, "2026-03-04", "valid", ""},
		{"batch member", e.batch[1].JWS, printedVerifyURL, "", "valid", ""},
		{"printed behind a path prefix", e.valid.JWS, "http://10.0.0.8:8088/credit/verify", "", "valid", ""},
		{"printed without a verification page (creditcert:ID:digest)", e.valid.JWS, "", "", "valid", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			link := linkOf(t, tc.jws)
			if tc.asOf != "" {
				link += "&asOf=" + tc.asOf
			}
			code, _, want := e.get(link)
			if code != http.StatusOK {
				t.Fatalf("QR link: status %d", code)
			}
			if v, reasons := verdictOf(t, want); v != tc.verdict || strings.Join(reasons, ",") != tc.reason {
				t.Fatalf("QR link: verdict %s %v, want %s %q", v, reasons, tc.verdict, tc.reason)
			}
			// The reader's luminance paths: a paletted PNG (the printed
			// QR), grey, RGBA (opaque PNG), NRGBA (PNG with alpha), YCbCr
			// (JPEG).
			qr := printedQR(t, tc.jws, tc.url)
			scan := scannedPage(t, qr)
			images := map[string][]byte{
				"qr.png":             qr,
				"qr-grey.png":        encodePNG(t, greyQR(t, qr)),
				"qr-transparent.png": encodePNG(t, transparentQR(t, qr)),
				"qr.jpg":             encodeJPEG(t, decodePNG(t, qr), 75),
				"scan-a4.jpg":        encodeJPEG(t, scan, 80),
				"scan-a4.png":        encodePNG(t, scan),
			}
			for name, img := range images {
				code, got := e.scan(name, img, map[string]string{"asOf": tc.asOf})
				if code != http.StatusOK {
					t.Fatalf("%s: status %d\n%s", name, code, got)
				}
				if got != want {
					v, reasons := verdictOf(t, got)
					t.Errorf("%s: the page differs from the QR link's (verdict %s %v)", name, v, reasons)
				}
			}
		})
	}
}

// pngHeader is the start of a PNG declaring w×h pixels: the signature and
// a valid IHDR chunk, then junk where the pixels would be.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit grey
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	b.WriteString("junk where the IDAT chunk would be")
	return b.Bytes()
}

// TestServeScanRefusals: an upload that is not an image, an image without
// a QR code, a QR code holding anything but one of our verification
// links, a file over 10 MiB or an image over 25 megapixels (checked from
// the header, before decoding: a decompression bomb) is refused with
// HTTP 400 and the form again, with a message in Chinese and English
// naming the field and the rule; nothing is looked up on the ledger.
func TestServeScanRefusals(t *testing.T) {
	e := newServeEnv(t)
	l := &countingLedger{Ledger: e.srv.ledger}
	e.srv.ledger = l
	qrOf := func(text string) []byte {
		b, err := qrcode.Encode(text, qrcode.Medium, 256)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	digest := e.valid.Credential.CredentialStatus.Digest
	white := image.NewGray(image.Rect(0, 0, 600, 400))
	draw.Draw(white, white.Bounds(), image.White, image.Point{}, draw.Src)
	notOurs := []string{"二维码图片（qr）", "不是本系统证书的核验链接", "QR image (field qr)", "not one of our certificate verification links"}
	cases := []struct {
		name   string
		file   string
		img    []byte
		fields map[string]string
		shows  []string
	}{
		{"no image chosen", "", nil, nil, []string{"二维码图片（qr）：请选择", "QR image (field qr): choose"}},
		{"not an image", "cert.jws", []byte(e.valid.JWS), nil, []string{"二维码图片（qr）：不是 PNG 或 JPEG 图片", "QR image (field qr): not a PNG or JPEG image"}},
		{"a GIF", "qr.gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), nil, []string{"不是 PNG 或 JPEG 图片", "not a PNG or JPEG image"}},
		{"damaged PNG", "qr.png", []byte("\x89PNG\r\n\x1a\nnot really"), nil, []string{"二维码图片（qr）：图片文件损坏", "QR image (field qr): the image is damaged"}},
		{"truncated PNG", "qr.png", qrOf(e.valid.JWS[:20])[:300], nil, []string{"图片文件损坏", "the image is damaged"}},
		{"image without a QR code", "white.png", encodePNG(t, white), nil, []string{"二维码图片（qr）：图片中未找到可识别的二维码", "QR image (field qr): no readable QR code was found"}},
		{"photo without a QR code", "white.jpg", encodeJPEG(t, white, 80), nil, []string{"未找到可识别的二维码", "no readable QR code"}},
		{"QR code of a web site", "qr.png", qrOf("https://example.com/hello"), nil, append(notOurs, "the path is not /verify", "路径不是 /verify")},
		{"QR code of text", "qr.png", qrOf("你好，审计员"), nil, append(notOurs, "not an http(s) link")},
		{"another path", "qr.png", qrOf("https://credit.example.gov.cn/verify2?id=CRT-VALID&digest=" + digest), nil, append(notOurs, "the path is not /verify")},
		{"link without digest", "qr.png", qrOf("https://credit.example.gov.cn/verify?id=CRT-VALID"), nil, append(notOurs, "the parameter id or digest is missing")},
		{"link with another parameter", "qr.png", qrOf("https://credit.example.gov.cn/verify?id=CRT-VALID&digest=" + digest + "&c=eyJ"), nil, append(notOurs, "it has a parameter c ours never have")},
		{"link with id twice", "qr.png", qrOf("https://credit.example.gov.cn/verify?id=CRT-VALID&id=CRT-REVOKED&digest=" + digest), nil, append(notOurs, "the parameter id occurs more than once")},
		{"link of another scheme", "qr.png", qrOf("ftp://credit.example.gov.cn/verify?id=CRT-VALID&digest=" + digest), nil, append(notOurs, "not an http(s) link")},
		{"creditcert without digest", "qr.png", qrOf("creditcert:CRT-VALID"), nil, append(notOurs, "the digest is missing")},
		{"file over 10 MiB", "big.png", append(pngHeader(1000, 1000), make([]byte, 10<<20)...), nil, []string{"二维码图片（qr）：文件过大，上限 10 MiB", "QR image (field qr): the file is too large; the limit is 10 MiB"}},
		{"file just over 10 MiB", "big.png", append(pngHeader(1000, 1000), make([]byte, 10<<20-len(pngHeader(1000, 1000))+1)...), nil, []string{"文件过大", "the file is too large"}},
		{"decompression bomb", "bomb.png", pngHeader(20000, 20000), nil, []string{"二维码图片（qr）：图片为 20000×20000 像素，超过上限 2500 万像素", "QR image (field qr): the image is 20000×20000 pixels, more than the limit of 25000,000 pixels"}},
		{"bad date", "qr.png", printedQR(t, e.valid.JWS, printedVerifyURL), map[string]string{"asOf": "2026-13-01"}, []string{"核验时点（asOf）", "date (field asOf)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := l.calls.Load()
			code, page := e.scan(tc.file, tc.img, tc.fields)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400\n%.2000s", code, page)
			}
			if !strings.Contains(page, `id="error"`) || !strings.Contains(page, `id="scan-form"`) {
				t.Errorf("not the form with an error:\n%.2000s", page)
			}
			for _, want := range tc.shows {
				if !strings.Contains(page, template.HTMLEscapeString(want)) {
					t.Errorf("page lacks %q:\n%s", want, errorOf(page))
				}
			}
			if n := l.calls.Load() - before; n != 0 {
				t.Errorf("%d ledger calls for a refused scan", n)
			}
		})
	}
	t.Run("a good scan does ask the ledger", func(t *testing.T) {
		before := l.calls.Load()
		if code, _ := e.scan("qr.png", printedQR(t, e.valid.JWS, printedVerifyURL), nil); code != http.StatusOK || l.calls.Load() == before {
			t.Fatalf("status %d, %d ledger calls", code, l.calls.Load()-before)
		}
	})
}

var errorDiv = regexp.MustCompile(`(?s)<div class="error" id="error" role="alert">(.*?)</div>`)

func errorOf(page string) string {
	if m := errorDiv.FindStringSubmatch(page); m != nil {
		return m[1]
	}
	return "(no error shown)"
}

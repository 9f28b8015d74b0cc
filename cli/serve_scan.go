package cli

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/countycredit/creditledger/client/cert"
)

// Scanning a printed certificate: the auditor uploads an image (a scan or a
// phone photo of the paper, or the QR image itself) and the server reads
// its QR code. The pages run no script, so the browser cannot decode it.
// What the QR holds (cert.QRContent) is the verification link
// <page>/verify?id=…&digest=…, or without a --verify-url at printing
// "creditcert:<ID>:<digest>"; either is then answered exactly as the link
// is (handleVerifyLink: s.lookup on the ledger, the lookup page). The link's
// host is not used: whatever page printed it, the certificate is looked up
// on this server's ledger.

// Limits of a scanned image. A 300 dpi scan of an A4 page is 8.7
// megapixels, a phone photo 12; a compressed image may still declare far
// more pixels than its bytes (a decompression bomb), so the size in the
// header is checked before any pixel is decoded. Decoding holds up to 4
// bytes a pixel, and at most maxScanDecodes images are decoded at once.
const (
	maxScanBytes   = 10 << 20 // the image file
	maxScanPixels  = 25_000_000
	maxScanDecodes = 2
)

// scanSlots bounds the images being decoded at once (memory).
var scanSlots = make(chan struct{}, maxScanDecodes)

// scanError is a refused scan: what the auditor reads, in Chinese and in
// English, naming the form field and the rule.
type scanError struct{ zh, en string }

func (e *scanError) Error() string { return e.zh + " / " + e.en }

func scanRefusal(zh, en string, args ...any) *scanError {
	return &scanError{zh: fmt.Sprintf(zh, args...), en: fmt.Sprintf(en, args...)}
}

// handleScan reads the QR code of an uploaded image (form field "qr", and
// "asOf") and answers as the link it holds; a refused image shows the form
// again with the reason (400), and nothing is looked up.
func (s *certServer) handleScan(w http.ResponseWriter, r *http.Request) {
	// The image, and a little for the other fields and the multipart
	// framing.
	r.Body = http.MaxBytesReader(w, r.Body, maxScanBytes+64<<10)
	p := indexPage{Mode: cert.ModeOnline}
	if s.ledger == nil {
		p.Mode = cert.ModeOffline
	}
	refuse := func(err *scanError) { s.formError(w, p, err.Error()) }
	if err := r.ParseMultipartForm(maxFormMemory); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			refuse(tooLargeImage())
			return
		}
		refuse(scanRefusal("无法读取表单（需以 multipart/form-data 上传二维码图片 qr）：%v", "cannot read the form (upload the QR image as field qr, multipart/form-data): %v", err))
		return
	}
	defer r.MultipartForm.RemoveAll()
	p.AsOf = r.FormValue("asOf")
	asOf, err := parseAsOf(p.AsOf)
	if err != nil {
		refuse(&scanError{zh: "核验时点（asOf）：" + err.Error(), en: fmt.Sprintf("date (field asOf): %q is not a date YYYY-MM-DD", p.AsOf)})
		return
	}
	f, _, err := r.FormFile("qr")
	if errors.Is(err, http.ErrMissingFile) {
		refuse(scanRefusal("二维码图片（qr）：请选择纸质证书的扫描件、照片或二维码图片（PNG 或 JPEG）。", "QR image (field qr): choose a scan or photo of the printed certificate, or its QR image (PNG or JPEG)."))
		return
	}
	if err != nil {
		refuse(scanRefusal("二维码图片（qr）：无法读取上传的文件：%v", "QR image (field qr): cannot read the uploaded file: %v", err))
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxScanBytes+1))
	if err != nil {
		refuse(scanRefusal("二维码图片（qr）：无法读取上传的文件：%v", "QR image (field qr): cannot read the uploaded file: %v", err))
		return
	}
	if len(data) > maxScanBytes {
		refuse(tooLargeImage())
		return
	}
	text, serr := s.readQR(r, data)
	if serr != nil {
		refuse(serr)
		return
	}
	id, digest, serr := parseQRContent(text)
	if serr != nil {
		refuse(serr)
		return
	}
	s.renderLookup(w, r, id, digest, asOf)
}

func tooLargeImage() *scanError {
	return scanRefusal("二维码图片（qr）：文件过大，上限 %d MiB。", "QR image (field qr): the file is too large; the limit is %d MiB.", maxScanBytes>>20)
}

// readQR decodes a PNG or JPEG image and reads the QR code in it.
func (s *certServer) readQR(r *http.Request, data []byte) (string, *scanError) {
	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		decodeConfig, decode = png.DecodeConfig, png.Decode
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	default:
		return "", scanRefusal("二维码图片（qr）：不是 PNG 或 JPEG 图片。", "QR image (field qr): not a PNG or JPEG image.")
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", scanRefusal("二维码图片（qr）：图片文件损坏，无法读取：%v", "QR image (field qr): the image is damaged and cannot be read: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxScanPixels {
		return "", scanRefusal("二维码图片（qr）：图片为 %d×%d 像素，超过上限 %d 万像素；请降低扫描分辨率或裁剪到二维码附近。",
			"QR image (field qr): the image is %d×%d pixels, more than the limit of %d0,000 pixels; scan at a lower resolution or crop it around the QR code.",
			cfg.Width, cfg.Height, maxScanPixels/10_000)
	}
	select {
	case scanSlots <- struct{}{}:
		defer func() { <-scanSlots }()
	case <-r.Context().Done():
		return "", scanRefusal("二维码图片（qr）：请求已取消。", "QR image (field qr): the request was cancelled.")
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return "", scanRefusal("二维码图片（qr）：图片文件损坏，无法读取：%v", "QR image (field qr): the image is damaged and cannot be read: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(luminance(img)))
	if err != nil {
		return "", scanRefusal("二维码图片（qr）：无法处理图片：%v", "QR image (field qr): cannot process the image: %v", err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", scanRefusal("二维码图片（qr）：图片中未找到可识别的二维码；请上传清晰、完整、端正的二维码。",
			"QR image (field qr): no readable QR code was found in the image; upload a sharp picture showing the whole QR code.")
	}
	return res.GetText(), nil
}

// luminance is the image's grey level for the QR reader: a JPEG's Y plane
// or a grey image as they are, an 8-bit colour image converted here (as
// gozxing does, (R+2G+B)/4, transparent as white, but without a call per
// pixel), any other image converted by gozxing.
func luminance(img image.Image) gozxing.LuminanceSource {
	b := img.Bounds()
	planar := func(pix []byte, w, h int) gozxing.LuminanceSource {
		src, _ := gozxing.NewPlanarYUVLuminanceSource(pix, w, h, 0, 0, w, h, false)
		return src
	}
	switch m := img.(type) {
	case *image.RGBA: // alpha-premultiplied
		lum := make([]byte, 0, b.Dx()*b.Dy())
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):m.PixOffset(b.Max.X, y)]
			for i := 0; i < len(row); i += 4 {
				v := (int(row[i])+2*int(row[i+1])+int(row[i+2]))/4 + 255 - int(row[i+3])
				lum = append(lum, byte(min(v, 255)))
			}
		}
		return planar(lum, b.Dx(), b.Dy())
	case *image.NRGBA:
		lum := make([]byte, 0, b.Dx()*b.Dy())
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):m.PixOffset(b.Max.X, y)]
			for i := 0; i < len(row); i += 4 {
				a := int(row[i+3])
				v := (int(row[i])+2*int(row[i+1])+int(row[i+2]))/4*a/255 + 255 - a
				lum = append(lum, byte(v))
			}
		}
		return planar(lum, b.Dx(), b.Dy())
	case *image.YCbCr:
		if src, err := gozxing.NewPlanarYUVLuminanceSource(m.Y, m.YStride, len(m.Y)/m.YStride, b.Min.X-m.Rect.Min.X, b.Min.Y-m.Rect.Min.Y, b.Dx(), b.Dy(), false); err == nil {
			return src
		}
	case *image.Gray:
		if src, err := gozxing.NewPlanarYUVLuminanceSource(m.Pix, m.Stride, len(m.Pix)/m.Stride, b.Min.X-m.Rect.Min.X, b.Min.Y-m.Rect.Min.Y, b.Dx(), b.Dy(), false); err == nil {
			return src
		}
	}
	return gozxing.NewLuminanceSourceFromImage(img)
}

// parseQRContent reads the certificate ID and digest from what a printed
// certificate's QR code holds (cert.QRContent): a link http(s)://<any
// host>[/<prefix>]/verify?id=<ID>&digest=<digest> with no other parameter,
// or creditcert:<ID>:<digest>. The ID and digest themselves are checked
// by the look-up, as for an opened link.
func parseQRContent(text string) (id, digest string, err *scanError) {
	notOurs := func(why, whyEn string) *scanError {
		return &scanError{
			zh: fmt.Sprintf("二维码图片（qr）：二维码内容 %s 不是本系统证书的核验链接（应为 …/verify?id=证书编号&digest=内容摘要，或 creditcert:证书编号:内容摘要）：%s。", quoteQR(text), why),
			en: fmt.Sprintf("QR image (field qr): the QR code holds %s, which is not one of our certificate verification links (…/verify?id=<ID>&digest=<digest>, or creditcert:<ID>:<digest>): %s.", quoteQR(text), whyEn),
		}
	}
	if rest, ok := strings.CutPrefix(text, "creditcert:"); ok {
		i := strings.LastIndex(rest, ":")
		if i < 0 {
			return "", "", notOurs("缺少内容摘要", "the digest is missing")
		}
		return rest[:i], rest[i+1:], nil
	}
	u, perr := url.Parse(text)
	switch {
	case perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "", "", notOurs("不是 http(s) 链接", "not an http(s) link")
	case u.Path != "/verify" && !strings.HasSuffix(u.Path, "/verify"):
		return "", "", notOurs("路径不是 /verify", "the path is not /verify")
	case u.Fragment != "" || u.User != nil:
		return "", "", notOurs("链接含有多余的部分", "the link has parts ours never have")
	}
	q, perr := url.ParseQuery(u.RawQuery)
	if perr != nil {
		return "", "", notOurs("参数无法解析", "its parameters cannot be parsed")
	}
	for k, v := range q {
		if k != "id" && k != "digest" {
			return "", "", notOurs("含有多余的参数 "+k, "it has a parameter "+k+" ours never have")
		}
		if len(v) != 1 {
			return "", "", notOurs("参数 "+k+" 出现多次", "the parameter "+k+" occurs more than once")
		}
	}
	if len(q["id"]) == 0 || len(q["digest"]) == 0 {
		return "", "", notOurs("缺少参数 id 或 digest", "the parameter id or digest is missing")
	}
	return q.Get("id"), q.Get("digest"), nil
}

// quoteQR quotes a QR code's text for a message, shortened if long.
func quoteQR(text string) string {
	const max = 120
	if utf8.RuneCountInString(text) > max {
		text = string([]rune(text)[:max]) + "…"
	}
	return fmt.Sprintf("%q", text)
}

// renderLookup answers a QR code's certificate ID and digest: the look-up
// on the ledger and its page (the QR link and a scanned QR code alike).
func (s *certServer) renderLookup(w http.ResponseWriter, r *http.Request, id, digest string, asOf time.Time) {
	lr := s.lookup(r.Context(), id, digest, asOf)
	render(w, http.StatusOK, "lookup", lookupPage{pageBase: s.base("二维码核验"), Lookup: lr, Counties: s.countyName})
}

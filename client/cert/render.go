package cert

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	qrcode "github.com/skip2/go-qrcode"
)

//go:embed page.html.tmpl
var pageFS embed.FS

var pageTmpl = template.Must(template.New("page.html.tmpl").Funcs(template.FuncMap{
	"label":   Label,
	"purpose": credit.PurposeLabel,
	"measure": MeasureLabel,
	"beijing": func(t time.Time) string {
		return t.In(credit.CST).Format("2006年01月02日 15:04:05") + "（北京时间）"
	},
	"instant": func(s string) string {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.In(credit.CST).Format("2006-01-02 15:04")
		}
		return s
	},
	"measures": func(vs []string) string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = MeasureLabel(v)
		}
		return strings.Join(out, "、")
	},
}).ParseFS(pageFS, "page.html.tmpl"))

// zhLabels are the Chinese labels of the enumerations a certificate shows
// (DESIGN §8 and docs/CERTIFICATES.md).
var zhLabels = map[string]string{
	// subject kinds
	credit.SubjectEnterprise: "企业", credit.SubjectPerson: "自然人",
	// punishment kinds and severities
	credit.PunishmentPublicity: "行政处罚信息公示", credit.PunishmentBlacklist: "严重失信主体名单", credit.PunishmentWatchlist: "重点关注名单",
	credit.SeverityGeneral: "一般失信", credit.SeveritySerious: "严重失信", credit.SeveritySpecial: "特定严重失信",
	// commitment kinds and states
	credit.CommitmentApproval: "告知承诺", credit.CommitmentMissingMaterials: "容缺受理", credit.CommitmentVoluntary: "主动型信用承诺",
	credit.CommitmentIndustry: "行业自律型信用承诺", credit.CommitmentRepair: "信用修复承诺",
	credit.StateMade: "履行中", credit.StateOverdue: "已逾期", credit.StateBreached: "已违诺",
	// certificate states
	credit.CertValid: "有效", credit.CertSuspended: "已暂停", credit.CertRevoked: "已撤销", credit.CertExpired: "已过期",
}

// measureLabels are the joint punishment measures (联合惩戒措施, seed 004).
var measureLabels = map[string]string{
	"procurement": "限制参与政府采购", "bidding": "限制参与招标投标", "subsidy": "限制申请财政资金、补贴",
	"tax-preference": "限制享受税收优惠", "honours": "限制评优评先", "inspection": "提高监督检查频次",
	"high-consumption": "限制高消费", "market-access": "限制市场准入、行政许可", "financing": "限制融资授信",
}

// MeasureLabel is the Chinese label of a joint punishment measure.
func MeasureLabel(m string) string {
	if l, ok := measureLabels[m]; ok {
		return l
	}
	return m
}

// Label is the Chinese label of an enumeration value of a certificate
// (subject kind, punishment kind, severity, commitment kind or state,
// certificate state); the value itself if it has none. Purposes:
// credit.PurposeLabel; measures: MeasureLabel.
func Label(v string) string {
	if l, ok := zhLabels[v]; ok {
		return l
	}
	return v
}

// PageOptions change the printed page.
type PageOptions struct {
	// VerifyURL, if set, makes the QR code a verification link:
	// VerifyURL?id=<certificate ID>&digest=<status digest>.
	VerifyURL string
	// Report, if set, shows a verification result on the page.
	Report *Report
	// Counties names counties by code (e.g. the trust roots' registry).
	Counties []TrustCounty
}

// QRContent is what a certificate's QR code holds: the verification link,
// or without one "creditcert:<certificate ID>:<status digest>".
func QRContent(c *Certificate, verifyURL string) string {
	id := c.Credential.CertificateID()
	if verifyURL == "" {
		return "creditcert:" + id + ":" + c.Digest
	}
	sep := "?"
	if strings.Contains(verifyURL, "?") {
		sep = "&"
	}
	return verifyURL + sep + "id=" + url.QueryEscape(id) + "&digest=" + c.Digest
}

type pageData struct {
	C         *Certificate
	S         *credit.CertificateStatus
	Issued    string
	Valid     string
	QR        template.URL
	QRText    string
	Report    *Report
	County    func(code string) string
	Generated string
}

// RenderHTML writes a printable page in Chinese for a certificate: issuer,
// subject, purpose, validity, the credit status with its punishments,
// commitments, repairs (已修复) and enforcements, the ledger anchor, the
// digest and a QR code; with a report, the verdict and its reasons.
func RenderHTML(w io.Writer, c *Certificate, opts PageOptions) error {
	s, err := c.Status()
	if err != nil {
		return fmt.Errorf("render certificate: %w", err)
	}
	content := QRContent(c, opts.VerifyURL)
	png, err := qrcode.Encode(content, qrcode.Medium, 256)
	if err != nil {
		return fmt.Errorf("render certificate: qr code: %w", err)
	}
	names := map[string]string{}
	for _, x := range opts.Counties {
		names[x.Code] = x.Name
	}
	issued := s.AsOf
	if t, err := time.Parse(time.RFC3339, s.AsOf); err == nil {
		issued = t.In(credit.CST).Format("2006年01月02日 15:04:05") + "（北京时间）"
	}
	valid := c.Credential.ValidFrom + " 至 " + c.Credential.ValidUntil
	from, err1 := time.Parse(time.RFC3339, c.Credential.ValidFrom)
	until, err2 := time.Parse(time.RFC3339, c.Credential.ValidUntil)
	if err1 == nil && err2 == nil {
		valid = from.In(credit.CST).Format("2006年01月02日") + " 至 " + until.In(credit.CST).Format("2006年01月02日")
	}
	d := pageData{
		C: c, S: s, Issued: issued, Valid: valid, Report: opts.Report, QRText: content,
		QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		County: func(code string) string {
			if n := names[code]; n != "" {
				return n + "（" + code + "）"
			}
			return code
		},
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, d); err != nil {
		return fmt.Errorf("render certificate: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// FindChromium returns the path of a Chromium or Chrome binary on PATH.
func FindChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on PATH (Debian: apt-get install chromium)")
}

// PrintPDF prints an HTML page to a PDF file with headless Chromium
// (chromium: its path, see FindChromium). It starts Chromium with a
// throw-away profile and without background networking, and waits for it
// to finish or ctx to end.
func PrintPDF(ctx context.Context, chromium string, html []byte, pdfPath string) error {
	dir, err := os.MkdirTemp("", "creditcert-print-")
	if err != nil {
		return fmt.Errorf("print pdf: %w", err)
	}
	defer os.RemoveAll(dir)
	page := filepath.Join(dir, "certificate.html")
	if err := os.WriteFile(page, html, 0o600); err != nil {
		return fmt.Errorf("print pdf: %w", err)
	}
	out, err := filepath.Abs(pdfPath)
	if err != nil {
		return fmt.Errorf("print pdf: %w", err)
	}
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--no-pdf-header-footer",
		"--print-to-pdf="+out, "file://"+page)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("print pdf with %s: %w: %s", chromium, err, bytes.TrimSpace(msg))
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF")) {
		return fmt.Errorf("print pdf: %s did not write a PDF to %s", chromium, out)
	}
	return nil
}

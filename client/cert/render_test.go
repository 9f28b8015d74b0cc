package cert_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"html"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client/cert"
	"github.com/countycredit/creditledger/client/cert/certtest"
)

func renderFixture(t *testing.T) (*certtest.Consortium, *certtest.Issued, *cert.Report) {
	t.Helper()
	c := certtest.New(t)
	recs := append(punishmentOf(subjX),
		&credit.Repair{Header: credit.Header{Kind: credit.TypeRepair, ID: "rep-1", Subject: subjX, County: "330782", State: credit.StateCompleted}, PunishmentID: "pun-0", Severity: "general", ClosedAt: "2026-01-05T02:00:00Z"},
		&credit.Commitment{Header: credit.Header{Kind: credit.TypeCommitment, ID: "com-1", Subject: subjX, County: "330783", State: credit.StateMade}, CommitmentKind: credit.CommitmentMissingMaterials, MadeOn: credit.MustDate("2026-02-01"), Deadline: credit.MustDate("2026-02-10")},
	)
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), recs, nil, certtest.TxOptions{})
	r := c.Verifier().VerifyOffline(iss.JWS, c.Bundle(iss.JWS), asOf("2026-03-10"))
	return c, iss, r
}

// TestRenderHTML: the printable page is in Chinese, labels every
// enumeration, shows the conclusion, the punishments with their measures,
// the overdue commitment, the repair as 已修复, the anchor and the digest,
// the verdict when given, and a QR code (a PNG) holding the certificate ID
// and digest, or a verification link.
func TestRenderHTML(t *testing.T) {
	c, iss, r := renderFixture(t)
	parsed, err := cert.Parse(iss.JWS)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := cert.RenderHTML(&buf, parsed, cert.PageOptions{Report: r, Counties: c.Trust().Counties}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		"社会信用区块链证书", "义乌市信用办", subjX, "（企业）", "招投标", "存在不良信用记录", "严重失信主体名单", "严重失信", "限制参与招标投标",
		"2029-02-01", "义乌市（330782）", "容缺受理", "已逾期", "东阳市（330783）", "已修复", "rep-1", iss.TxID, parsed.Digest,
		`data-verdict="valid"`, "核验结果：有效", "离线核验", "离线无法核验交易有效性标志", "creditcert:cert-1:" + parsed.Digest,
		"2026年03月02日 至 2026年06月30日", "2026年03月02日 10:00:00（北京时间）",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	m := regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no QR image")
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1])) // html/template writes + as &#43;
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil || img.Bounds().Dx() != 256 {
		t.Fatalf("QR image: %v %v", err, img)
	}
	if got := cert.QRContent(parsed, "https://verify.example/v?lang=zh"); got != "https://verify.example/v?lang=zh&id=cert-1&digest="+parsed.Digest {
		t.Fatalf("QR link %s", got)
	}
	buf.Reset()
	if err := cert.RenderHTML(&buf, parsed, cert.PageOptions{}); err != nil || strings.Contains(buf.String(), "核验结果") {
		t.Fatalf("page without report: %v", err)
	}
}

// TestPrintPDF prints the page with headless Chromium where it is
// installed (Debian package chromium).
func TestPrintPDF(t *testing.T) {
	chromium, err := cert.FindChromium()
	if err != nil {
		t.Skipf("%v", err)
	}
	_, iss, r := renderFixture(t)
	parsed, _ := cert.Parse(iss.JWS)
	var buf bytes.Buffer
	if err := cert.RenderHTML(&buf, parsed, cert.PageOptions{Report: r}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "cert.pdf")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cert.PrintPDF(ctx, chromium, buf.Bytes(), out); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if len(b) < 1000 || !bytes.HasPrefix(b, []byte("%PDF")) {
		t.Fatalf("pdf: %d bytes", len(b))
	}
}

package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The verification page in a real browser: Debian's headless Chromium,
// driven by chromedp over the DevTools protocol. `make test` installs
// Chromium when it is missing (make browser); in CI (CI=true) a missing
// browser fails these tests, elsewhere it skips them with a message.

// chromiumPath is the browser the tests drive: $CHROMIUM if set (and
// nothing else), else Debian's /usr/bin/chromium or chromium on PATH.
func chromiumPath(t testing.TB) string {
	t.Helper()
	candidates := []string{"/usr/bin/chromium"}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	if p := os.Getenv("CHROMIUM"); p != "" {
		candidates = []string{p}
	}
	for _, p := range candidates {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	msg := "no Chromium (/usr/bin/chromium, or $CHROMIUM): install it with `make browser` (Debian packages chromium and fonts-noto-cjk)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI must run the browser tests")
	}
	t.Skip(msg)
	return ""
}

// pageBrowser is a headless Chromium with a fresh profile, closed at the
// end of the test. It records every URL the pages request.
type pageBrowser struct {
	t   testing.TB
	ctx context.Context

	mu       sync.Mutex
	requests []string
}

func newPageBrowser(t testing.TB) *pageBrowser {
	path := chromiumPath(t)
	// The profile is removed by the cleanup below, once the browser is
	// gone (t.TempDir's own removal can race with its last writes).
	profile, err := os.MkdirTemp("", "creditctl-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	// The flags of a machine whose network is closed: no background
	// networking, component updates, sync or QUIC, a new profile.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	// cdproto v0.0.0-20250403 predates some values newer Chromium sends
	// in network events (IP address space "Loopback"): those events are
	// dropped, which these tests do not need; anything else is logged.
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "IPAddressSpace") {
			t.Logf("chromedp: %s", msg)
		}
	}))
	ctx, tcancel := context.WithTimeout(ctx, 3*time.Minute)
	b := &pageBrowser{t: t, ctx: ctx}
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser
		tcancel()
		cancel()
		acancel() // waits for the browser process to exit
		for i := 0; ; i++ {
			if err := os.RemoveAll(profile); err == nil || i == 20 {
				if err != nil {
					t.Logf("remove the browser profile %s: %v", profile, err)
				}
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			b.mu.Lock()
			b.requests = append(b.requests, e.Request.URL)
			b.mu.Unlock()
		}
	})
	if err := chromedp.Run(ctx); err != nil { // start the browser now
		t.Fatalf("start %s: %v", path, err)
	}
	return b
}

// verdict waits for the page's verdict element and returns its
// data-verdict and the reasons of its findings.
func (b *pageBrowser) verdict() (string, string) {
	b.t.Helper()
	var v, reasons string
	var ok bool
	err := chromedp.Run(b.ctx,
		chromedp.WaitVisible("#verdict", chromedp.ByID),
		chromedp.AttributeValue("#verdict", "data-verdict", &v, &ok, chromedp.ByID),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('#verdict .finding')).map(e => e.dataset.reason).join(',')`, &reasons),
	)
	if err != nil || !ok {
		var html string
		_ = chromedp.Run(b.ctx, chromedp.OuterHTML("html", &html))
		b.t.Fatalf("no verdict on the page (%v):\n%.3000s", err, html)
	}
	return v, reasons
}

// paste opens the form, pastes the certificate and submits it.
func (b *pageBrowser) paste(base, jws string, extra ...chromedp.Action) (string, string) {
	b.t.Helper()
	acts := []chromedp.Action{
		chromedp.Navigate(base + "/"),
		chromedp.WaitVisible("#jws", chromedp.ByID),
		chromedp.SetValue("#jws", jws, chromedp.ByID),
	}
	acts = append(acts, extra...)
	acts = append(acts, chromedp.Click("#submit", chromedp.ByID))
	if err := chromedp.Run(b.ctx, acts...); err != nil {
		b.t.Fatalf("paste: %v", err)
	}
	return b.verdict()
}

// upload opens the form, chooses the certificate file (and the form's
// other files by input ID) and submits it.
func (b *pageBrowser) upload(base, file string, files map[string]string, extra ...chromedp.Action) (string, string) {
	b.t.Helper()
	acts := []chromedp.Action{
		chromedp.Navigate(base + "/"),
		chromedp.WaitVisible("#file", chromedp.ByID),
		chromedp.SetUploadFiles("#file", []string{file}, chromedp.ByID),
	}
	for id, f := range files {
		acts = append(acts, chromedp.SetUploadFiles("#"+id, []string{f}, chromedp.ByID))
	}
	acts = append(acts, extra...)
	acts = append(acts, chromedp.Click("#submit", chromedp.ByID))
	if err := chromedp.Run(b.ctx, acts...); err != nil {
		b.t.Fatalf("upload: %v", err)
	}
	return b.verdict()
}

// scan opens the form, chooses an image for the scan form's QR field and
// submits it.
func (b *pageBrowser) scan(base, image string) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#qr", chromedp.ByID),
		chromedp.SetUploadFiles("#qr", []string{image}, chromedp.ByID),
		chromedp.Click("#scan-submit", chromedp.ByID),
	); err != nil {
		b.t.Fatalf("scan: %v", err)
	}
}

// open follows a link (a QR code's) and returns the verdict shown.
func (b *pageBrowser) open(link string) (string, string) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, chromedp.Navigate(link)); err != nil {
		b.t.Fatalf("open %s: %v", link, err)
	}
	return b.verdict()
}

// screenshot saves the page as PNG in $CREDIT_SCREENSHOT_DIR, if set (to
// look at the pages: make test leaves it unset).
func (b *pageBrowser) screenshot(name string) {
	dir := os.Getenv("CREDIT_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	var png []byte
	if err := chromedp.Run(b.ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Error(err)
	}
}

// text returns the text of an element.
func (b *pageBrowser) text(sel string) string {
	b.t.Helper()
	var s string
	if err := chromedp.Run(b.ctx, chromedp.Text(sel, &s, chromedp.ByQuery)); err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// onlyFrom fails the test if a page requested anything but base and
// data: URLs.
func (b *pageBrowser) onlyFrom(base string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requests) == 0 {
		b.t.Fatal("no request was recorded")
	}
	for _, u := range b.requests {
		if !strings.HasPrefix(u, base+"/") && !strings.HasPrefix(u, "data:") {
			b.t.Errorf("the page requested %s, outside %s", u, base)
		}
	}
}

func writeTemp(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServePageInChromium: in a real headless Chromium, a valid, a
// tampered and a revoked certificate each show the right verdict (the
// element id="verdict", attribute data-verdict), whether pasted, uploaded,
// opened from the QR link or scanned (a screenshot of the certificate's
// page through the scan form); offline verification with an uploaded
// bundle; the dashboard; and no page fetches anything from elsewhere
// (issue 6, "A web verification page for auditors").
func TestServePageInChromium(t *testing.T) {
	e := newServeEnv(t)
	b := newPageBrowser(t)
	base := e.http.URL

	if v, r := b.paste(base, e.valid.JWS); v != "valid" || r != "" {
		t.Errorf("valid certificate, pasted: %s %q", v, r)
	}
	if s := b.text("#conclusion"); s != "存在不良信用记录" {
		t.Errorf("conclusion shown: %q", s)
	}
	b.screenshot("valid")
	tampered := writeTemp(t, "tampered.jws", tamperPayload(t, e.valid.JWS))
	if v, r := b.upload(base, tampered, nil); v != "invalid" || r != "bad-signature" {
		t.Errorf("tampered certificate, uploaded: %s %q", v, r)
	}
	b.screenshot("tampered")
	if v, r := b.paste(base, e.revoked.JWS); v != "invalid" || r != "revoked" {
		t.Errorf("revoked certificate, pasted: %s %q", v, r)
	}
	if v, r := b.paste(base, e.revoked.JWS, chromedp.SetValue("#asOf", "2026-03-04", chromedp.ByID)); v != "valid" {
		t.Errorf("revoked certificate as of the day before: %s %q", v, r)
	}
	if v, r := b.open(base + qrLink(t, e.revoked.JWS)); v != "invalid" || r != "revoked" {
		t.Errorf("revoked certificate, QR link: %s %q", v, r)
	}
	b.screenshot("revoked-qr")
	if v, r := b.open(base + qrLink(t, e.valid.JWS)); v != "valid" || r != "" {
		t.Errorf("valid certificate, QR link: %s %q", v, r)
	}
	if s := b.text("#state"); !strings.Contains(s, "有效") {
		t.Errorf("QR page state: %q", s)
	}
	if v, r := b.open(base + "/verify?id=CRT-VALID&digest=" + strings.Repeat("0", 64)); v != "invalid" || r != "anchor-mismatch" {
		t.Errorf("QR link with another digest: %s %q", v, r)
	}
	// Scanning: a screenshot of the revoked certificate's page as this
	// server shows it (the printable page, its QR code a link back here),
	// uploaded through the scan form, answers as the QR link.
	if v, r := b.paste(base, e.revoked.JWS); v != "invalid" || r != "revoked" {
		t.Errorf("revoked certificate, pasted: %s %q", v, r)
	}
	var shot []byte
	if err := chromedp.Run(b.ctx, chromedp.FullScreenshot(&shot, 100)); err != nil {
		t.Fatal(err)
	}
	b.scan(base, writeTemp(t, "photo.png", string(shot)))
	if v, r := b.verdict(); v != "invalid" || r != "revoked" {
		t.Errorf("revoked certificate, scanned: %s %q", v, r)
	}
	if s := b.text("#certificate-id"); s != "CRT-REVOKED" {
		t.Errorf("scanned certificate ID shown: %q", s)
	}
	b.screenshot("revoked-scan")
	b.scan(base, tampered)
	if s := b.text("#error"); !strings.Contains(s, "二维码图片（qr）：不是 PNG 或 JPEG 图片") || !strings.Contains(s, "QR image (field qr): not a PNG or JPEG image") {
		t.Errorf("a certificate file given as the QR image: error shown %q", s)
	}
	var bundle strings.Builder
	e.c.Bundle(e.batch[0].JWS).WriteTo(&bundle)
	member := writeTemp(t, "member.jws", e.batch[0].JWS)
	if v, r := b.upload(base, member, map[string]string{"bundle": writeTemp(t, "bundle.json", bundle.String())},
		chromedp.Click("#mode-offline", chromedp.ByID)); v != "valid" || r != "" {
		t.Errorf("batch member offline with its bundle: %s %q", v, r)
	}
	if err := chromedp.Run(b.ctx, chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible("#blacklist", chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	if n := b.text("#blacklist-count"); n != "1" {
		t.Errorf("dashboard black list count %q", n)
	}
	b.screenshot("dashboard")
	if err := chromedp.Run(b.ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible("#jws", chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	b.screenshot("form")
	b.onlyFrom(base)
}

// TestMissingChromiumFailsInCI: without a browser the browser tests fail
// when CI=true (CI must run them) and skip, saying why, elsewhere. The
// test binary runs itself with $CHROMIUM naming a browser that is not
// there.
func TestMissingChromiumFailsInCI(t *testing.T) {
	if os.Getenv("CREDIT_BROWSER_CHILD") != "" {
		t.Skip("child run")
	}
	for _, ci := range []string{"true", ""} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestServePageInChromium$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "CHROMIUM=/nonexistent/chromium", "CI="+ci, "CREDIT_BROWSER_CHILD=1")
		out, err := cmd.CombinedOutput()
		switch {
		case ci == "true" && (err == nil || !strings.Contains(string(out), "CI must run the browser tests")):
			t.Errorf("CI=true without a browser: err %v\n%s", err, out)
		case ci == "" && (err != nil || !strings.Contains(string(out), "--- SKIP: TestServePageInChromium") || !strings.Contains(string(out), "make browser")):
			t.Errorf("without a browser outside CI: err %v\n%s", err, out)
		}
	}
}

// TestCertPrintPDF: cert print --pdf prints the page with Chromium.
func TestCertPrintPDF(t *testing.T) {
	path := chromiumPath(t)
	e := newCertEnv(t)
	file := e.issue("CRT-PDF", certSubject)
	deps := e.deps
	deps.Chromium = func() (string, error) { return path, nil }
	o := &CertPrintOptions{Base: e.base(OutputPlain), certDeps: deps, File: file, PDF: e.path("c.pdf")}
	if err := runCertPrint(o); err != nil {
		t.Fatal(err)
	}
	if pdf := e.read("c.pdf"); len(pdf) < 1000 || !strings.HasPrefix(pdf, "%PDF") {
		t.Fatalf("not a PDF: %d bytes", len(pdf))
	}
}

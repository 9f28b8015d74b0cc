//go:build integration

package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/client/cert"
)

// TestServePageOnNetworkInChromium: the whole path on the real network
// (make test's, CREDIT_TEST_PROFILE) in a real headless Chromium:
// certificates issued and revoked with creditctl itself, `creditctl serve`
// connected as the county's read-only auditor1 with the trust roots read
// from the channel, and the page showing a valid, a tampered and a revoked
// certificate with the right verdict, pasted, uploaded and from the QR
// link.
func TestServePageOnNetworkInChromium(t *testing.T) {
	profile := os.Getenv("CREDIT_TEST_PROFILE")
	if profile == "" {
		t.Fatal("CREDIT_TEST_PROFILE is not set: run through make test (network/with-network.sh)")
	}
	b := newPageBrowser(t) // before the network work: skip or fail early without a browser
	dir := t.TempDir()
	env := map[string]string{"CREDITCTL_PROFILE": profile, "CREDITCTL_OUTPUT": "plain"}
	getenv := func(k string) string { return env[k] }
	ctl := func(want int, args ...string) string {
		t.Helper()
		ios, _, out, errOut := Test()
		if code := Main(&Factory{IO: ios, Getenv: getenv}, args); code != want {
			t.Fatalf("creditctl %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out.String()
	}
	company := randomCompany("330782")
	ctl(0, "punishment", "impose", "--subject", company, "--kind", "publicity", "--severity", "general", "--decision-date", "today",
		"--decision-no", "义市监罚〔2026〕88号", "--legal-basis", "《行政处罚法》", "--measure", "procurement")
	run := randomHex(4)
	validFile, revokedFile := filepath.Join(dir, "valid.jws"), filepath.Join(dir, "revoked.jws")
	ctl(0, "cert", "issue", "--id", "CRT-WEB-"+run, "--subject", company, "--purpose", "bidding", "--valid-until", "+1m", "--out", validFile)
	ctl(0, "cert", "issue", "--id", "CRT-WEB-R-"+run, "--subject", company, "--purpose", "loan", "--valid-until", "+1m", "--out", revokedFile)
	ctl(0, "cert", "revoke", "CRT-WEB-R-"+run, "--reason", "浏览器测试撤销")
	read := func(p string) string {
		s, err := readJWS("f", p, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid, revoked := read(validFile), read(revokedFile)
	tamperedFile := filepath.Join(dir, "tampered.jws")
	if err := os.WriteFile(tamperedFile, []byte(tamperPayload(t, valid)), 0o644); err != nil {
		t.Fatal(err)
	}

	// creditctl serve on a free port, stopped at the end of the test
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	ios, _, _, serveErr := Test()
	f := &Factory{IO: ios, Getenv: getenv}
	go func() {
		done <- parseServe(f, func(o *ServeOptions) {
			o.ready = func(a string) { addr <- a }
			o.signals = func() (context.Context, context.CancelFunc) { return ctx, cancel }
		}, "serve", "--addr", "127.0.0.1:0")
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, serveErr)
	case <-time.After(time.Minute):
		t.Fatal("serve did not start in a minute")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})

	if v, r := b.paste(base, valid); v != "valid" || r != "" {
		t.Errorf("valid certificate, pasted: %s %q", v, r)
	}
	if v, r := b.upload(base, tamperedFile, nil); v != "invalid" || r != "bad-signature" {
		t.Errorf("tampered certificate, uploaded: %s %q", v, r)
	}
	if v, r := b.paste(base, revoked); v != "invalid" || r != "revoked" {
		t.Errorf("revoked certificate, pasted: %s %q", v, r)
	}
	c, err := cert.Parse(revoked)
	if err != nil {
		t.Fatal(err)
	}
	if v, r := b.open(cert.QRContent(c, base+"/verify")); v != "invalid" || r != "revoked" {
		t.Errorf("revoked certificate, QR link: %s %q", v, r)
	}
	if s := b.text("#state"); !strings.Contains(s, "浏览器测试撤销") {
		t.Errorf("QR page state %q", s)
	}
	if c, err = cert.Parse(valid); err != nil {
		t.Fatal(err)
	}
	if v, r := b.open(cert.QRContent(c, base+"/verify")); v != "valid" || r != "" {
		t.Errorf("valid certificate, QR link: %s %q", v, r)
	}
	if s := b.text("#conclusion"); s != "存在不良信用记录" {
		t.Errorf("QR page conclusion %q", s)
	}
	b.onlyFrom(base)
	if !regexp.MustCompile(`trust roots of channel credit, fingerprint [0-9a-f]{64}`).MatchString(serveErr.String()) {
		t.Errorf("serve did not say which trust roots it uses:\n%s", serveErr)
	}
}

// parseServe runs `serve` through a root command (so the settings flags
// apply), with edit applied to its options before it runs.
func parseServe(f *Factory, edit func(*ServeOptions), args ...string) error {
	root := NewRootCmd(f)
	root.ResetCommands()
	root.AddCommand(NewCmdServe(f, func(o *ServeOptions) error {
		edit(o)
		return runServe(o)
	}))
	root.SetArgs(args)
	var buf bytes.Buffer
	root.SetErr(&buf)
	return root.Execute()
}

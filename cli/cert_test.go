package cli

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client/cert"
	"github.com/countycredit/creditledger/client/cert/certtest"
)

var certtestOpts = certtest.TxOptions{}

var (
	certSubject = credit.CompleteCreditCode("91330782MA2CERT01")
	certOther   = credit.CompleteCreditCode("91330782MA2CERT02")
)

// punishedSubject gives the fake ledger an active black-listing of s.
func (e *certEnv) punishedSubject(s string) {
	e.l.records[s] = []credit.Record{&credit.Punishment{
		Header:         credit.Header{Kind: credit.TypePunishment, ID: "PUN-1", Subject: s, County: "330782", Department: "market", State: credit.StateActive},
		PunishmentKind: credit.PunishmentBlacklist, Severity: credit.SeveritySerious, DecisionDate: credit.MustDate("2026-02-01"),
		DecisionNo: "义市监罚〔2026〕1号", Measures: []string{"bidding"}, RuleSet: "ndrc-2019", MaxEnd: credit.MustDate("2029-02-01"), Revision: 1,
	}}
}

// tamperPayload changes the certificate's content (the status claims no
// adverse record) and keeps the header and signature: a forged copy.
func tamperPayload(t *testing.T, jws string) string {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(jws), ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(raw), `"noAdverseRecord":false`, `"noAdverseRecord":true`, 1)
	if forged == string(raw) {
		forged = strings.Replace(string(raw), `"purpose":"bidding"`, `"purpose":"loan"`, 1)
	}
	if forged == string(raw) {
		t.Fatal("tamperPayload: nothing to change")
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(forged))
	return strings.Join(parts, ".")
}

// TestCertIssueVerifyOnlineOfflineRevoke: the issue 6 life cycle through
// the commands: issue writes a certificate that verifies online and
// offline (trust export + bundle); after revocation online verification
// answers invalid (revoked, exit 7) while --as-of the day before still
// answers valid; the bundle made before the revocation still says valid
// offline and notes that it cannot see later changes.
func TestCertIssueVerifyOnlineOfflineRevoke(t *testing.T) {
	e := newCertEnv(t)
	e.punishedSubject(certSubject)
	file := e.issue("CRT-1", certSubject)
	if out := e.out(); !strings.Contains(out, "certificateId\tCRT-1") || !regexp.MustCompile(`(?m)^digest\t[0-9a-f]{64}$`).MatchString(out) ||
		!strings.Contains(out, "noAdverseRecord\tfalse") || !strings.Contains(out, "alg\tES256") {
		t.Fatalf("issue output:\n%s", out)
	}
	if !strings.Contains(e.errOut(), "committed in block") {
		t.Errorf("issue progress: %q", e.errOut())
	}
	if !e.l.closed {
		t.Error("ledger connection not closed")
	}
	jws, err := readJWS("f", file, nil)
	if err != nil {
		t.Fatal(err)
	}

	if code := e.verify(CertVerifyOptions{File: file}); code != ExitOK {
		t.Fatalf("online verify exit %d:\n%s", code, e.out())
	}
	if !strings.Contains(e.out(), "verdict\tvalid") || !strings.Contains(e.out(), "mode\tonline") || !strings.Contains(e.out(), "state\tvalid") {
		t.Fatalf("online report:\n%s", e.out())
	}

	// trust export, then a bundle with those trust roots, verified offline
	trustFile := e.path("trust.json")
	if err := runTrustExport(&TrustExportOptions{Base: e.base(OutputPlain), certDeps: e.deps, Out: trustFile}); err != nil {
		t.Fatal(err)
	}
	if want := e.l.c.Trust().Fingerprint(); !strings.Contains(e.out(), "fingerprint\t"+want) {
		t.Fatalf("trust export output lacks fingerprint %s:\n%s", want, e.out())
	}
	bundle := e.path("bundle.json")
	if err := runCertBundle(&CertBundleOptions{Base: e.base(OutputPlain), certDeps: e.deps, Files: []string{file}, Out: bundle, Trust: trustFile}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.out(), "certificates\t1") {
		t.Fatalf("bundle output:\n%s", e.out())
	}
	connects := e.connects
	if code := e.verify(CertVerifyOptions{File: file, Offline: true, Bundle: bundle, Trust: trustFile}); code != ExitOK {
		t.Fatalf("offline verify exit %d:\n%s", code, e.out())
	}
	if e.connects != connects {
		t.Error("offline verification connected to the ledger")
	}
	for _, want := range []string{"mode\toffline", "note\tvalidity-flag-unchecked", "note\trevocation-after-bundle"} {
		if !strings.Contains(e.out(), want) {
			t.Errorf("offline report lacks %q:\n%s", want, e.out())
		}
	}

	// revoke: online now invalid (7), the reason printed and in the error
	e.l.c.SetDate("2026-03-05")
	if err := runCertStatus(&CertStatusOptions{Base: e.base(OutputPlain), certDeps: e.deps, ID: "CRT-1", Status: credit.CertRevoked, Reason: "主体隐瞒失信记录"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.out(), "state\trevoked") || !strings.Contains(e.out(), "statusReason\t主体隐瞒失信记录") {
		t.Fatalf("revoke output:\n%s", e.out())
	}
	o := CertVerifyOptions{File: file}
	o.Base, o.certDeps = e.base(OutputPlain), e.deps
	err = runCertVerify(&o)
	if ExitCode(err) != ExitCertInvalid || !strings.Contains(err.Error(), "certificate CRT-1 is invalid: revoked") {
		t.Fatalf("after revocation: exit %d, %v", ExitCode(err), err)
	}
	if !strings.Contains(e.out(), "finding\trevoked: ") {
		t.Fatalf("report after revocation:\n%s", e.out())
	}
	if code := e.verify(CertVerifyOptions{File: file, AsOf: "2026-03-04"}); code != ExitOK {
		t.Fatalf("--as-of the day before the revocation: exit %d\n%s", code, e.out())
	}
	if code := e.verify(CertVerifyOptions{File: file, Bundle: bundle}); code != ExitOK || !strings.Contains(e.out(), "note\ttrust-from-bundle") {
		t.Fatalf("old bundle, its own trust: exit %d\n%s", code, e.out())
	}
	o = CertVerifyOptions{File: "-", AsOf: "2026-03-05"}
	o.Base, o.certDeps = e.base(OutputPlain), e.deps
	e.in.WriteString(jws + "\n")
	if code := ExitCode(runCertVerify(&o)); code != ExitCertInvalid {
		t.Errorf("stdin, as of the revocation day: exit %d", code)
	}
}

// TestCertVerifyExitCodes: valid 0, invalid 7, cannot tell 8, each with
// its reason (docs/CERTIFICATES.md §5; issue 6: "valid / invalid / cannot
// tell with reasons").
func TestCertVerifyExitCodes(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(e *certEnv, file string) CertVerifyOptions
		code   int
		reason string
	}{
		{"valid", func(e *certEnv, file string) CertVerifyOptions { return CertVerifyOptions{File: file} }, ExitOK, ""},
		{"tampered content", func(e *certEnv, file string) CertVerifyOptions {
			b, _ := os.ReadFile(file)
			writeFile(e.t, file, tamperPayload(e.t, string(b)))
			return CertVerifyOptions{File: file}
		}, ExitCertInvalid, "bad-signature"},
		{"not a certificate", func(e *certEnv, file string) CertVerifyOptions {
			writeFile(e.t, file, "hello.world")
			return CertVerifyOptions{File: file}
		}, ExitCertInvalid, "malformed"},
		{"suspended", func(e *certEnv, file string) CertVerifyOptions {
			e.l.c.SetStatus(e.l.co, "CRT-1", credit.CertSuspended, "核查", certtestOpts)
			return CertVerifyOptions{File: file}
		}, ExitCertInvalid, "suspended"},
		{"expired", func(e *certEnv, file string) CertVerifyOptions {
			return CertVerifyOptions{File: file, AsOf: "2026-06-03"}
		}, ExitCertInvalid, "expired"},
		{"before issuance", func(e *certEnv, file string) CertVerifyOptions {
			return CertVerifyOptions{File: file, AsOf: "2026-03-01"}
		}, ExitCertInvalid, "not-yet-valid"},
		{"ledger down", func(e *certEnv, file string) CertVerifyOptions {
			e.l.Ledger.Down = true
			return CertVerifyOptions{File: file, Trust: e.trustFile()}
		}, ExitCertUndecided, "ledger-unavailable"},
		{"bundle without the anchoring block", func(e *certEnv, file string) CertVerifyOptions {
			b := e.l.c.Bundle(e.jws(file))
			b.Blocks = nil
			return CertVerifyOptions{File: file, Bundle: e.writeBundle(b)}
		}, ExitCertUndecided, "evidence-missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newCertEnv(t)
			file := e.issue("CRT-1", certSubject)
			o := tc.setup(e, file)
			if o.File == "-" {
				t.Fatal("no stdin here")
			}
			o.Base, o.certDeps = e.base(OutputJSON), e.deps
			err := runCertVerify(&o)
			if got := ExitCode(err); got != tc.code {
				t.Fatalf("exit %d (%v), want %d\n%s", got, err, tc.code, e.out())
			}
			var r cert.Report
			if err := json.Unmarshal([]byte(e.out()), &r); err != nil {
				t.Fatalf("-o json: %v\n%s", err, e.out())
			}
			if tc.reason == "" && len(r.Findings) != 0 || tc.reason != "" && !r.Has(cert.Reason(tc.reason)) {
				t.Fatalf("findings %v, want %q", r.Findings, tc.reason)
			}
			if tc.reason != "" && !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q does not name the reason %s", err, tc.reason)
			}
		})
	}
}

func (e *certEnv) jws(file string) string {
	s, err := readJWS("f", file, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *certEnv) trustFile() string {
	p := e.path("trust.json")
	fh, err := os.Create(p)
	if err != nil {
		e.t.Fatal(err)
	}
	defer fh.Close()
	if _, err := e.l.c.Trust().WriteTo(fh); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *certEnv) writeBundle(b *cert.Bundle) string {
	p := e.path("bundle.json")
	fh, err := os.Create(p)
	if err != nil {
		e.t.Fatal(err)
	}
	defer fh.Close()
	if _, err := b.WriteTo(fh); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// TestCertIssueRefusesBadInputBeforeSending: bad input is exit 2 with the
// field and the rule, and nothing reaches the ledger (DESIGN §6).
func TestCertIssueRefusesBadInputBeforeSending(t *testing.T) {
	cases := []struct {
		name  string
		req   credit.IssueCertificateRequest
		out   string
		pdf   bool
		field string
	}{
		{"unknown purpose", credit.IssueCertificateRequest{Subject: certSubject, Purpose: "visa", ValidUntil: "+1m"}, "", false, "purpose (--purpose)"},
		{"bad subject", credit.IssueCertificateRequest{Subject: "91330782MA2CERT011", Purpose: "loan", ValidUntil: "+1m"}, "", false, "subject (--subject)"},
		{"validity in the past", credit.IssueCertificateRequest{Subject: certSubject, Purpose: "loan", ValidUntil: "-1d"}, "", false, "validUntil (--valid-until)"},
		{"validity over 12 months", credit.IssueCertificateRequest{Subject: certSubject, Purpose: "loan", ValidUntil: "+13m"}, "", false, "validUntil (--valid-until)"},
		{"not a date", credit.IssueCertificateRequest{Subject: certSubject, Purpose: "loan", ValidUntil: "soon"}, "", false, "validUntil (--valid-until)"},
		{"output folder missing", credit.IssueCertificateRequest{Subject: certSubject, Purpose: "loan", ValidUntil: "+1m"}, "/nonexistent/c.jws", false, "output /nonexistent/c.jws"},
		{"pdf without chromium", credit.IssueCertificateRequest{Subject: certSubject, Purpose: "loan", ValidUntil: "+1m"}, "", true, "--pdf"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newCertEnv(t)
			o := &CertIssueOptions{Base: e.base(OutputPlain), certDeps: e.deps, Req: tc.req, Out: tc.out}
			if o.Out == "" {
				o.Out = e.path("c.jws")
			}
			if tc.pdf {
				o.PDF = e.path("c.pdf")
			}
			err := runCertIssue(o)
			var fe *credit.FieldError
			if ExitCode(err) != ExitInvalid || !errors.As(err, &fe) || !strings.HasPrefix(fe.Field, tc.field) {
				t.Fatalf("err = %v (exit %d), want a field error naming %q", err, ExitCode(err), tc.field)
			}
			if e.connects != 0 || len(e.l.calls) != 0 {
				t.Fatalf("the ledger was used: %d connections, calls %v", e.connects, e.l.calls)
			}
		})
	}
}

// TestCertIssueWritesThePrintablePage: --html writes the page in Chinese
// whose QR code is the verification link (issue 6: "printable output, an
// HTML page in Chinese with a QR code").
func TestCertIssueWritesThePrintablePage(t *testing.T) {
	e := newCertEnv(t)
	e.punishedSubject(certSubject)
	o := &CertIssueOptions{Base: e.base(OutputJSON), certDeps: e.deps, Out: e.path("c.jws"), HTML: e.path("c.html"), VerifyURL: "http://127.0.0.1:8088/verify",
		Req: credit.IssueCertificateRequest{ID: "CRT-P", Subject: certSubject, Purpose: credit.PurposeLicence, ValidUntil: "2026-12-31"}}
	if err := runCertIssue(o); err != nil {
		t.Fatal(err)
	}
	var res CertIssued
	if err := json.Unmarshal([]byte(e.out()), &res); err != nil || res.CertificateID != "CRT-P" || res.HTML != o.HTML {
		t.Fatalf("-o json: %v %+v", err, res)
	}
	page := e.read("c.html")
	for _, want := range []string{"社会信用区块链证书", "行政许可", "存在不良信用记录", "严重失信主体名单", "http://127.0.0.1:8088/verify?id=CRT-P&amp;digest=" + res.Digest} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// cert print makes the same page from the file
	p := &CertPrintOptions{Base: e.base(OutputPlain), certDeps: e.deps, File: o.Out, HTML: e.path("p.html")}
	if err := runCertPrint(p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.out(), "qr\tcreditcert:CRT-P:"+res.Digest) || !strings.Contains(e.read("p.html"), "社会信用区块链证书") {
		t.Fatalf("print output:\n%s", e.out())
	}
	// --pdf without a browser: a clear refusal, and the HTML still possible
	p = &CertPrintOptions{Base: e.base(OutputPlain), certDeps: e.deps, File: o.Out, PDF: e.path("p.pdf")}
	if err := runCertPrint(p); ExitCode(err) != ExitInvalid || !strings.Contains(err.Error(), "apt-get install chromium") || !strings.Contains(err.Error(), "--html") {
		t.Fatalf("pdf without chromium: %v", err)
	}
}

// TestCertIssueSM2: --sm2 signs with the guomi profile and the certificate
// verifies (docs/CERTIFICATES.md §3).
func TestCertIssueSM2(t *testing.T) {
	e := newCertEnv(t)
	o := &CertIssueOptions{Base: e.base(OutputPlain), certDeps: e.deps, Out: e.path("sm2.jws"), SM2: true,
		Req: credit.IssueCertificateRequest{ID: "CRT-SM2", Subject: certSubject, Purpose: credit.PurposeLoan, ValidUntil: "+1m"}}
	if err := runCertIssue(o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.out(), "alg\tSM2SM3") {
		t.Fatalf("output:\n%s", e.out())
	}
	if code := e.verify(CertVerifyOptions{File: o.Out}); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, e.out())
	}
}

// TestCertBatch: a batch of three subjects in anchors of two writes one
// certificate per subject; every member verifies offline from one bundle
// of the folder; one member is revoked alone by its certificate ID, its
// neighbour staying valid, and the batch as a whole by its anchor ID
// (docs/CERTIFICATES.md §2, §4).
func TestCertBatch(t *testing.T) {
	e := newCertEnv(t)
	subjects := e.path("subjects.txt")
	third := credit.CompleteCreditCode("91330782MA2CERT03")
	writeFile(t, subjects, "# bidders\n"+certSubject+"\n\n"+certOther+"\n"+third+"\n")
	dir := e.path("out")
	o := &CertBatchOptions{Base: e.base(OutputPlain), certDeps: e.deps, SubjectsFile: subjects, OutDir: dir, Chunk: 2,
		Req: credit.IssueCertificateBatchRequest{BatchID: "BAT1", Purpose: credit.PurposeBidding, ValidUntil: "+1m"}}
	if err := runCertBatch(o); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"BAT1-001.00001\t" + certSubject + "\tBAT1-001", "BAT1-001.00002\t" + certOther, "BAT1-002.00001\t" + third + "\tBAT1-002"} {
		if !strings.Contains(e.out(), want) {
			t.Errorf("batch output lacks %q:\n%s", want, e.out())
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jws"))
	if len(files) != 3 {
		t.Fatalf("files %v", files)
	}
	bundle := e.path("b.json")
	if err := runCertBundle(&CertBundleOptions{Base: e.base(OutputPlain), certDeps: e.deps, Files: []string{dir}, Out: bundle}); err != nil {
		t.Fatal(err)
	}
	if code := e.verify(CertVerifyOptions{Bundle: bundle}); code != ExitOK {
		t.Fatalf("verify the bundle: exit %d\n%s", code, e.out())
	}
	if n := strings.Count(e.out(), "\tvalid\t"); n != 3 {
		t.Fatalf("%d valid rows, want 3:\n%s", n, e.out())
	}

	// One member alone: revoked, its neighbour still valid, and `cert show`
	// of each says so.
	if err := runCertStatus(&CertStatusOptions{Base: e.base(OutputPlain), certDeps: e.deps, ID: "BAT1-001.00002", Status: credit.CertRevoked, Reason: "新增处罚"}); err != nil {
		t.Fatalf("revoking a member: %v", err)
	}
	if !strings.Contains(e.errOut(), "BAT1-001.00002, member of batch BAT1-001, is now revoked") {
		t.Fatalf("revoking a member said:\n%s", e.errOut())
	}
	if code := e.verify(CertVerifyOptions{File: filepath.Join(dir, "BAT1-001.00002.jws")}); code != ExitCertInvalid || !strings.Contains(e.out(), "revoked") {
		t.Fatalf("the revoked member: exit %d\n%s", code, e.out())
	}
	if code := e.verify(CertVerifyOptions{File: filepath.Join(dir, "BAT1-001.00001.jws")}); code != ExitOK {
		t.Fatalf("the revoked member's neighbour: exit %d\n%s", code, e.out())
	}
	for id, want := range map[string]string{"BAT1-001.00002": credit.CertRevoked, "BAT1-001.00001": credit.CertValid} {
		if err := runCertShow(&CertShowOptions{Base: e.base(OutputJSON), certDeps: e.deps, ID: id}); err != nil {
			t.Fatal(err)
		}
		var shown CertShown
		if err := json.Unmarshal([]byte(e.out()), &shown); err != nil {
			t.Fatal(err)
		}
		last := shown.History[len(shown.History)-1]
		if shown.State != want || shown.AnchorID != "BAT1-001" || last.State != want || len(shown.History) != 2 {
			t.Fatalf("cert show %s: state %s, history %+v", id, shown.State, shown.History)
		}
		if want == credit.CertRevoked && last.Reason != "新增处罚" {
			t.Fatalf("cert show %s: reason %q", id, last.Reason)
		}
	}
	err := runCertShow(&CertShowOptions{Base: e.base(OutputPlain), certDeps: e.deps, ID: "BAT1-001.00003"})
	if ExitCode(err) != ExitInvalid || !strings.Contains(err.Error(), "batch BAT1-001 has 2 members; BAT1-001.00003 is not one of them") {
		t.Fatalf("cert show of a member beyond the batch: exit %d, %v", ExitCode(err), err)
	}
	// The whole batch.
	if err := runCertStatus(&CertStatusOptions{Base: e.base(OutputPlain), certDeps: e.deps, ID: "BAT1-001", Status: credit.CertRevoked, Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	if code := e.verify(CertVerifyOptions{File: filepath.Join(dir, "BAT1-001.00001.jws")}); code != ExitCertInvalid || !strings.Contains(e.out(), "revoked") {
		t.Fatalf("member of a revoked batch: exit %d\n%s", code, e.out())
	}
	if code := e.verify(CertVerifyOptions{File: filepath.Join(dir, "BAT1-002.00001.jws")}); code != ExitOK {
		t.Fatalf("member of the other anchor: exit %d\n%s", code, e.out())
	}

	// a subject listed twice: refused before anything is sent
	writeFile(t, subjects, certSubject+"\n"+certSubject+"\n")
	calls := len(e.l.calls)
	err = runCertBatch(&CertBatchOptions{Base: e.base(OutputPlain), certDeps: e.deps, SubjectsFile: subjects, OutDir: dir,
		Req: credit.IssueCertificateBatchRequest{Purpose: credit.PurposeBidding, ValidUntil: "+1m"}})
	if ExitCode(err) != ExitInvalid || !strings.Contains(err.Error(), "subjects[1] (--subjects-file)") || len(e.l.calls) != calls {
		t.Fatalf("duplicate subject: exit %d, %v", ExitCode(err), err)
	}
}

// TestCertShowHistory: show lists the anchor and every change with its
// reason (issue 6: "every change is on the ledger").
func TestCertShowHistory(t *testing.T) {
	e := newCertEnv(t)
	e.issue("CRT-1", certSubject)
	for _, s := range []string{credit.CertSuspended, credit.CertValid} {
		if err := runCertStatus(&CertStatusOptions{Base: e.base(OutputPlain), certDeps: e.deps, ID: "CRT-1", Status: s, Reason: "because " + s}); err != nil {
			t.Fatal(err)
		}
	}
	if err := runCertShow(&CertShowOptions{Base: e.base(OutputJSON), certDeps: e.deps, ID: "CRT-1"}); err != nil {
		t.Fatal(err)
	}
	var shown CertShown
	if err := json.Unmarshal([]byte(e.out()), &shown); err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, h := range shown.History {
		states = append(states, h.State+":"+h.Reason)
	}
	if strings.Join(states, ",") != "valid:,suspended:because suspended,valid:because valid" || shown.Certificate.Subject != certSubject {
		t.Fatalf("history %v, anchor %+v", states, shown.Certificate)
	}
	if err := runCertShow(&CertShowOptions{Base: func() Base { b := e.base(OutputTable); b.Lang = "zh"; return b }(), certDeps: e.deps, ID: "CRT-1"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"区块链证书", "已暂停", "有效", "用途", "招投标"} {
		if !strings.Contains(e.out(), want) {
			t.Errorf("zh show lacks %q:\n%s", want, e.out())
		}
	}
	if !regexp.MustCompile(`状态变更人 +officer1 \(County330782MSP\)`).MatchString(e.out()) {
		t.Errorf("the status changer is not shown readably:\n%s", e.out())
	}
}

// TestCertVerifyInChinese: --lang zh labels the verdict and each reason as
// the printed page does.
func TestCertVerifyInChinese(t *testing.T) {
	e := newCertEnv(t)
	file := e.issue("CRT-1", certSubject)
	e.l.c.SetStatus(e.l.co, "CRT-1", credit.CertRevoked, "r", certtestOpts)
	o := CertVerifyOptions{File: file}
	o.Base, o.certDeps = e.base(OutputTable), e.deps
	o.Lang = "zh"
	if code := ExitCode(runCertVerify(&o)); code != ExitCertInvalid {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"核验结果", "无效", "证书已撤销", "在线核验", "已撤销"} {
		if !strings.Contains(e.out(), want) {
			t.Errorf("zh report lacks %q:\n%s", want, e.out())
		}
	}
}

// TestCertCommandLine: parsing apart from behaviour; usage mistakes are
// exit 64, and the command does not run.
func TestCertCommandLine(t *testing.T) {
	noun := func(name string, sub *cobra.Command) *cobra.Command {
		c := &cobra.Command{Use: name}
		c.AddCommand(sub)
		return c
	}
	var ran bool
	mark := func() error { ran = true; return nil }
	verify := func(f *Factory) *cobra.Command {
		return noun("cert", NewCmdCertVerify(f, func(*CertVerifyOptions) error { return mark() }))
	}
	issue := func(f *Factory) *cobra.Command {
		return noun("cert", NewCmdCertIssue(f, func(*CertIssueOptions) error { return mark() }))
	}
	batch := func(f *Factory) *cobra.Command {
		return noun("cert", NewCmdCertBatch(f, func(*CertBatchOptions) error { return mark() }))
	}
	revoke := func(f *Factory) *cobra.Command {
		return noun("cert", NewCmdCertStatus(f, credit.CertRevoked, func(*CertStatusOptions) error { return mark() }))
	}
	print := func(f *Factory) *cobra.Command {
		return noun("cert", NewCmdCertPrint(f, func(*CertPrintOptions) error { return mark() }))
	}
	bundle := func(f *Factory) *cobra.Command {
		return noun("cert", NewCmdCertBundle(f, func(*CertBundleOptions) error { return mark() }))
	}
	trust := func(f *Factory) *cobra.Command {
		return noun("trust", NewCmdTrustExport(f, func(*TrustExportOptions) error { return mark() }))
	}
	serve := func(f *Factory) *cobra.Command {
		return NewCmdServe(f, func(*ServeOptions) error { return mark() })
	}
	cases := []struct {
		name  string
		build func(*Factory) *cobra.Command
		args  []string
		code  int
	}{
		{"verify online", verify, []string{"cert", "verify", "c.jws"}, ExitOK},
		{"verify offline", verify, []string{"cert", "verify", "c.jws", "--offline", "--bundle", "b.json", "--as-of", "2026-01-01"}, ExitOK},
		{"verify a bundle", verify, []string{"cert", "verify", "--bundle", "b.json"}, ExitOK},
		{"verify nothing", verify, []string{"cert", "verify"}, ExitUsage},
		{"online and bundle", verify, []string{"cert", "verify", "c.jws", "--online", "--bundle", "b.json"}, ExitUsage},
		{"offline without bundle", verify, []string{"cert", "verify", "c.jws", "--offline"}, ExitUsage},
		{"two files", verify, []string{"cert", "verify", "a", "b"}, ExitUsage},
		{"issue", issue, []string{"cert", "issue", "--subject", "x", "--purpose", "loan", "--valid-until", "+1m", "--sm2"}, ExitOK},
		{"issue with argument", issue, []string{"cert", "issue", "x"}, ExitUsage},
		{"batch without file", batch, []string{"cert", "batch", "--purpose", "loan"}, ExitUsage},
		{"batch chunk too big", batch, []string{"cert", "batch", "--subjects-file", "f", "--chunk", "20000"}, ExitUsage},
		{"revoke", revoke, []string{"cert", "revoke", "CRT-1", "--reason", "r"}, ExitOK},
		{"revoke without id", revoke, []string{"cert", "revoke"}, ExitUsage},
		{"print", print, []string{"cert", "print", "c.jws", "--html", "c.html"}, ExitOK},
		{"print without output", print, []string{"cert", "print", "c.jws"}, ExitUsage},
		{"bundle without files", bundle, []string{"cert", "bundle", "--out", "b.json"}, ExitUsage},
		{"trust export", trust, []string{"trust", "export", "--out", "t.json"}, ExitOK},
		{"serve", serve, []string{"serve", "--addr", "127.0.0.1:0"}, ExitOK},
		{"serve with both index sources", serve, []string{"serve", "--index-dir", "d", "--index-server", "http://x"}, ExitUsage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ran = false
			err := parse(t, tc.build, tc.args...)
			if got := ExitCode(err); got != tc.code {
				t.Fatalf("exit %d (%v), want %d", got, err, tc.code)
			}
			if ran != (tc.code == ExitOK) {
				t.Fatalf("ran = %v", ran)
			}
		})
	}
}

// TestVerifyExitCodesAreTheirOwn: the verdict codes are distinct from
// every other exit code (DESIGN §6).
func TestVerifyExitCodesAreTheirOwn(t *testing.T) {
	seen := map[int]string{}
	for name, c := range map[string]int{"ok": ExitOK, "error": ExitError, "invalid input": ExitInvalid, "forbidden": ExitForbidden,
		"not found": ExitNotFound, "exists": ExitExists, "refused": ExitRefused, "usage": ExitUsage, "unknown commit": ExitUnknownCommit,
		"certificate invalid": ExitCertInvalid, "cannot tell": ExitCertUndecided} {
		if other, ok := seen[c]; ok {
			t.Errorf("exit %d is both %s and %s", c, name, other)
		}
		seen[c] = name
	}
	if verdictExit(cert.Valid) != ExitOK || verdictExit(cert.Invalid) != ExitCertInvalid || verdictExit(cert.CannotTell) != ExitCertUndecided {
		t.Error("verdictExit")
	}
}

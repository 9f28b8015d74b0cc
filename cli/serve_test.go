package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client/cert"
	"github.com/countycredit/creditledger/client/cert/certtest"
	"github.com/countycredit/creditledger/indexer"
	"github.com/countycredit/creditledger/indexer/keys"
)

// serveEnv is the verification page over the certtest consortium: a valid
// certificate, a revoked one, a batch, and a server trusting the
// consortium.
type serveEnv struct {
	t       *testing.T
	c       *certtest.Consortium
	srv     *certServer
	http    *httptest.Server
	valid   *certtest.Issued
	revoked *certtest.Issued
	batch   []*certtest.Issued
	index   *fakeIndex
}

func newServeEnv(t *testing.T) *serveEnv {
	c := certtest.New(t)
	yiwu := c.County("330782")
	req := func(id, subject string) credit.IssueCertificateRequest {
		return credit.IssueCertificateRequest{ID: id, Subject: subject, Purpose: credit.PurposeBidding, ValidUntil: "2026-06-30"}
	}
	e := &serveEnv{t: t, c: c, index: &fakeIndex{}}
	e.valid = c.Issue(yiwu, req("CRT-VALID", certSubject), []credit.Record{&credit.Punishment{
		Header:         credit.Header{Kind: credit.TypePunishment, ID: "PUN-1", Subject: certSubject, County: "330782", Department: "market", State: credit.StateActive},
		PunishmentKind: credit.PunishmentPublicity, Severity: credit.SeverityGeneral, DecisionDate: credit.MustDate("2026-02-01"),
		DecisionNo: "义市监罚〔2026〕7号", Measures: []string{"procurement"}, RuleSet: "ndrc-2019", MaxEnd: credit.MustDate("2027-02-01"), Revision: 1,
	}}, nil, certtest.TxOptions{})
	e.revoked = c.Issue(yiwu, req("CRT-REVOKED", certOther), nil, nil, certtest.TxOptions{})
	e.batch = c.IssueBatch(yiwu, credit.IssueCertificateBatchRequest{BatchID: "BAT-1", Subjects: []string{certSubject, certOther},
		Purpose: credit.PurposeLoan, ValidUntil: "2026-06-30"}, nil, certtest.TxOptions{})
	c.SetDate("2026-03-05")
	c.SetStatus(yiwu, "CRT-REVOKED", credit.CertRevoked, "发现隐瞒失信记录", certtest.TxOptions{})
	c.SetDate("2026-03-10")
	srv, err := newCertServer(c.Ledger(), c.Trust(), func() (indexReader, error) { return e.index, nil }, "330782", func() time.Time { return c.Now })
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.http = httptest.NewServer(srv.Handler())
	t.Cleanup(e.http.Close)
	return e
}

func (e *serveEnv) get(path string) (int, http.Header, string) {
	e.t.Helper()
	resp, err := http.Get(e.http.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// post sends the verification form: fields, and files by field name.
func (e *serveEnv) post(fields map[string]string, files map[string]string) (int, string) {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	for k, v := range files {
		fw, _ := w.CreateFormFile(k, k+".txt")
		io.WriteString(fw, v)
	}
	w.Close()
	resp, err := http.Post(e.http.URL+"/verify", w.FormDataContentType(), &body)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var verdictAttr = regexp.MustCompile(`id="verdict" data-verdict="([a-z-]+)"`)

// verdictOf reads the verdict element of a page, and the reasons.
func verdictOf(t *testing.T, page string) (string, []string) {
	t.Helper()
	m := verdictAttr.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no verdict on the page:\n%s", page)
	}
	var reasons []string
	for _, r := range regexp.MustCompile(`class="finding" data-reason="([a-z-]+)"`).FindAllStringSubmatch(page, -1) {
		reasons = append(reasons, r[1])
	}
	return m[1], reasons
}

func qrLink(t *testing.T, jws string) string {
	t.Helper()
	c, err := cert.Parse(jws)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(cert.QRContent(c, "/verify"))
	return u.String()
}

// TestServeQRLink: the QR link (certificate ID and digest) is checked
// against the ledger: the anchored digest (a batch member's under the
// Merkle root), the issuing transaction, the state and validity at the
// date asked; the content shown is the status the ledger holds (issue 6:
// "opens its QR link, sees the verdict and the content with Chinese
// labels").
func TestServeQRLink(t *testing.T) {
	e := newServeEnv(t)
	cases := []struct {
		name    string
		path    string
		verdict string
		reason  string
		shows   []string
	}{
		{"valid", qrLink(t, e.valid.JWS), "valid", "", []string{"CRT-VALID", "存在不良信用记录", "行政处罚信息公示", "限制参与政府采购", "义乌市（330782）", "招投标", "有效"}},
		{"revoked", qrLink(t, e.revoked.JWS), "invalid", "revoked", []string{"已撤销", "发现隐瞒失信记录", "无不良信用记录"}},
		{"revoked, as of before the revocation", qrLink(t, e.revoked.JWS) + "&asOf=2026-03-04", "valid", "", []string{"最新状态：已撤销"}},
		{"batch member", qrLink(t, e.batch[1].JWS), "valid", "", []string{"批量证书第 1 号叶子，共 2 份", "贷款", certOther}},
		{"another digest", "/verify?id=CRT-VALID&digest=" + strings.Repeat("ab", 32), "invalid", "anchor-mismatch", nil},
		{"a member with another member's digest", "/verify?id=BAT-1.00001&digest=" + e.batch[1].Credential.CredentialStatus.Digest, "invalid", "anchor-mismatch", nil},
		{"the batch anchor itself", "/verify?id=BAT-1&digest=" + e.batch[0].Credential.CredentialStatus.Digest, "invalid", "anchor-mismatch", nil},
		{"unknown certificate", "/verify?id=CRT-NONE&digest=" + strings.Repeat("ab", 32), "invalid", "anchor-not-found", nil},
		{"malformed digest", "/verify?id=CRT-VALID&digest=xyz", "invalid", "malformed", nil},
		{"expired", qrLink(t, e.valid.JWS) + "&asOf=2026-07-01", "invalid", "expired", nil},
		{"before issuance", qrLink(t, e.valid.JWS) + "&asOf=2026-03-01", "invalid", "not-yet-valid", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, page := e.get(tc.path)
			if code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			v, reasons := verdictOf(t, page)
			if v != tc.verdict || (tc.reason != "" && !strings.Contains(strings.Join(reasons, ","), tc.reason)) || (tc.reason == "" && len(reasons) != 0) {
				t.Fatalf("verdict %s %v, want %s %s", v, reasons, tc.verdict, tc.reason)
			}
			for _, want := range tc.shows {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
		})
	}
	t.Run("one member revoked alone", func(t *testing.T) {
		e := newServeEnv(t)
		e.c.SetStatus(e.c.County("330782"), "BAT-1.00002", credit.CertRevoked, "该主体新增行政处罚", certtest.TxOptions{}) // 2026-03-10
		for _, tc := range []struct {
			path, verdict, reason string
			shows                 []string
		}{
			{qrLink(t, e.batch[1].JWS), "invalid", "revoked", []string{"已撤销", "该主体新增行政处罚"}},
			{qrLink(t, e.batch[1].JWS) + "&asOf=2026-03-09", "valid", "", []string{"最新状态：已撤销"}},
			{qrLink(t, e.batch[0].JWS), "valid", "", []string{"有效"}},
		} {
			_, _, page := e.get(tc.path)
			v, reasons := verdictOf(t, page)
			if v != tc.verdict || strings.Join(reasons, ",") != tc.reason {
				t.Errorf("%s: verdict %s %v, want %s %s", tc.path, v, reasons, tc.verdict, tc.reason)
			}
			for _, want := range tc.shows {
				if !strings.Contains(page, want) {
					t.Errorf("%s: page lacks %q", tc.path, want)
				}
			}
			if strings.Contains(page, "该主体新增行政处罚") != (tc.reason != "") {
				t.Errorf("%s: the member's reason shown on the wrong page", tc.path)
			}
		}
	})
	t.Run("server without ledger cannot tell", func(t *testing.T) {
		s, _ := newCertServer(nil, e.c.Trust(), nil, "330782", func() time.Time { return e.c.Now })
		lr := s.lookup(t.Context(), "CRT-VALID", e.valid.Credential.CredentialStatus.Digest, time.Time{})
		if lr.Verdict != cert.CannotTell || lr.Findings[0].Reason != cert.ReasonLedgerUnavailable {
			t.Fatalf("%+v", lr)
		}
	})
	t.Run("ledger down cannot tell", func(t *testing.T) {
		l := e.c.Ledger()
		l.Down = true
		s, _ := newCertServer(l, e.c.Trust(), nil, "330782", func() time.Time { return e.c.Now })
		lr := s.lookup(t.Context(), "CRT-VALID", e.valid.Credential.CredentialStatus.Digest, time.Time{})
		if lr.Verdict != cert.CannotTell || lr.Findings[0].Reason != cert.ReasonLedgerUnavailable {
			t.Fatalf("%+v", lr)
		}
	})
}

// TestServeVerifyForm: a pasted or uploaded certificate is verified on the
// server, online or offline with an uploaded bundle; the page shows the
// verdict with the certificate's content; a form without a certificate,
// or offline without a bundle, is refused with a message (400).
func TestServeVerifyForm(t *testing.T) {
	e := newServeEnv(t)
	bundle := func(jws ...string) string {
		var b bytes.Buffer
		e.c.Bundle(jws...).WriteTo(&b)
		return b.String()
	}
	var trust bytes.Buffer
	e.c.Trust().WriteTo(&trust)
	cases := []struct {
		name    string
		fields  map[string]string
		files   map[string]string
		status  int
		verdict string
		reason  string
		shows   []string
	}{
		{"pasted, online", map[string]string{"jws": e.valid.JWS, "mode": "online"}, nil, 200, "valid", "", []string{"社会信用区块链证书", "CRT-VALID", "在线核验", "web-nav"}},
		{"uploaded, tampered", map[string]string{"mode": "online"}, map[string]string{"file": tamperPayload(t, e.valid.JWS)}, 200, "invalid", "bad-signature", []string{"签名无效（内容被篡改）"}},
		{"revoked", map[string]string{"jws": e.revoked.JWS}, nil, 200, "invalid", "revoked", []string{"证书已撤销"}},
		{"revoked, as of before", map[string]string{"jws": e.revoked.JWS, "asOf": "2026-03-04"}, nil, 200, "valid", "", nil},
		{"not a certificate", map[string]string{"jws": "not.a.certificate"}, nil, 200, "invalid", "malformed", []string{"证书格式错误"}},
		{"offline with the bundle's own trust", map[string]string{"jws": e.valid.JWS, "mode": "offline"}, map[string]string{"bundle": bundle(e.valid.JWS)}, 200, "valid", "",
			[]string{"离线核验", "离线无法核验交易有效性标志"}},
		{"offline with uploaded trust", map[string]string{"mode": "offline"}, map[string]string{"file": e.batch[0].JWS, "bundle": bundle(e.batch[0].JWS), "trust": trust.String()}, 200, "valid", "", nil},
		{"offline, bundle lacks the block", map[string]string{"jws": e.valid.JWS, "mode": "offline"}, map[string]string{"bundle": bundle(e.revoked.JWS)}, 200, "cannot-tell", "evidence-missing", nil},
		{"offline without bundle", map[string]string{"jws": e.valid.JWS, "mode": "offline"}, nil, 400, "", "", []string{"离线核验需要上传证书包"}},
		{"no certificate", map[string]string{"mode": "online"}, nil, 400, "", "", []string{"请粘贴证书内容"}},
		{"bad date", map[string]string{"jws": e.valid.JWS, "asOf": "2026-13-01"}, nil, 400, "", "", []string{"不是 YYYY-MM-DD"}},
		{"bad mode", map[string]string{"jws": e.valid.JWS, "mode": "psychic"}, nil, 400, "", "", []string{"核验方式"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, page := e.post(tc.fields, tc.files)
			if code != tc.status {
				t.Fatalf("status %d, want %d\n%s", code, tc.status, page)
			}
			if tc.verdict != "" {
				v, reasons := verdictOf(t, page)
				if v != tc.verdict || (tc.reason != "" && !strings.Contains(strings.Join(reasons, ","), tc.reason)) {
					t.Fatalf("verdict %s %v, want %s %s", v, reasons, tc.verdict, tc.reason)
				}
			}
			for _, want := range tc.shows {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
		})
	}
}

// TestServeCertificateLinkAndAPI: a link carrying the certificate itself
// (?c=) and the JSON API verify online.
func TestServeCertificateLinkAndAPI(t *testing.T) {
	e := newServeEnv(t)
	_, _, page := e.get("/verify?c=" + url.QueryEscape(e.revoked.JWS))
	if v, reasons := verdictOf(t, page); v != "invalid" || len(reasons) != 1 || reasons[0] != "revoked" {
		t.Fatalf("link: %s %v", v, reasons)
	}
	if !strings.Contains(page, e.http.URL[len("http://"):]+"/verify?id=CRT-REVOKED") {
		t.Error("the page's QR text does not point back to this server")
	}
	resp, err := http.Post(e.http.URL+"/api/verify?asOf=2026-03-04", "text/plain", strings.NewReader(e.revoked.JWS))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r cert.Report
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Verdict != cert.Valid || r.CertificateID != "CRT-REVOKED" {
		t.Fatalf("api: %v %+v", err, r)
	}
	if code, _, _ := e.get("/verify"); code != http.StatusOK { // redirected to the form
		t.Fatalf("bare /verify: %d", code)
	}
}

// TestServePagesFetchNothingFromElsewhere: every page is self-contained
// (no CDN, no script): only this server's style sheet and data: images,
// and the Content Security Policy says so to the browser.
func TestServePagesFetchNothingFromElsewhere(t *testing.T) {
	e := newServeEnv(t)
	external := regexp.MustCompile(`(?i)(src|href|action)\s*=\s*"(https?:)?//|<script|@import|url\(`)
	_, page := e.post(map[string]string{"jws": e.valid.JWS}, nil)
	pages := map[string]string{"result": page}
	for _, p := range []string{"/", qrLink(t, e.valid.JWS), "/dashboard", "/static/style.css"} {
		code, h, body := e.get(p)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", p, code)
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		pages[p] = body
	}
	for name, body := range pages {
		if m := external.FindString(body); m != "" {
			t.Errorf("%s refers to something outside the server: %q", name, m)
		}
	}
	if !strings.Contains(pages["/static/style.css"], ".verdict.invalid") {
		t.Error("style sheet not served")
	}
}

// fakeIndex is an index answering fixed lists.
type fakeIndex struct {
	asked  []string
	err    error
	closed int
}

var (
	dashPunishment = &credit.Punishment{Header: credit.Header{Kind: credit.TypePunishment, ID: "PUN-B", Subject: certSubject, County: "330782", Department: "market", State: credit.StateActive},
		PunishmentKind: credit.PunishmentBlacklist, Severity: credit.SeveritySerious, DecisionDate: credit.MustDate("2026-01-05"), DecisionNo: "义市监严〔2026〕2号",
		Measures: []string{"bidding", "financing"}, MinEnd: credit.MustDate("2026-07-05"), MaxEnd: credit.MustDate("2029-01-05")}
	dashCommitment = &credit.Commitment{Header: credit.Header{Kind: credit.TypeCommitment, ID: "CMT-O", Subject: certOther, County: "330782", Department: "market", State: credit.StateMade},
		CommitmentKind: credit.CommitmentMissingMaterials, MadeOn: credit.MustDate("2026-02-01"), Deadline: credit.MustDate("2026-02-10"), DerivedState: credit.StateOverdue}
	dashRepair = &credit.Repair{Header: credit.Header{Kind: credit.TypeRepair, ID: "REP-A", Subject: certSubject, County: "330782", State: credit.StateAccepted, UpdatedAt: "2026-03-01T02:00:00Z"},
		PunishmentID: "PUN-X", Severity: credit.SeverityGeneral, ReceivedBy: "330783"}
)

func (f *fakeIndex) Close() error { f.closed++; return nil }
func (f *fakeIndex) SubjectProfile(string, credit.Date) (*indexer.Profile, error) {
	return nil, fmt.Errorf("not used")
}
func (f *fakeIndex) Record(string, string, credit.Date) (credit.Record, error) {
	return nil, fmt.Errorf("not used")
}
func (f *fakeIndex) RecordHistory(string, string) ([]indexer.HistoryEntry, error) {
	return nil, fmt.Errorf("not used")
}
func (f *fakeIndex) WatchList(string, credit.Date) ([]*credit.Punishment, error) {
	return nil, fmt.Errorf("not used")
}
func (f *fakeIndex) PublicityEnding(string, credit.Date, int) ([]*credit.Punishment, error) {
	return nil, fmt.Errorf("not used")
}
func (f *fakeIndex) BlackList(county string, asOf credit.Date) ([]*credit.Punishment, error) {
	f.asked = append(f.asked, "blacklist "+county+" "+asOf.String())
	return []*credit.Punishment{dashPunishment}, f.err
}
func (f *fakeIndex) OverdueCommitments(county string, asOf credit.Date) ([]*credit.Commitment, error) {
	f.asked = append(f.asked, "overdue "+county+" "+asOf.String())
	return []*credit.Commitment{dashCommitment}, f.err
}
func (f *fakeIndex) RepairsAwaitingDecision(county string, asOf credit.Date) ([]*credit.Repair, error) {
	f.asked = append(f.asked, "repairs "+county+" "+asOf.String())
	return []*credit.Repair{dashRepair}, f.err
}
func (f *fakeIndex) Indicators(county string, m keys.Month) (*indexer.Indicators, error) {
	f.asked = append(f.asked, "indicators "+county+" "+m.String())
	return &indexer.Indicators{County: county, Month: m.String(), Height: 42, ListActive: 3, RepairsCompleted: 2,
		Coverage: indexer.Ratio{Num: 7, Den: 10}}, f.err
}

// TestServeDashboard: a county's dashboard shows, from the index, its
// black list, overdue commitments, repairs awaiting a decision and the
// month's indicators (issue 6: "with a read-only identity, a county's
// dashboard from the indexer").
func TestServeDashboard(t *testing.T) {
	e := newServeEnv(t)
	code, _, page := e.get("/dashboard")
	if code != http.StatusOK {
		t.Fatalf("status %d\n%s", code, page)
	}
	if got := strings.Join(e.index.asked, ";"); got != "blacklist 330782 2026-03-10;overdue 330782 2026-03-10;repairs 330782 2026-03-10;indicators 330782 2026-03" {
		t.Fatalf("asked the index: %s", got)
	}
	if e.index.closed != 1 {
		t.Errorf("index closed %d times", e.index.closed)
	}
	for _, want := range []string{"县域信用看板：义乌市", `id="blacklist-count">1<`, "义市监严〔2026〕2号", "限制参与招标投标、限制融资授信",
		`id="overdue-count">1<`, "CMT-O", "容缺受理", `id="repairs-count">1<`, "REP-A", "东阳市（330783）", "已受理",
		"已同步 42 个区块", "信用承诺覆盖率", "7/10 (70.00%)"} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	e.index.asked = nil
	if _, _, page = e.get("/dashboard?county=330783&asOf=2026-02-15&month=2026-01"); !strings.Contains(page, "县域信用看板：东阳市") {
		t.Error("another county")
	}
	if got := strings.Join(e.index.asked, ";"); !strings.Contains(got, "blacklist 330783 2026-02-15") || !strings.Contains(got, "indicators 330783 2026-01") {
		t.Errorf("asked %s", got)
	}
	for _, bad := range []string{"?county=33", "?asOf=yesterday", "?month=2026-13"} {
		if code, _, _ := e.get("/dashboard" + bad); code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", bad, code)
		}
	}
	e.srv.index = nil
	if _, _, page = e.get("/dashboard"); !strings.Contains(page, "--index-dir") {
		t.Error("without an index the page does not say how to get one")
	}
}

// TestServeCommandStartsAndStops: `serve --no-ledger --trust FILE` listens,
// answers, says which trust roots it uses, and stops cleanly when its
// context ends (Ctrl-C), with a browser-like idle connection still open.
func TestServeCommandStartsAndStops(t *testing.T) {
	e := newCertEnv(t)
	trust := e.trustFile()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan string, 1)
	done := make(chan error, 1)
	o := &ServeOptions{Base: e.base(OutputPlain), certDeps: e.deps, Addr: "127.0.0.1:0", Trust: trust, NoLedger: true,
		ready:   func(a string) { addr <- a },
		signals: func() (context.Context, context.CancelFunc) { return ctx, cancel }}
	go func() { done <- runServe(o) }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatal(err)
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://")) // opened, never used
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if e.connects != 0 {
		t.Error("--no-ledger connected to the ledger")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if want := "fingerprint " + e.l.c.Trust().Fingerprint(); !strings.Contains(e.errOut(), want) || !strings.Contains(e.errOut(), "verification page stopped") {
		t.Errorf("stderr:\n%s", e.errOut())
	}
}

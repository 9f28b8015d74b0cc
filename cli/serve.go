package cli

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/client/cert"
)

func init() {
	commandAdders = append(commandAdders, func(f *Factory) *cobra.Command { return NewCmdServe(f, nil) })
}

// The web verification page for auditors (creditctl serve). Everything it
// shows is served from this binary: the templates and the style sheet in
// web/ are embedded, the pages carry no script, and the Content Security
// Policy forbids fetching anything from elsewhere.

//go:embed web
var webFS embed.FS

// webPages are the page templates, each parsed with the layout.
var webPages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, page := range []string{"index", "verdict", "lookup", "dashboard"} {
		out[page] = template.Must(template.New(page).Funcs(webFuncs).ParseFS(webFS, "web/layout.html.tmpl", "web/parts.html.tmpl", "web/"+page+".html.tmpl"))
	}
	return out
}()

// webFuncs are the template functions: Chinese labels and dates.
var webFuncs = template.FuncMap{
	"label":    cert.Label,
	"purpose":  credit.PurposeLabel,
	"measure":  cert.MeasureLabel,
	"measures": func(vs []string) string { return joinLabels(vs, cert.MeasureLabel) },
	"dept": func(d string) string {
		if l, ok := zhDepartments[d]; ok {
			return l
		}
		return d
	},
	"state": func(s string) string {
		if l, ok := zhStates[s]; ok {
			return l
		}
		return s
	},
	"instant": func(s string) string {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.In(credit.CST).Format("2006-01-02 15:04")
		}
		return s
	},
	"beijing": func(t time.Time) string { return t.In(credit.CST).Format("2006-01-02 15:04:05") + "（北京时间）" },
}

func joinLabels(vs []string, label func(string) string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = label(v)
	}
	return strings.Join(out, "、")
}

// contentSecurityPolicy lets a page use only what this server sends: its
// style sheet, inline styles (the printable certificate page has them) and
// data: images (the QR code); no script, no frame, forms only to itself.
const contentSecurityPolicy = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Limits of what a request may carry.
const (
	maxUploadBytes = 64 << 20 // a form with a bundle (a 1,000-member batch block is ~0.6 MB)
	maxFormMemory  = 8 << 20
)

// certServer is the web verification page: the handlers and what they
// verify with.
type certServer struct {
	// ledger answers online verification and QR look-ups; nil when the
	// server runs without the ledger (offline verification only).
	ledger cert.Ledger
	// trust are the trust roots of the server (--trust, or exported from
	// the ledger at start); nil if it has none. verifier uses them.
	trust    *cert.TrustRoots
	verifier *cert.Verifier
	// index opens the index for the dashboard; nil without one.
	index func() (indexReader, error)
	// county is the dashboard's default county.
	county string
	now    func() time.Time
}

// newCertServer builds the server; trust may be nil (then online
// verification cannot tell, and offline verification needs uploaded or
// bundled trust roots).
func newCertServer(l cert.Ledger, trust *cert.TrustRoots, index func() (indexReader, error), county string, now func() time.Time) (*certServer, error) {
	s := &certServer{ledger: l, trust: trust, index: index, county: county, now: now}
	if trust != nil {
		v, err := cert.NewVerifier(trust)
		if err != nil {
			return nil, err
		}
		s.verifier = v
	}
	return s, nil
}

// Handler returns the server's routes:
//
//	GET  /                      the verification form (paste, upload; online or offline)
//	POST /verify                verify the form's certificate: the verdict and the content
//	GET  /verify?id=&digest=    the QR link: look the certificate up on the ledger
//	GET  /verify?c=<JWS>        verify a certificate carried in the link (online)
//	POST /scan                  an image of the QR code (field qr, and asOf): answered as its link
//	GET  /dashboard?county=&asOf=&month=   a county's dashboard from the index
//	POST /api/verify?asOf=      the certificate as the body, the report as JSON (online)
//	GET  /static/style.css      the style sheet
//	GET  /healthz               "ok"
func (s *certServer) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(webFS, "web/static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.FS(static))))
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("GET /verify", s.handleVerifyLink)
	mux.HandleFunc("POST /verify", s.handleVerifyForm)
	mux.HandleFunc("POST /scan", s.handleScan)
	mux.HandleFunc("GET /dashboard", s.handleDashboard)
	mux.HandleFunc("POST /api/verify", s.handleAPIVerify)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	return securityHeaders(mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// pageBase is what every page shows in its frame.
type pageBase struct {
	Title     string
	HasLedger bool
	HasTrust  bool
	HasIndex  bool
	Channel   string
	Trust     string // fingerprint of the server's trust roots
	Error     string
}

func (s *certServer) base(title string) pageBase {
	b := pageBase{Title: title, HasLedger: s.ledger != nil, HasTrust: s.trust != nil, HasIndex: s.index != nil}
	if s.trust != nil {
		b.Channel, b.Trust = s.trust.Channel, s.trust.Fingerprint()
	}
	return b
}

// render executes a page template; status is the HTTP status.
func render(w http.ResponseWriter, status int, page string, data any) {
	var buf bytes.Buffer
	if err := webPages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type indexPage struct {
	pageBase
	JWS  string
	Mode string
	AsOf string
}

func (s *certServer) handleIndex(w http.ResponseWriter, r *http.Request) {
	mode := cert.ModeOnline
	if s.ledger == nil {
		mode = cert.ModeOffline
	}
	render(w, http.StatusOK, "index", indexPage{pageBase: s.base("核验证书"), Mode: mode})
}

// formError shows the form again with a message (400).
func (s *certServer) formError(w http.ResponseWriter, p indexPage, msg string) {
	p.pageBase = s.base("核验证书")
	p.Error = msg
	render(w, http.StatusBadRequest, "index", p)
}

// parseAsOf reads an as-of date (YYYY-MM-DD, the end of that day in UTC+8);
// "" is now.
func parseAsOf(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	d, err := credit.ParseDate(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("核验日期 %q 不是 YYYY-MM-DD 格式的日期", v)
	}
	return cert.EndOfDate(d), nil
}

// readUpload reads an uploaded file of the form ("" if none was sent).
func readUpload(r *http.Request, name string, limit int64) (string, error) {
	f, _, err := r.FormFile(name)
	if errors.Is(err, http.ErrMissingFile) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return "", err
	}
	if int64(len(b)) > limit {
		return "", fmt.Errorf("文件 %s 过大（上限 %d 字节）", name, limit)
	}
	return string(b), nil
}

func (s *certServer) handleVerifyForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes)
	p := indexPage{}
	if err := r.ParseMultipartForm(maxFormMemory); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		s.formError(w, p, "无法读取表单："+err.Error())
		return
	}
	if r.MultipartForm == nil {
		if err := r.ParseForm(); err != nil {
			s.formError(w, p, "无法读取表单："+err.Error())
			return
		}
	} else {
		defer r.MultipartForm.RemoveAll()
	}
	p.JWS, p.Mode, p.AsOf = strings.TrimSpace(r.FormValue("jws")), r.FormValue("mode"), r.FormValue("asOf")
	file, err := readUpload(r, "file", maxCertificateBytes)
	if err != nil {
		s.formError(w, p, "无法读取证书文件："+err.Error())
		return
	}
	jws := p.JWS
	if strings.TrimSpace(file) != "" {
		jws = strings.TrimSpace(file)
	}
	if jws == "" {
		s.formError(w, p, "请粘贴证书内容或选择证书文件（.jws）。")
		return
	}
	asOf, err := parseAsOf(p.AsOf)
	if err != nil {
		s.formError(w, p, err.Error())
		return
	}
	var rep *cert.Report
	switch p.Mode {
	case cert.ModeOffline:
		bundleText, err := readUpload(r, "bundle", maxUploadBytes)
		if err != nil {
			s.formError(w, p, "无法读取证书包："+err.Error())
			return
		}
		trustText, err := readUpload(r, "trust", maxUploadBytes)
		if err != nil {
			s.formError(w, p, "无法读取信任根文件："+err.Error())
			return
		}
		if bundleText == "" {
			s.formError(w, p, "离线核验需要上传证书包（creditctl cert bundle 生成）。")
			return
		}
		rep = s.verifyOffline(jws, bundleText, trustText, asOf)
	case cert.ModeOnline, "":
		rep = s.verifyOnline(r.Context(), jws, asOf)
	default:
		s.formError(w, p, fmt.Sprintf("核验方式 %q 无效：online 或 offline。", p.Mode))
		return
	}
	s.renderReport(w, r, rep)
}

// verifyOnline verifies against the ledger; without a ledger or trust
// roots it cannot tell, and says why.
func (s *certServer) verifyOnline(ctx context.Context, jws string, asOf time.Time) *cert.Report {
	opts := cert.Options{AsOf: asOf, Now: s.now}
	if s.verifier == nil {
		return undecided(cert.ModeOnline, opts, cert.ReasonEvidenceMissing, "this server has no trust roots: start it connected to the ledger, or with --trust")
	}
	var l cert.Ledger = s.ledger
	if l == nil {
		l = noLedger{}
	}
	return s.verifier.VerifyOnline(ctx, l, jws, opts)
}

// verifyOffline verifies against an uploaded bundle, with the uploaded
// trust roots, else the server's, else the bundle's own (noted).
func (s *certServer) verifyOffline(jws, bundleText, trustText string, asOf time.Time) *cert.Report {
	opts := cert.Options{AsOf: asOf, Now: s.now}
	b, err := cert.ReadBundle(strings.NewReader(bundleText))
	if err != nil {
		return undecided(cert.ModeOffline, opts, cert.ReasonEvidenceMissing, err.Error())
	}
	trust := s.trust
	if trustText != "" {
		if trust, err = cert.ReadTrust(strings.NewReader(trustText)); err != nil {
			return undecided(cert.ModeOffline, opts, cert.ReasonEvidenceMissing, err.Error())
		}
	}
	reps, err := verifyOffline(b, trust, []string{jws}, opts)
	if err != nil {
		return undecided(cert.ModeOffline, opts, cert.ReasonEvidenceMissing, err.Error())
	}
	return reps[0]
}

// undecided is a report that cannot tell, for a reason found before any
// verification could start.
func undecided(mode string, opts cert.Options, reason cert.Reason, detail string) *cert.Report {
	at := opts.AsOf
	if at.IsZero() {
		at = opts.Now()
	}
	return &cert.Report{Verdict: cert.CannotTell, Mode: mode, AsOf: at.UTC(),
		Findings: []cert.Finding{{Reason: reason, Detail: detail}}, Notes: []cert.Finding{}}
}

// noLedger is the ledger of a server started without one.
type noLedger struct{}

var errNoLedger = fmt.Errorf("this server runs without a ledger connection (serve --no-ledger): %w", client.ErrUnavailable)

func (noLedger) CertificateHistory(context.Context, string) ([]credit.HistoryEntry, client.Result, error) {
	return nil, client.Result{}, errNoLedger
}

func (noLedger) TransactionByID(context.Context, string) (*peer.ProcessedTransaction, error) {
	return nil, errNoLedger
}

func (noLedger) BlockByTxID(context.Context, string) (*common.Block, error) { return nil, errNoLedger }

// selfURL is the server's own /verify address, as the browser reached it,
// for the QR code of a page it shows.
func selfURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/verify"
}

// navBar is put at the top of a certificate page (which is a complete
// printable document of client/cert).
const navBar = `<nav class="web-nav" style="font-family:sans-serif;border-bottom:1px solid #ccc;padding:.4em 0;margin-bottom:1em"><a href="/">← 核验其他证书</a> · <a href="/dashboard">县域信用看板</a></nav>`

// renderReport shows a verification: the certificate's page with the
// verdict when it could be read, else the verdict alone.
func (s *certServer) renderReport(w http.ResponseWriter, r *http.Request, rep *cert.Report) {
	if rep.Certificate == nil {
		render(w, http.StatusOK, "verdict", verdictPage{pageBase: s.base("核验结果"), Report: rep})
		return
	}
	var counties []cert.TrustCounty
	if s.trust != nil {
		counties = s.trust.Counties
	}
	var buf bytes.Buffer
	if err := cert.RenderHTML(&buf, rep.Certificate, cert.PageOptions{VerifyURL: selfURL(r), Report: rep, Counties: counties}); err != nil {
		// The status could not be decoded: show the verdict alone.
		render(w, http.StatusOK, "verdict", verdictPage{pageBase: s.base("核验结果"), Report: rep})
		return
	}
	page := strings.Replace(buf.String(), "<body>", "<body>\n"+navBar, 1)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, page)
}

type verdictPage struct {
	pageBase
	Report *cert.Report
}

// handleVerifyLink answers a link: ?id=&digest= (the QR code) looks the
// certificate up on the ledger; ?c= carries the certificate itself.
func (s *certServer) handleVerifyLink(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	asOf, err := parseAsOf(q.Get("asOf"))
	if err != nil {
		s.formError(w, indexPage{}, err.Error())
		return
	}
	switch {
	case q.Get("c") != "":
		s.renderReport(w, r, s.verifyOnline(r.Context(), strings.TrimSpace(q.Get("c")), asOf))
	case q.Get("id") != "" || q.Get("digest") != "":
		s.renderLookup(w, r, q.Get("id"), q.Get("digest"), asOf)
	default:
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}

// countyName names a county "义乌市（330782）" from the trust roots'
// registry.
func (s *certServer) countyName(code string) string {
	if s.trust != nil {
		if c, ok := s.trust.County(code); ok {
			return c.Name + "（" + code + "）"
		}
	}
	return code
}

// handleAPIVerify verifies the certificate in the body online and answers
// the report as JSON; the HTTP status is 200 whatever the verdict.
func (s *certServer) handleAPIVerify(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxCertificateBytes+1))
	if err != nil || len(b) > maxCertificateBytes {
		http.Error(w, `{"error":"cannot read the certificate"}`, http.StatusBadRequest)
		return
	}
	asOf, err := parseAsOf(r.URL.Query().Get("asOf"))
	if err != nil {
		http.Error(w, `{"error":"asOf: want YYYY-MM-DD"}`, http.StatusBadRequest)
		return
	}
	rep := s.verifyOnline(r.Context(), strings.TrimSpace(string(b)), asOf)
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(rep)
}

// ServeOptions are the inputs of `serve`.
type ServeOptions struct {
	Base
	certDeps
	Addr        string
	IndexDir    string
	IndexServer string
	Trust       string
	NoLedger    bool
	// ready, if set, is called with the address once the server listens
	// (tests).
	ready func(addr string)
	// signals is the context the server runs under (tests replace it).
	signals func() (context.Context, context.CancelFunc)
}

// NewCmdServe builds `serve`.
func NewCmdServe(f *Factory, runF func(*ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8088] [--index-dir DIR | --index-server URL] [--trust FILE] [--no-ledger]",
		Short: "Web page for auditors: verify a certificate (paste, upload, scan, QR link) and a county's dashboard",
		Long: `Serve the verification page for auditors at --addr:

  /            paste a certificate or upload its file (.jws), choose online
               (against the ledger) or offline (upload the bundle, and the
               trust roots if you have them), optionally a date (as of)
  /verify?id=…&digest=…   the QR link of a printed certificate: looks the
               certificate up on the ledger (anchor, issuing transaction,
               status now) and shows its content with Chinese labels
  /scan        the form's other part: upload a scan or photo (PNG or JPEG,
               up to 10 MiB and 25 megapixels) of the printed certificate
               or of its QR code; the server reads the QR code and answers
               as its link
  /dashboard   a county's black list, overdue commitments, repairs awaiting
               decision and indicators, from the index (--index-dir, or a
               running index serve with --index-server)
  /api/verify  POST a certificate, get the report as JSON

Verification runs on the server with the client: it connects as your county's
read-only auditor1 (unless --user or --msp names another identity) and trusts
the channel's trust roots read at start (or --trust). --no-ledger serves
offline verification only. The pages are self-contained: no script, nothing
fetched from elsewhere.`,
		Example: `  creditctl serve
  creditctl serve --addr 0.0.0.0:8088 --index-server http://127.0.0.1:7580
  creditctl serve --no-ledger --trust trust.json`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.IndexDir != "" && opts.IndexServer != "" {
				return &UsageError{Err: errors.New("--index-dir and --index-server exclude each other")}
			}
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if opts.IndexDir == "" && opts.IndexServer == "" {
				opts.IndexDir, opts.IndexServer = f.getenv(envIndexDir), f.getenv(envIndexServer)
			}
			if runF != nil {
				return runF(opts)
			}
			return runServe(opts)
		},
	}
	opts.certDeps = f.certDeps(true)
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:8088", "listen address")
	fl.StringVar(&opts.IndexDir, "index-dir", "", "index folder for the dashboard (env "+envIndexDir+")")
	fl.StringVar(&opts.IndexServer, "index-server", "", "a running `creditctl index serve` for the dashboard (env "+envIndexServer+")")
	fl.StringVar(&opts.Trust, "trust", "", "trust roots file (default: read from the channel at start)")
	fl.BoolVar(&opts.NoLedger, "no-ledger", false, "do not connect to the ledger: offline verification only")
	return cmd
}

func runServe(o *ServeOptions) error {
	var trust *cert.TrustRoots
	if o.Trust != "" {
		var err error
		if trust, err = readTrustFile("--trust", o.Trust); err != nil {
			return err
		}
	}
	var index func() (indexReader, error)
	if o.IndexDir != "" || o.IndexServer != "" {
		ix := &IndexOptions{Base: o.Base, Dir: o.IndexDir, Server: o.IndexServer}
		if o.IndexServer != "" {
			if _, err := ix.reader(); err != nil { // checks the URL
				return err
			}
		}
		index = ix.reader
	}
	ctx, cancel := signalContext()
	if o.signals != nil {
		ctx, cancel = o.signals()
	}
	defer cancel()
	p := o.Printer()
	var ledger cert.Ledger
	if !o.NoLedger {
		l, err := o.CertLedger(ctx)
		if err != nil {
			return err
		}
		defer l.Close()
		ledger = l
		if trust == nil {
			if trust, err = exportTrust(ctx, l, o.nowString); err != nil {
				return err
			}
		}
	}
	county, err := o.County()
	if err != nil {
		county = ""
	}
	s, err := newCertServer(ledger, trust, index, county, o.Now)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return &credit.FieldError{Field: "--addr", Rule: err.Error()}
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	if trust != nil {
		p.Progressf("trust roots of channel %s, fingerprint %s", trust.Channel, trust.Fingerprint())
	}
	p.Progressf("verification page at http://%s/ (Ctrl-C stops it)", ln.Addr())
	if o.ready != nil {
		o.ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Let requests in flight finish for a few seconds; then close what is
	// left (a browser may hold a connection it opened ahead of need,
	// which never becomes idle).
	sctx, scancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-errc
	p.Progressf("verification page stopped")
	return nil
}

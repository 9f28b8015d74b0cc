package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client/cert"
)

func init() {
	commandAdders = append(commandAdders, NewCmdCert)
}

// Certificate ID prefixes of generated IDs.
const (
	prefixCertificate = "CRT"
	prefixBatch       = "BAT"
	// envVerifyURL names the default of --verify-url.
	envVerifyURL = "CREDITCTL_VERIFY_URL"
)

// NewCmdCert is the "cert" noun.
func NewCmdCert(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cert <issue|batch|verify|bundle|revoke|suspend|reinstate|show|print>",
		Short: "Blockchain credit certificates (社会信用区块链证书): issue, verify online and offline, revoke",
		Long: `A certificate states one subject's credit status as of one ledger transaction:
its punishments in publicity, open, overdue and breached commitments, completed
repairs (已修复), the rule set applied, and "no adverse record" when there is
none. The chaincode computes the status and anchors its digest on the ledger;
the issuing officer signs it as a W3C Verifiable Credential (compact JWS,
ES256, or SM2 with --sm2). Anyone can check it, online against the ledger or
offline from a bundle, without trusting the clerk or this software
(docs/CERTIFICATES.md).

  cert issue        issue one certificate (officer of the issuing county)
  cert batch        issue many under batch anchors (a Merkle tree each)
  cert verify       valid, invalid or cannot tell, with the reasons
  cert bundle       an offline bundle: trust roots, anchoring blocks, certificates
  cert revoke|suspend|reinstate   change its status (issuing county only)
  cert show         the anchor and its history
  cert print        the printable page in Chinese with a QR code (HTML, PDF)

Exit status of verify: 0 valid, 7 invalid, 8 cannot tell.`,
	}
	cmd.AddCommand(NewCmdCertIssue(f, nil), NewCmdCertBatch(f, nil), NewCmdCertVerify(f, nil), NewCmdCertBundle(f, nil),
		NewCmdCertStatus(f, credit.CertRevoked, nil), NewCmdCertStatus(f, credit.CertSuspended, nil),
		NewCmdCertStatus(f, credit.CertValid, nil), NewCmdCertShow(f, nil), NewCmdCertPrint(f, nil))
	return cmd
}

// certDeps are the dependencies of the certificate commands, replaceable
// in tests.
type certDeps struct {
	// CertLedger connects to the ledger (called only once the input has
	// passed every check).
	CertLedger func(ctx context.Context) (CertLedger, error)
	// Signer loads the caller's certificate signer (ES256, or SM2).
	Signer func(sm2 bool) (*cert.Signer, error)
	// Chromium finds a browser for PDF output.
	Chromium func() (string, error)
	// Getenv reads the environment (defaults of --verify-url).
	Getenv func(string) string
}

func (f *Factory) certDeps(readOnly bool) certDeps {
	return certDeps{
		CertLedger: func(ctx context.Context) (CertLedger, error) { return f.certLedger(ctx, readOnly) },
		Signer:     f.certSigner,
		Chromium:   cert.FindChromium,
		Getenv:     f.getenv,
	}
}

// withCertLedger connects, runs fn and closes the connection.
func (d *certDeps) withCertLedger(fn func(context.Context, CertLedger) error) error {
	ctx, cancel := signalContext()
	defer cancel()
	l, err := d.CertLedger(ctx)
	if err != nil {
		return err
	}
	defer l.Close()
	return fn(ctx, l)
}

// CertIssueOptions are the inputs of `cert issue`.
type CertIssueOptions struct {
	Base
	certDeps
	Req       credit.IssueCertificateRequest
	Out       string
	HTML      string
	PDF       string
	SM2       bool
	VerifyURL string
}

// CertIssued is the JSON output of `cert issue` (one certificate) and of
// each member of `cert batch`.
type CertIssued struct {
	CertificateID string `json:"certificateId"`
	Subject       string `json:"subject"`
	AnchorID      string `json:"anchorId"`
	TxID          string `json:"txId"`
	Block         uint64 `json:"block"`
	Digest        string `json:"digest"`
	NoAdverse     bool   `json:"noAdverseRecord"`
	ValidUntil    string `json:"validUntil"`
	Alg           string `json:"alg"`
	File          string `json:"file"`
	HTML          string `json:"html,omitempty"`
	PDF           string `json:"pdf,omitempty"`
}

// NewCmdCertIssue builds `cert issue`.
func NewCmdCertIssue(f *Factory, runF func(*CertIssueOptions) error) *cobra.Command {
	opts := &CertIssueOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "issue --subject CODE --purpose bidding|loan|licence|other --valid-until DATE [--out FILE] [--html FILE] [--pdf FILE] [--sm2]",
		Short: "Issue a credit certificate for a subject (officer of the issuing county)",
		Long: `Issue a certificate: the chaincode reads every record of the subject, computes
its credit status and anchors its digest; creditctl waits for the commit, builds
the credential and signs it with your officer key. The certificate (a compact
JWS, one line of text) is written to --out (default <certificate ID>.jws).

--valid-until is the last day of validity (YYYY-MM-DD, or relative: +3m, +30d),
at most 12 months away. --html and --pdf write the printable page in Chinese
with a QR code; the QR holds the verification link --verify-url?id=…&digest=…
(default $` + envVerifyURL + `), or without one the certificate ID and digest.
--pdf needs Chromium (Debian: apt-get install chromium fonts-noto-cjk).
--sm2 signs with the SM2/SM3 guomi profile instead of ES256; the SM2 signing
certificate is minted once with the county CA and kept in <msp>/sm2/.`,
		Example: `  creditctl cert issue --subject 91330782MA2K3Y5Q1R --purpose bidding --valid-until +3m
  creditctl cert issue --subject 91330782MA2K3Y5Q1R --purpose loan --valid-until 2027-06-30 \
      --out yiwu-loan.jws --html yiwu-loan.html --verify-url http://127.0.0.1:8088/verify
  creditctl cert issue --subject 91330782MA2K3Y5Q1R --purpose licence --valid-until +1m --sm2 -o json`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCertIssue(opts)
		},
	}
	opts.certDeps = f.certDeps(false)
	fl := cmd.Flags()
	fl.StringVar(&opts.Req.ID, "id", "", "certificate ID (default: generated, e.g. CRT-330782-20261123-4f9a0c)")
	fl.StringVar(&opts.Req.Subject, "subject", "", "the subject: an enterprise's unified social credit code, or a person's keyed hash")
	fl.StringVar(&opts.Req.Purpose, "purpose", "", "bidding (招投标), loan (贷款), licence (行政许可) or other (其他)")
	fl.StringVar(&opts.Req.ValidUntil, "valid-until", "", "last day of validity: YYYY-MM-DD or relative (+3m, +30d); at most 12 months")
	fl.StringVar(&opts.Req.Note, "note", "", "a note kept on the anchor")
	fl.StringVar(&opts.Out, "out", "", "write the certificate (JWS) to this file (default <id>.jws; - for stdout)")
	fl.StringVar(&opts.HTML, "html", "", "also write the printable page (HTML, Chinese, QR code)")
	fl.StringVar(&opts.PDF, "pdf", "", "also write the printable page as PDF (needs Chromium)")
	fl.BoolVar(&opts.SM2, "sm2", false, "sign with the SM2/SM3 guomi profile instead of ES256")
	fl.StringVar(&opts.VerifyURL, "verify-url", "", "verification page for the QR link, e.g. http://127.0.0.1:8088/verify (env "+envVerifyURL+")")
	_ = cmd.RegisterFlagCompletionFunc("purpose", fixedCompletion(credit.Purposes...))
	return cmd
}

var certIssueFlags = flagFields{"id": "id", "subject": "subject", "purpose": "purpose", "valid-until": "validUntil", "note": "note"}

// checkValidUntil refuses a validity end before today or more than
// MaxValidityMonths after it, by the local clock (the chaincode checks the
// same against the transaction date).
func checkValidUntil(field, s string, now time.Time) error {
	d, err := credit.ParseDate(s)
	if err != nil {
		return nil // reported by Validate
	}
	today := credit.DateOf(now)
	if d.Before(today) {
		return &credit.FieldError{Field: field, Rule: fmt.Sprintf("%s is before today, %s", d, today)}
	}
	if max := today.AddMonths(credit.MaxValidityMonths); d.After(max) {
		return &credit.FieldError{Field: field, Rule: fmt.Sprintf("%s is more than %d months after today (at most %s)", d, credit.MaxValidityMonths, max)}
	}
	return nil
}

// checkOutputs checks, before anything is sent, that the output files can
// be written: their folders exist, and a PDF has a browser to print it.
func (d *certDeps) checkOutputs(pdf string, paths ...string) (chromium string, err error) {
	for _, p := range append(paths, pdf) {
		if p == "" || p == "-" {
			continue
		}
		dir := filepath.Dir(p)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return "", &credit.FieldError{Field: "output " + p, Rule: fmt.Sprintf("folder %s does not exist", dir)}
		}
	}
	if pdf != "" {
		if chromium, err = d.Chromium(); err != nil {
			return "", &credit.FieldError{Field: "--pdf", Rule: fmt.Sprintf("printing a PDF needs Chromium: %v; or write --html and print it from any browser", err)}
		}
	}
	return chromium, nil
}

func (d *certDeps) verifyURL(flag string) string {
	if flag != "" || d.Getenv == nil {
		return flag
	}
	return d.Getenv(envVerifyURL)
}

func runCertIssue(o *CertIssueOptions) error {
	req := o.Req
	var err error
	if req.ValidUntil, err = parseDateArg("validUntil (--valid-until)", req.ValidUntil, o.Now()); err != nil {
		return err
	}
	if err := o.checkThenID(&req.ID, prefixCertificate, certIssueFlags, func() error { return req.Validate() }); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return certIssueFlags.nameFlag(err)
	}
	if err := checkValidUntil("validUntil (--valid-until)", req.ValidUntil, o.Now()); err != nil {
		return err
	}
	out := o.Out
	if out == "" {
		out = req.ID + ".jws"
	}
	chromium, err := o.checkOutputs(o.PDF, out, o.HTML)
	if err != nil {
		return err
	}
	signer, err := o.Signer(o.SM2)
	if err != nil {
		return err
	}
	p := o.Printer()
	p.Progressf("issuing certificate %s for %s…", req.ID, req.Subject)
	var iss *cert.Issued
	var counties []cert.TrustCounty
	err = o.withCertLedger(func(ctx context.Context, l CertLedger) error {
		var err error
		if iss, err = cert.Issue(ctx, l, signer, req); err != nil {
			return err
		}
		counties = countyNames(ctx, l)
		return nil
	})
	if err != nil {
		return err
	}
	p.Progressf("committed in block %d (transaction %s)", iss.Position.BlockNumber, iss.Position.TxID)
	res, err := writeCertificate(o.IO, iss, out, o.HTML, o.PDF, chromium, o.verifyURL(o.VerifyURL), counties)
	if err != nil {
		return err
	}
	return p.writeIssued([]CertIssued{res}, false)
}

// countyNames reads the county registry for the printed page (names of
// the counties a status mentions); nil if it cannot be read.
func countyNames(ctx context.Context, l CertLedger) []cert.TrustCounty {
	cs, _, err := l.ListCounties(ctx)
	if err != nil {
		return nil
	}
	out := make([]cert.TrustCounty, len(cs))
	for i, c := range cs {
		out[i] = cert.TrustCounty{Code: c.Code, Name: c.Name, MSPID: c.MSPID}
	}
	return out
}

// writeCertificate writes an issued certificate's JWS, and its page as
// HTML and PDF when asked. The certificate is on the ledger already, so a
// failure says where it stands.
func writeCertificate(ios *IOStreams, iss *cert.Issued, out, html, pdf, chromium, verifyURL string, counties []cert.TrustCounty) (CertIssued, error) {
	c, err := cert.Parse(iss.JWS)
	if err != nil {
		return CertIssued{}, fmt.Errorf("certificate %s: %w", iss.Credential.CertificateID(), err)
	}
	st, _ := c.Status()
	res := CertIssued{
		CertificateID: c.Credential.CertificateID(), Subject: c.Subject, AnchorID: iss.Anchor.ID,
		TxID: iss.Position.TxID, Block: iss.Position.BlockNumber, Digest: c.Digest, NoAdverse: st != nil && st.NoAdverseRecord,
		ValidUntil: iss.Anchor.ValidUntil.String(), Alg: c.Header.Alg, File: out, HTML: html, PDF: pdf,
	}
	fail := func(err error) (CertIssued, error) {
		return res, fmt.Errorf("certificate %s is anchored (transaction %s) but %w", res.CertificateID, res.TxID, err)
	}
	if out == "-" {
		fmt.Fprintln(ios.Out, iss.JWS)
	} else if err := writeFileAtomic(out, []byte(iss.JWS+"\n"), 0o644); err != nil {
		return fail(fmt.Errorf("could not be written: %w", err))
	}
	if html == "" && pdf == "" {
		return res, nil
	}
	var page bytes.Buffer
	if err := cert.RenderHTML(&page, c, cert.PageOptions{VerifyURL: verifyURL, Counties: counties}); err != nil {
		return fail(err)
	}
	if html != "" {
		if err := writeFileAtomic(html, page.Bytes(), 0o644); err != nil {
			return fail(fmt.Errorf("its page could not be written: %w", err))
		}
	}
	if pdf != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := cert.PrintPDF(ctx, chromium, page.Bytes(), pdf); err != nil {
			return fail(err)
		}
	}
	return res, nil
}

// writeFileAtomic writes a file through a temporary file in the same
// folder and a rename, so a reader never sees half of it.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// writeIssued prints issued certificates: one as field rows, several as a
// table (json: the object, or the list).
func (p *Printer) writeIssued(rs []CertIssued, list bool) error {
	if p.JSON() {
		if list {
			return p.WriteJSON(rs)
		}
		return p.WriteJSON(rs[0])
	}
	if !list {
		return p.WriteRecord(rs[0])
	}
	rows := make([][]string, len(rs))
	for i, r := range rs {
		rows[i] = []string{r.CertificateID, r.Subject, r.AnchorID, strconv.FormatUint(r.Block, 10), r.Digest, r.File}
	}
	return p.Table([]string{p.Label("certificateId"), p.Label("subject"), p.Label("anchorId"), p.Label("block"), p.Label("digest"), p.Label("file")}, rows)
}

// CertBatchOptions are the inputs of `cert batch`.
type CertBatchOptions struct {
	Base
	certDeps
	SubjectsFile string
	Req          credit.IssueCertificateBatchRequest
	OutDir       string
	HTML         bool
	Chunk        int
	VerifyURL    string
}

// NewCmdCertBatch builds `cert batch`.
func NewCmdCertBatch(f *Factory, runF func(*CertBatchOptions) error) *cobra.Command {
	opts := &CertBatchOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "batch --subjects-file FILE --purpose PURPOSE --valid-until DATE [--out-dir DIR] [--html]",
		Short: "Issue many certificates under batch anchors (one Merkle tree per anchor)",
		Long: `Issue one certificate per subject of --subjects-file (one subject per line;
blank lines and lines starting with # are skipped; - reads stdin). Subjects go
under anchors of at most --chunk (default 1,000) in one transaction each, named
<batch ID> or, for several, <batch ID>-001, -002 …; member i of an anchor is
certificate <anchor>.<i+1 in five digits>, and carries its Merkle proof.

Every certificate is written to --out-dir (default the batch ID) as
<certificate ID>.jws, with --html also its printable page. One member is
suspended or revoked by its certificate ID, a whole anchor by the anchor ID
(cert revoke <ID>).`,
		Example: `  creditctl cert batch --subjects-file bidders.txt --purpose bidding --valid-until +1m
  creditctl cert batch --subjects-file - --purpose loan --valid-until 2027-01-31 --out-dir loans --html < subjects.txt`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.SubjectsFile == "" {
				return &UsageError{Err: errors.New("--subjects-file is required")}
			}
			if opts.Chunk < 0 || opts.Chunk > credit.MaxBatchSubjects {
				return &UsageError{Err: fmt.Errorf("--chunk %d: must be 1 to %d (0: the default %d)", opts.Chunk, credit.MaxBatchSubjects, cert.DefaultBatchChunk)}
			}
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCertBatch(opts)
		},
	}
	opts.certDeps = f.certDeps(false)
	fl := cmd.Flags()
	fl.StringVar(&opts.SubjectsFile, "subjects-file", "", "file of subjects, one per line (- for stdin)")
	fl.StringVar(&opts.Req.BatchID, "batch-id", "", "batch ID (default: generated, e.g. BAT-330782-20261123-4f9a0c)")
	fl.StringVar(&opts.Req.Purpose, "purpose", "", "bidding, loan, licence or other")
	fl.StringVar(&opts.Req.ValidUntil, "valid-until", "", "last day of validity: YYYY-MM-DD or relative (+3m); at most 12 months")
	fl.StringVar(&opts.Req.Note, "note", "", "a note kept on the anchors")
	fl.StringVar(&opts.OutDir, "out-dir", "", "folder for the certificates (default: the batch ID)")
	fl.BoolVar(&opts.HTML, "html", false, "also write each certificate's printable page (<id>.html)")
	fl.IntVar(&opts.Chunk, "chunk", 0, fmt.Sprintf("subjects per anchor (default %d)", cert.DefaultBatchChunk))
	fl.StringVar(&opts.VerifyURL, "verify-url", "", "verification page for the QR links (env "+envVerifyURL+")")
	_ = cmd.RegisterFlagCompletionFunc("purpose", fixedCompletion(credit.Purposes...))
	return cmd
}

var certBatchFlags = flagFields{"batch-id": "batchId", "subjects-file": "subjects", "purpose": "purpose", "valid-until": "validUntil", "note": "note"}

// readSubjects reads one subject per line; blank lines and # comments are
// skipped.
func readSubjects(file string, in io.Reader) ([]string, error) {
	r := in
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return nil, &credit.FieldError{Field: "--subjects-file", Rule: err.Error()}
		}
		defer fh.Close()
		r = fh
	}
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, &credit.FieldError{Field: "--subjects-file", Rule: err.Error()}
	}
	return out, nil
}

func runCertBatch(o *CertBatchOptions) error {
	req := o.Req
	var err error
	if req.Subjects, err = readSubjects(o.SubjectsFile, o.IO.In); err != nil {
		return err
	}
	if req.ValidUntil, err = parseDateArg("validUntil (--valid-until)", req.ValidUntil, o.Now()); err != nil {
		return err
	}
	chunk := o.Chunk
	if chunk == 0 {
		chunk = cert.DefaultBatchChunk
	}
	// Every chunk is checked before anything is sent (the whole list for
	// duplicates: a subject twice in one batch is a mistake).
	validate := func() error {
		seen := map[string]int{}
		for i, s := range req.Subjects {
			if j, ok := seen[s]; ok {
				return &credit.FieldError{Field: fmt.Sprintf("subjects[%d] (--subjects-file)", i), Rule: fmt.Sprintf("%s is listed twice (also subjects[%d])", s, j)}
			}
			seen[s] = i
		}
		if len(req.Subjects) == 0 {
			return &credit.FieldError{Field: "subjects (--subjects-file)", Rule: "no subject in " + o.SubjectsFile}
		}
		for k := 0; k*chunk < len(req.Subjects); k++ {
			part := req
			part.Subjects = req.Subjects[k*chunk : min((k+1)*chunk, len(req.Subjects))]
			if err := part.Validate(); err != nil {
				var fe *credit.FieldError
				if errors.As(err, &fe) && strings.HasPrefix(fe.Field, "subjects[") {
					var i int
					fmt.Sscanf(fe.Field, "subjects[%d]", &i)
					return &credit.FieldError{Field: fmt.Sprintf("subjects[%d] (--subjects-file)", k*chunk+i), Rule: fe.Rule}
				}
				return certBatchFlags.nameFlag(err)
			}
		}
		return nil
	}
	if err := o.checkThenID(&req.BatchID, prefixBatch, certBatchFlags, validate); err != nil {
		return err
	}
	if err := validate(); err != nil {
		return err
	}
	if err := checkValidUntil("validUntil (--valid-until)", req.ValidUntil, o.Now()); err != nil {
		return err
	}
	dir := o.OutDir
	if dir == "" {
		dir = req.BatchID
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &credit.FieldError{Field: "--out-dir", Rule: err.Error()}
	}
	signer, err := o.Signer(false)
	if err != nil {
		return err
	}
	p := o.Printer()
	n := (len(req.Subjects) + chunk - 1) / chunk
	p.Progressf("issuing %d certificates in %d anchor(s) of batch %s…", len(req.Subjects), n, req.BatchID)
	var issued []*cert.Issued
	var counties []cert.TrustCounty
	issueErr := o.withCertLedger(func(ctx context.Context, l CertLedger) error {
		var err error
		issued, err = cert.IssueBatch(ctx, l, signer, req, chunk)
		if len(issued) > 0 && o.HTML {
			counties = countyNames(ctx, l)
		}
		return err
	})
	// Write what was issued, even when a later chunk failed.
	var rs []CertIssued
	for _, iss := range issued {
		id := iss.Credential.CertificateID()
		html := ""
		if o.HTML {
			html = filepath.Join(dir, id+".html")
		}
		r, err := writeCertificate(o.IO, iss, filepath.Join(dir, id+".jws"), html, "", "", o.verifyURL(o.VerifyURL), counties)
		if err != nil {
			return errors.Join(err, issueErr)
		}
		rs = append(rs, r)
	}
	if len(rs) > 0 {
		p.Progressf("%d certificates written to %s", len(rs), dir)
		if err := p.writeIssued(rs, true); err != nil {
			return err
		}
	}
	if issueErr != nil && len(issued) > 0 {
		return fmt.Errorf("%d of %d certificates issued and written to %s; the rest were not: %w", len(issued), len(req.Subjects), dir, issueErr)
	}
	return issueErr
}

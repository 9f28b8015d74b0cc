package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client/cert"
)

// Exit codes of `cert verify` (see exitcode.go).
func verdictExit(v cert.Verdict) int {
	switch v {
	case cert.Valid:
		return ExitOK
	case cert.Invalid:
		return ExitCertInvalid
	}
	return ExitCertUndecided
}

// CertVerifyOptions are the inputs of `cert verify`.
type CertVerifyOptions struct {
	Base
	certDeps
	// File is the certificate (JWS) file, "-" for stdin; "" with a bundle
	// verifies every certificate of the bundle.
	File    string
	Online  bool
	Offline bool
	Bundle  string
	Trust   string
	AsOf    string
}

// NewCmdCertVerify builds `cert verify`.
func NewCmdCertVerify(f *Factory, runF func(*CertVerifyOptions) error) *cobra.Command {
	opts := &CertVerifyOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "verify [<file>|-] [--online | --offline --bundle FILE] [--trust FILE] [--as-of DATE]",
		Short: "Verify a certificate: valid, invalid or cannot tell, with the reasons",
		Long: `Verify a certificate (the JWS file issue wrote, or - for stdin).

Both modes check the signature over every byte, the signing certificate's
chain to a county CA of the channel, the issuer named, and the status digest.

  --online (default)  then ask the ledger: the anchoring transaction exists and
                      is VALID, it wrote the anchor the certificate claims, and
                      the anchor was not suspended or revoked at --as-of.
                      Connects as your county's auditor1 unless --user or --msp
                      names another identity.
  --offline --bundle  then check the bundle (cert bundle): the blocks' orderer
                      signatures, the transaction's creator and endorsement
                      signatures against the endorsement policy, the Merkle
                      proof of a batch member. It says what it could not check:
                      the peer-local validity flag and any change after the
                      bundle was made. Without a certificate file, every
                      certificate of the bundle is verified.

--trust names trust roots (trust export) to check against; without it, online
verification reads them from the channel, and offline verification takes the
bundle's own and says so (compare their fingerprint with the published one).
--as-of DATE asks whether the certificate was valid at the end of that day.

Exit status: 0 valid, 7 invalid, 8 cannot tell (1 when it could not run).`,
		Example: `  creditctl cert verify CRT-330782-20261123-4f9a0c.jws
  creditctl cert verify cert.jws --as-of 2026-12-01 -o json
  creditctl cert verify cert.jws --offline --bundle bundle.json --trust trust.json
  creditctl cert verify --bundle bundle.json --lang zh`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return &UsageError{Err: fmt.Errorf("%s takes one certificate file (or -), got %d arguments", cmd.CommandPath(), len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.File = args[0]
			}
			if opts.Online && (opts.Offline || opts.Bundle != "") {
				return &UsageError{Err: errors.New("--online and --offline (or --bundle) exclude each other")}
			}
			if opts.Offline && opts.Bundle == "" {
				return &UsageError{Err: errors.New("--offline needs --bundle FILE (made by creditctl cert bundle)")}
			}
			if opts.File == "" && opts.Bundle == "" {
				return &UsageError{Err: errors.New("give a certificate file (or - for stdin), or --bundle to verify a bundle's certificates")}
			}
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCertVerify(opts)
		},
	}
	opts.certDeps = f.certDeps(true)
	fl := cmd.Flags()
	fl.BoolVar(&opts.Online, "online", false, "verify against the ledger (the default without --bundle)")
	fl.BoolVar(&opts.Offline, "offline", false, "verify from --bundle, without the network")
	fl.StringVar(&opts.Bundle, "bundle", "", "offline bundle (creditctl cert bundle); implies --offline")
	fl.StringVar(&opts.Trust, "trust", "", "trust roots file (creditctl trust export)")
	fl.StringVar(&opts.AsOf, "as-of", "", "was it valid at the end of this day? YYYY-MM-DD or relative (-1m); default now")
	return cmd
}

// readJWS reads a certificate file (- for stdin): a compact JWS, white
// space around it ignored.
func readJWS(field, file string, in io.Reader) (string, error) {
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(io.LimitReader(in, maxCertificateBytes+1))
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return "", &credit.FieldError{Field: field, Rule: err.Error()}
	}
	if len(b) > maxCertificateBytes {
		return "", &credit.FieldError{Field: field, Rule: fmt.Sprintf("%s is larger than a certificate can be (%d bytes)", file, maxCertificateBytes)}
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", &credit.FieldError{Field: field, Rule: file + " is empty"}
	}
	if strings.HasPrefix(s, "{") {
		return "", &credit.FieldError{Field: field, Rule: file + " is JSON, not a certificate (a compact JWS): for a bundle use --bundle"}
	}
	return s, nil
}

// maxCertificateBytes bounds a certificate file (a certificate with a
// long status is tens of kilobytes).
const maxCertificateBytes = 4 << 20

// readTrustFile reads a trust roots file; field names where it was given.
func readTrustFile(field, path string) (*cert.TrustRoots, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, &credit.FieldError{Field: field, Rule: err.Error()}
	}
	defer fh.Close()
	t, err := cert.ReadTrust(fh)
	if err != nil {
		return nil, &credit.FieldError{Field: field, Rule: err.Error()}
	}
	return t, nil
}

func readBundleFile(path string) (*cert.Bundle, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, &credit.FieldError{Field: "--bundle", Rule: err.Error()}
	}
	defer fh.Close()
	b, err := cert.ReadBundle(fh)
	if err != nil {
		return nil, &credit.FieldError{Field: "--bundle", Rule: err.Error()}
	}
	return b, nil
}

// verifyOffline verifies certificates against a bundle: with trust, or
// (trust nil) with the bundle's own trust roots, noted in each report.
// jws nil verifies every certificate of the bundle.
func verifyOffline(b *cert.Bundle, trust *cert.TrustRoots, jws []string, opts cert.Options) ([]*cert.Report, error) {
	if jws != nil {
		c := *b
		c.Certificates = jws
		b = &c
	}
	if len(b.Certificates) == 0 {
		return nil, &credit.FieldError{Field: "--bundle", Rule: "holds no certificate"}
	}
	if trust == nil && b.Trust == nil {
		return nil, &credit.FieldError{Field: "--trust", Rule: "is required: the bundle carries no trust roots"}
	}
	return cert.VerifyBundle(b, trust, opts)
}

func runCertVerify(o *CertVerifyOptions) error {
	opts := cert.Options{Now: o.Now}
	if o.AsOf != "" {
		d, err := parseDateArg("--as-of", o.AsOf, o.Now())
		if err != nil {
			return err
		}
		opts.AsOf = cert.EndOfDate(credit.MustDate(d))
	}
	var jws []string
	if o.File != "" {
		s, err := readJWS("certificate file", o.File, o.IO.In)
		if err != nil {
			return err
		}
		jws = []string{s}
	}
	var trust *cert.TrustRoots
	if o.Trust != "" {
		var err error
		if trust, err = readTrustFile("--trust", o.Trust); err != nil {
			return err
		}
	}
	var reports []*cert.Report
	if o.Bundle != "" {
		b, err := readBundleFile(o.Bundle)
		if err != nil {
			return err
		}
		if reports, err = verifyOffline(b, trust, jws, opts); err != nil {
			return err
		}
	} else {
		err := o.withCertLedger(func(ctx context.Context, l CertLedger) error {
			if trust == nil {
				var err error
				if trust, err = exportTrust(ctx, l, o.nowString); err != nil {
					return err
				}
			}
			v, err := cert.NewVerifier(trust)
			if err != nil {
				return err
			}
			reports = append(reports, v.VerifyOnline(ctx, l, jws[0], opts))
			return nil
		})
		if err != nil {
			return err
		}
	}
	p := o.Printer()
	if err := p.writeReports(reports); err != nil {
		return err
	}
	return verdictError(reports)
}

func (b *Base) nowString() string { return b.Now().UTC().Format(time.RFC3339) }

// verdictError is nil when every report is valid, else an error carrying
// the exit code of the worst verdict (invalid before cannot tell) and the
// reasons.
func verdictError(reports []*cert.Report) error {
	worst := cert.Valid
	var msgs []string
	for _, r := range reports {
		if r.Verdict == cert.Valid {
			continue
		}
		if worst != cert.Invalid {
			worst = r.Verdict
		}
		var why []string
		for _, f := range r.Findings {
			why = append(why, f.String())
		}
		id := r.CertificateID
		if id == "" {
			id = "(unreadable)"
		}
		msgs = append(msgs, fmt.Sprintf("certificate %s is %s: %s", id, verdictWords(r.Verdict), strings.Join(why, "; ")))
	}
	if worst == cert.Valid {
		return nil
	}
	return &codedError{code: verdictExit(worst), err: errors.New(strings.Join(msgs, "\n  "))}
}

func verdictWords(v cert.Verdict) string {
	if v == cert.CannotTell {
		return "undecided (cannot tell)"
	}
	return string(v)
}

// writeReports prints verification reports: one as field rows, several as
// a table (json: the report, or the list).
func (p *Printer) writeReports(rs []*cert.Report) error {
	if p.JSON() {
		if len(rs) == 1 {
			return p.WriteJSON(rs[0])
		}
		return p.WriteJSON(rs)
	}
	if len(rs) == 1 {
		return p.Table(nil, p.reportRows(rs[0]))
	}
	rows := make([][]string, len(rs))
	for i, r := range rs {
		var why []string
		for _, f := range r.Findings {
			why = append(why, p.reason(f.Reason))
		}
		rows[i] = []string{r.CertificateID, r.Subject, p.verdict(r.Verdict), strings.Join(why, ", ")}
	}
	return p.Table([]string{p.Label("certificateId"), p.Label("subject"), p.Label("verdict"), p.Label("findings")}, rows)
}

// reportRows are the field rows of one report.
func (p *Printer) reportRows(r *cert.Report) [][]string {
	rows := [][]string{
		{p.Label("verdict"), p.verdict(r.Verdict)},
		{p.Label("mode"), p.Value("mode", r.Mode)},
		{p.Label("asOf"), r.AsOf.Format(time.RFC3339)},
	}
	add := func(k, v string) {
		if v != "" {
			rows = append(rows, []string{p.Label(k), v})
		}
	}
	add("certificateId", r.CertificateID)
	add("subject", r.Subject)
	if r.Anchor != nil {
		add("anchorId", r.Anchor.ID)
		add("county", r.Anchor.County)
		add("purpose", p.Value("purpose", r.Anchor.Purpose))
		add("validUntil", r.Anchor.ValidUntil.String())
	}
	add("state", p.certState(r.State))
	if r.CurrentState != r.State {
		add("currentState", p.certState(r.CurrentState))
	}
	if r.BlockNumber > 0 {
		add("block", strconv.FormatUint(r.BlockNumber, 10))
	}
	add("endorsers", strings.Join(r.Endorsers, ", "))
	for _, f := range r.Findings {
		rows = append(rows, []string{p.Label("finding"), p.reason(f.Reason) + ": " + f.Detail})
	}
	for _, f := range r.Notes {
		rows = append(rows, []string{p.Label("note"), p.reason(f.Reason) + ": " + f.Detail})
	}
	return rows
}

// CertBundleOptions are the inputs of `cert bundle`.
type CertBundleOptions struct {
	Base
	certDeps
	Files []string
	Out   string
	Trust string
}

// NewCmdCertBundle builds `cert bundle`.
func NewCmdCertBundle(f *Factory, runF func(*CertBundleOptions) error) *cobra.Command {
	opts := &CertBundleOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "bundle <file|folder>... --out FILE [--trust FILE]",
		Short: "Make an offline bundle: the certificates, the trust roots and the blocks anchoring them",
		Long: `Make a bundle for offline verification (cert verify --offline): the
certificates (files, or folders of .jws files such as cert batch writes), the
channel's trust roots (--trust, or read from the channel now), and every block
holding a transaction of their anchors (the issuance and each status change so
far), with the orderers' signatures. A bundle proves what the ledger said up to
the moment it was made; a revocation after that needs an online check.`,
		Example: `  creditctl cert bundle CRT-330782-20261123-4f9a0c.jws --out bundle.json
  creditctl cert bundle BAT-330782-20261123-77aa01/ --trust trust.json --out batch-bundle.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &UsageError{Err: fmt.Errorf("%s needs at least one certificate file or folder", cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCertBundle(opts)
		},
	}
	opts.certDeps = f.certDeps(true)
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the bundle here (default: stdout)")
	cmd.Flags().StringVar(&opts.Trust, "trust", "", "trust roots to include (default: read from the channel)")
	return cmd
}

// certificateFiles expands folders into their .jws files (sorted).
func certificateFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			if a == "-" {
				out = append(out, a)
				continue
			}
			return nil, &credit.FieldError{Field: "certificate file", Rule: err.Error()}
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "*.jws"))
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, &credit.FieldError{Field: "certificate file", Rule: "no .jws file in folder " + a}
		}
		sort.Strings(m)
		out = append(out, m...)
	}
	return out, nil
}

func runCertBundle(o *CertBundleOptions) error {
	files, err := certificateFiles(o.Files)
	if err != nil {
		return err
	}
	var jws []string
	for _, f := range files {
		s, err := readJWS("certificate file "+f, f, o.IO.In)
		if err != nil {
			return err
		}
		if _, err := cert.Parse(s); err != nil {
			return &credit.FieldError{Field: "certificate file " + f, Rule: err.Error()}
		}
		jws = append(jws, s)
	}
	if o.Out != "" && o.Out != "-" {
		if _, err := (&certDeps{}).checkOutputs("", o.Out); err != nil {
			return err
		}
	}
	var trust *cert.TrustRoots
	if o.Trust != "" {
		if trust, err = readTrustFile("--trust", o.Trust); err != nil {
			return err
		}
	}
	var b *cert.Bundle
	err = o.withCertLedger(func(ctx context.Context, l CertLedger) error {
		if trust == nil {
			var err error
			if trust, err = exportTrust(ctx, l, o.nowString); err != nil {
				return err
			}
		}
		var err error
		b, err = cert.MakeBundle(ctx, l, trust, jws...)
		return err
	})
	if err != nil {
		return err
	}
	p := o.Printer()
	if o.Out == "" || o.Out == "-" {
		_, err = b.WriteTo(o.IO.Out)
		return err
	}
	var buf strings.Builder
	if _, err := b.WriteTo(&buf); err != nil {
		return err
	}
	if err := writeFileAtomic(o.Out, []byte(buf.String()), 0o644); err != nil {
		return err
	}
	blocks := make([]uint64, len(b.Blocks))
	for i, x := range b.Blocks {
		blocks[i] = x.Number
	}
	return p.WriteRecord(BundleSummary{File: o.Out, Certificates: len(b.Certificates), Blocks: blocks,
		Channel: b.Channel, TrustFingerprint: trust.Fingerprint()})
}

// BundleSummary is the output of `cert bundle --out`.
type BundleSummary struct {
	File             string   `json:"file"`
	Certificates     int      `json:"certificates"`
	Blocks           []uint64 `json:"blocks"`
	Channel          string   `json:"channel"`
	TrustFingerprint string   `json:"trustFingerprint"`
}

package cli

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client/cert"
)

// CertPrintOptions are the inputs of `cert print`.
type CertPrintOptions struct {
	Base
	certDeps
	File      string
	HTML      string
	PDF       string
	VerifyURL string
}

// NewCmdCertPrint builds `cert print`.
func NewCmdCertPrint(f *Factory, runF func(*CertPrintOptions) error) *cobra.Command {
	opts := &CertPrintOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "print <file|-> (--html FILE | --pdf FILE)",
		Short: "Write a certificate's printable page in Chinese, with its QR code (HTML or PDF)",
		Long: `Write the printable page of a certificate: issuer, subject, purpose, validity,
the credit status (punishments with their measures, commitments, repairs as
已修复), the ledger anchor, the digest, and a QR code holding the verification
link (--verify-url?id=…&digest=…, default $` + envVerifyURL + `; e.g. the page of
creditctl serve) or, without one, "creditcert:<id>:<digest>".

--pdf prints the page with headless Chromium (Debian: apt-get install chromium
fonts-noto-cjk); without it, write --html and print from any browser. The page
is self-contained: no fonts, scripts or images are fetched.`,
		Example: `  creditctl cert print CRT-330782-20261123-4f9a0c.jws --html cert.html
  creditctl cert print CRT-330782-20261123-4f9a0c.jws --pdf cert.pdf --verify-url http://127.0.0.1:8088/verify`,
		Args: usageArgs(1, "one certificate file (or -)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if opts.HTML == "" && opts.PDF == "" {
				return &UsageError{Err: errors.New("give --html FILE, --pdf FILE, or both")}
			}
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCertPrint(opts)
		},
	}
	opts.certDeps = f.certDeps(true)
	cmd.Flags().StringVar(&opts.HTML, "html", "", "write the page as HTML")
	cmd.Flags().StringVar(&opts.PDF, "pdf", "", "write the page as PDF (needs Chromium)")
	cmd.Flags().StringVar(&opts.VerifyURL, "verify-url", "", "verification page for the QR link (env "+envVerifyURL+")")
	return cmd
}

// CertPrinted is the output of `cert print`.
type CertPrinted struct {
	CertificateID string `json:"certificateId"`
	QR            string `json:"qr"`
	HTML          string `json:"html,omitempty"`
	PDF           string `json:"pdf,omitempty"`
}

func runCertPrint(o *CertPrintOptions) error {
	s, err := readJWS("certificate file", o.File, o.IO.In)
	if err != nil {
		return err
	}
	c, err := cert.Parse(s)
	if err != nil {
		return &credit.FieldError{Field: "certificate file", Rule: err.Error()}
	}
	chromium, err := o.checkOutputs(o.PDF, o.HTML)
	if err != nil {
		return err
	}
	url := o.verifyURL(o.VerifyURL)
	var page bytes.Buffer
	if err := cert.RenderHTML(&page, c, cert.PageOptions{VerifyURL: url}); err != nil {
		return err
	}
	if o.HTML != "" {
		if err := writeFileAtomic(o.HTML, page.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if o.PDF != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := cert.PrintPDF(ctx, chromium, page.Bytes(), o.PDF); err != nil {
			return err
		}
	}
	return o.Printer().WriteRecord(CertPrinted{CertificateID: c.Credential.CertificateID(), QR: cert.QRContent(c, url), HTML: o.HTML, PDF: o.PDF})
}

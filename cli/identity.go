package cli

import (
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/network"
	"github.com/countycredit/creditledger/network/identity"
)

func init() {
	commandAdders = append(commandAdders, NewCmdIdentity)
}

// NewCmdIdentity is the "identity" noun.
func NewCmdIdentity(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity <issue|show>",
		Short: "Issue and inspect county staff identities (officer, auditor, admin)",
		Long: `A county holds its CA key and issues its own staff certificates: an X.509
certificate with the Fabric attribute extension carrying the role (officer,
auditor, admin) and the department, written as an MSP folder that the peer
CLI and creditctl use.`,
	}
	cmd.AddCommand(NewCmdIdentityIssue(f, nil), NewCmdIdentityShow(f, nil))
	return cmd
}

// IdentityIssueOptions are the inputs of `identity issue`.
type IdentityIssueOptions struct {
	IO      *IOStreams
	Profile string // network.json; not read when CACert, CAKey and MSPID are all given
	County  string
	Name    string
	Role    string
	Dept    string
	Days    int
	// Without a profile: the county CA and MSP ID, and where to write.
	CACert, CAKey, TLSCACert, MSPID, Out string
	// Output and Lang are the global -o and --lang.
	Output, Lang string
	Now          func() time.Time
}

// NewCmdIdentityIssue builds `identity issue`.
func NewCmdIdentityIssue(f *Factory, runF func(*IdentityIssueOptions) error) *cobra.Command {
	opts := &IdentityIssueOptions{IO: f.IO, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "issue --county CODE --name NAME --role ROLE [--dept DEPT]",
		Short: "Mint a staff certificate signed by the county CA, as an MSP folder",
		Example: `  creditctl identity issue --county 330782 --name clerk1 --role officer --dept market
  creditctl identity issue --county 330182 --name reviewer --role auditor
  creditctl identity issue --name clerk2 --role officer --dept tax \
      --ca-cert ca/ca-cert.pem --ca-key ca/priv_sk --msp-id County330782MSP --out clerk2/msp`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			offline := opts.CACert != "" || opts.CAKey != "" || opts.MSPID != ""
			if offline && (opts.CACert == "" || opts.CAKey == "" || opts.MSPID == "" || opts.Out == "") {
				return &UsageError{Err: errors.New("without a profile, --ca-cert, --ca-key, --msp-id and --out are all required")}
			}
			if !offline && opts.County == "" {
				return &UsageError{Err: errors.New("--county is required (or give --ca-cert, --ca-key, --msp-id and --out)")}
			}
			if opts.Name == "" || opts.Role == "" {
				return &UsageError{Err: errors.New("--name and --role are required")}
			}
			if opts.Days < 0 {
				return &UsageError{Err: fmt.Errorf("--days %d: must be positive", opts.Days)}
			}
			var err error
			if opts.Output, opts.Lang, err = f.outputSettings(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runIdentityIssue(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Profile, "profile", defaultProfilePath(), "network profile (env "+envProfile+")")
	fl.StringVar(&opts.County, "county", "", "county division code, e.g. 330782 (its CA and users folder come from the profile)")
	fl.StringVar(&opts.Name, "name", "", "enrollment name: certificate CN and hf.EnrollmentID")
	fl.StringVar(&opts.Role, "role", "", "officer, auditor or admin")
	fl.StringVar(&opts.Dept, "dept", "", "department code (^[a-z][a-z0-9-]{1,31}$); required for officers")
	fl.IntVar(&opts.Days, "days", 365, "validity in days (never beyond the CA's)")
	fl.StringVar(&opts.CACert, "ca-cert", "", "county CA certificate (instead of the profile)")
	fl.StringVar(&opts.CAKey, "ca-key", "", "county CA private key (instead of the profile)")
	fl.StringVar(&opts.TLSCACert, "tls-ca-cert", "", "county TLS CA certificate for tlscacerts/ (optional)")
	fl.StringVar(&opts.MSPID, "msp-id", "", "MSP ID, e.g. County330782MSP (instead of the profile)")
	fl.StringVar(&opts.Out, "out", "", "MSP folder to write (default: <usersDir>/<name>@<org domain>/msp)")
	return cmd
}

func runIdentityIssue(o *IdentityIssueOptions) error {
	caCert, caKey, tlsCA, mspID, out := o.CACert, o.CAKey, o.TLSCACert, o.MSPID, o.Out
	if o.CACert == "" {
		p, err := network.LoadProfile(o.Profile)
		if err != nil {
			return fmt.Errorf("issue identity: %w", err)
		}
		c, err := p.County(o.County)
		if err != nil {
			return fmt.Errorf("issue identity: %w", err)
		}
		caCert, caKey, mspID = c.CACert, c.CAKey, c.MSPID
		if tlsCA == "" && len(c.Peers) > 0 {
			tlsCA = c.Peers[0].TLSRootCert
		}
		if out == "" {
			out = c.UserMSPDir(o.Name)
		}
	}
	req := identity.Request{MSPID: mspID, Name: o.Name, Role: o.Role, Dept: o.Dept, Validity: time.Duration(o.Days) * 24 * time.Hour}
	if err := req.Validate(); err != nil { // before touching any file
		return fmt.Errorf("issue identity: %w", err)
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("issue identity: %s: %w", out, identity.ErrExists)
	}
	ca, err := identity.LoadCA(caCert, caKey)
	if err != nil {
		return fmt.Errorf("issue identity: %w", err)
	}
	var tlsPEM []byte
	if tlsCA != "" {
		if tlsPEM, err = os.ReadFile(tlsCA); err != nil {
			return fmt.Errorf("issue identity: read TLS CA certificate: %w", err)
		}
	}
	iss, err := ca.Issue(req, o.Now())
	if err != nil {
		return err
	}
	if err := identity.WriteMSP(out, ca, tlsPEM, iss); err != nil {
		return fmt.Errorf("issue identity: %w", err)
	}
	info, err := identity.DescribeCert(iss.Cert)
	if err != nil {
		return err
	}
	info.MSPID = mspID
	fmt.Fprintf(o.IO.ErrOut, "issued %s (%s, role %s%s) valid until %s\n", o.Name, mspID, o.Role,
		map[bool]string{true: ", dept " + o.Dept, false: ""}[o.Dept != ""], info.NotAfter.Format(time.DateOnly))
	return writeIdentity(NewPrinter(o.IO, o.Output, o.Lang), IdentityResult{MSPDir: out, Info: info}, "", o.Now())
}

// IdentityResult is what identity issue and identity show print
// (docs/OPERATOR.md): the MSP folder and what its certificate says. In
// JSON the certificate's fields sit beside "mspDir"; show adds
// "mspIdVerified" (whether a county CA of the profile signed it).
type IdentityResult struct {
	MSPDir   string `json:"mspDir"`
	Verified *bool  `json:"mspIdVerified,omitempty"`
	*identity.Info
}

// writeIdentity prints an identity: its JSON, or one field per line with
// the JSON keys (source, if any, says where the MSP ID came from).
func writeIdentity(p *Printer, r IdentityResult, source string, now time.Time) error {
	if p.JSON() {
		return p.WriteJSON(r)
	}
	info := r.Info
	mspID := info.MSPID
	if mspID == "" {
		mspID = "unknown"
	}
	rows := [][]string{{"mspId", mspID}}
	if source != "" {
		rows = append(rows, []string{"mspIdSource", source})
	}
	role := "none (read only)"
	if info.Role != "" {
		role = info.Role
	}
	dept := info.Dept
	if dept == "" {
		dept = "-"
	}
	left := info.NotAfter.Sub(now)
	state := fmt.Sprintf("expires in %d days", int(math.Round(left.Hours()/24)))
	if left <= 0 {
		state = "EXPIRED"
	}
	rows = append(rows,
		[]string{"subject", info.Subject},
		[]string{"ous", strings.Join(info.OUs, ", ")},
		[]string{"role", role},
		[]string{"roleSource", map[string]string{"attribute": "attribute", "nodeou": "NodeOU admin", "": "-"}[info.RoleSource]},
		[]string{"dept", dept},
		[]string{"enrollmentId", info.EnrollmentID},
		[]string{"notBefore", info.NotBefore.Format(time.RFC3339)},
		[]string{"notAfter", info.NotAfter.Format(time.RFC3339)},
		[]string{"validity", state},
		[]string{"issuer", info.Issuer},
		[]string{"mspDir", r.MSPDir},
	)
	for _, r := range rows {
		r[0] = p.Label(r[0])
	}
	return p.Table(nil, rows)
}

// IdentityShowOptions are the inputs of `identity show`.
type IdentityShowOptions struct {
	IO         *IOStreams
	Dir        string
	Profile    string
	ProfileSet bool
	// Output and Lang are the global -o and --lang.
	Output, Lang string
	Now          func() time.Time
}

// NewCmdIdentityShow builds `identity show`.
func NewCmdIdentityShow(f *Factory, runF func(*IdentityShowOptions) error) *cobra.Command {
	opts := &IdentityShowOptions{IO: f.IO, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "show <msp folder>",
		Short: "Print an identity's MSP ID, subject, role, department and expiry",
		Long: `Print what an MSP folder's certificate says: subject, role and department
(from the Fabric attribute extension, or "admin" from the NodeOU of a cryptogen
Admin@), validity. The MSP ID is found by checking the certificate's signature
against the counties' CA certificates in the profile (mspIdSource, and
mspIdVerified in -o json, say whether one signed it).`,
		Example: `  creditctl identity show .run/net/crypto/peerOrganizations/c330782.credit.local/users/clerk1@c330782.credit.local/msp
  creditctl identity show clerk2/msp --profile /srv/credit/network.json -o json
  creditctl identity show clerk2/msp -o plain | awk -F'\t' '$1 == "notAfter" {print $2}'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &UsageError{Err: fmt.Errorf("identity show takes one MSP folder, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			opts.ProfileSet = cmd.Flags().Changed("profile") || os.Getenv(envProfile) != ""
			var err error
			if opts.Output, opts.Lang, err = f.outputSettings(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runIdentityShow(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Profile, "profile", defaultProfilePath(), "network profile, to find the MSP ID (env "+envProfile+")")
	return cmd
}

// sourceVerified is identity show's mspIdSource when a county CA of the
// profile signed the certificate.
const sourceVerified = "verified against the profile's county CA"

// mspIDFromProfile finds the county whose CA signed cert.
func mspIDFromProfile(p *network.Profile, cert *x509.Certificate) string {
	for _, c := range p.Counties {
		b, err := os.ReadFile(c.CACert)
		if err != nil {
			continue
		}
		ca, err := identity.ParseCertificatePEM(b)
		if err != nil {
			continue
		}
		if cert.CheckSignatureFrom(ca) == nil {
			return c.MSPID
		}
	}
	return ""
}

func runIdentityShow(o *IdentityShowOptions) error {
	info, err := identity.Describe(o.Dir)
	if err != nil {
		return fmt.Errorf("show identity: %w", err)
	}
	source := sourceVerified
	p, perr := network.LoadProfile(o.Profile)
	if perr != nil && o.ProfileSet {
		return fmt.Errorf("show identity: %w", perr)
	}
	if perr == nil {
		info.MSPID = mspIDFromProfile(p, info.Cert)
	}
	if info.MSPID == "" {
		source = "not verified: no county CA in the profile signed it"
		if perr != nil {
			source = "not verified: no profile to check it against"
		}
		if len(info.Organization) == 1 {
			info.MSPID, source = info.Organization[0], "from the subject's O, not verified"
		}
	}
	verified := source == sourceVerified
	return writeIdentity(NewPrinter(o.IO, o.Output, o.Lang), IdentityResult{MSPDir: o.Dir, Verified: &verified, Info: info}, source, o.Now())
}

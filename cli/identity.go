package cli

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
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
	Output                               string // "" or "json"
	Now                                  func() time.Time
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
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if opts.Output != "" && opts.Output != "json" {
				return &UsageError{Err: fmt.Errorf("-o %q: the only output format is json", opts.Output)}
			}
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
	fl.StringVarP(&opts.Output, "output", "o", "", "output format: json")
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
	if o.Output == "json" {
		return writeIdentityJSON(o.IO, out, info)
	}
	fmt.Fprintf(o.IO.ErrOut, "issued %s (%s, role %s%s) valid until %s\n", o.Name, mspID, o.Role,
		map[bool]string{true: ", dept " + o.Dept, false: ""}[o.Dept != ""], info.NotAfter.Format(time.DateOnly))
	fmt.Fprintln(o.IO.Out, out)
	return nil
}

func writeIdentityJSON(io *IOStreams, dir string, info *identity.Info) error {
	enc := json.NewEncoder(io.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		MSPDir string `json:"mspDir"`
		*identity.Info
	}{dir, info})
}

// IdentityShowOptions are the inputs of `identity show`.
type IdentityShowOptions struct {
	IO         *IOStreams
	Dir        string
	Profile    string
	ProfileSet bool
	Output     string
	Now        func() time.Time
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
against the counties' CA certificates in the profile.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &UsageError{Err: fmt.Errorf("identity show takes one MSP folder, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			opts.ProfileSet = cmd.Flags().Changed("profile") || os.Getenv(envProfile) != ""
			if opts.Output != "" && opts.Output != "json" {
				return &UsageError{Err: fmt.Errorf("-o %q: the only output format is json", opts.Output)}
			}
			if runF != nil {
				return runF(opts)
			}
			return runIdentityShow(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Profile, "profile", defaultProfilePath(), "network profile, to find the MSP ID (env "+envProfile+")")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "output format: json")
	return cmd
}

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
	source := "verified against the profile's county CA"
	p, perr := network.LoadProfile(o.Profile)
	if perr != nil && o.ProfileSet {
		return fmt.Errorf("show identity: %w", perr)
	}
	if perr == nil {
		info.MSPID = mspIDFromProfile(p, info.Cert)
	}
	if info.MSPID == "" {
		source = "not verified: no county CA in the profile signed it"
		if len(info.Organization) == 1 {
			info.MSPID, source = info.Organization[0], "from the subject's O, not verified"
		}
	}
	if o.Output == "json" {
		return writeIdentityJSON(o.IO, o.Dir, info)
	}
	w := o.IO.Out
	mspID := info.MSPID
	if mspID == "" {
		mspID = "unknown"
	}
	fmt.Fprintf(w, "MSP ID:      %s (%s)\n", mspID, source)
	fmt.Fprintf(w, "Subject:     %s\n", info.Subject)
	role := "none (read only)"
	if info.Role != "" {
		role = info.Role + " (" + map[string]string{"attribute": "attribute", "nodeou": "NodeOU admin"}[info.RoleSource] + ")"
	}
	fmt.Fprintf(w, "Role:        %s\n", role)
	dept := info.Dept
	if dept == "" {
		dept = "-"
	}
	fmt.Fprintf(w, "Dept:        %s\n", dept)
	if info.EnrollmentID != "" {
		fmt.Fprintf(w, "Enrollment:  %s\n", info.EnrollmentID)
	}
	left := info.NotAfter.Sub(o.Now())
	state := fmt.Sprintf("expires in %d days", int(math.Round(left.Hours()/24)))
	if left <= 0 {
		state = "EXPIRED"
	}
	fmt.Fprintf(w, "Valid:       %s to %s (%s)\n", info.NotBefore.Format(time.RFC3339), info.NotAfter.Format(time.RFC3339), state)
	fmt.Fprintf(w, "Issuer:      %s\n", info.Issuer)
	return nil
}

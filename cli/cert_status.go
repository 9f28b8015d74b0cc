package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// memberIDPattern matches a batch member's certificate ID: <anchor>.<five digits>.
var memberIDPattern = regexp.MustCompile(`^(.+)\.(\d{5})$`)

// batchOf returns the anchor ID of a batch member's certificate ID.
func batchOf(id string) (string, bool) {
	m := memberIDPattern.FindStringSubmatch(id)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// CertStatusOptions are the inputs of `cert revoke|suspend|reinstate`.
type CertStatusOptions struct {
	Base
	certDeps
	ID     string
	Status string
	Reason string
}

var certVerbs = map[string]struct{ verb, short, long, example string }{
	credit.CertRevoked: {"revoke", "Revoke a certificate or a batch for good (issuing county only)",
		`Revoke a certificate, or a whole batch by its anchor ID: from now on every
verification answers invalid (revoked); verification as of an earlier date
still answers valid. Revocation is final and on the ledger with its reason.`,
		`  creditctl cert revoke CRT-330782-20261123-4f9a0c --reason "主体存在未如实申报的失信记录"`},
	credit.CertSuspended: {"suspend", "Suspend a certificate or a batch (issuing county only)",
		`Suspend a certificate or a batch: verification answers invalid (suspended)
until it is reinstated.`,
		`  creditctl cert suspend CRT-330782-20261123-4f9a0c --reason "异议核查期间暂停使用"`},
	credit.CertValid: {"reinstate", "Reinstate a suspended certificate or batch (issuing county only)",
		`Reinstate a suspended certificate or batch (a revoked one cannot be).`,
		`  creditctl cert reinstate CRT-330782-20261123-4f9a0c --reason "异议核查完毕"`},
}

// NewCmdCertStatus builds `cert revoke`, `cert suspend` or `cert reinstate`
// (status: the state it sets).
func NewCmdCertStatus(f *Factory, status string, runF func(*CertStatusOptions) error) *cobra.Command {
	v := certVerbs[status]
	opts := &CertStatusOptions{Base: f.base(), Status: status}
	cmd := &cobra.Command{
		Use:   v.verb + " <id> --reason TEXT",
		Short: v.short,
		Long: v.long + `

Only an officer of the issuing county may; the change is a transaction endorsed
by the county's peer, listed by "cert show". One member of a batch cannot be
changed alone: change the batch (its anchor ID is the member ID without the
.NNNNN suffix).`,
		Example: v.example,
		Args:    usageArgs(1, "one certificate or batch anchor ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCertStatus(opts)
		},
	}
	opts.certDeps = f.certDeps(false)
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why (required; kept on the ledger)")
	return cmd
}

func runCertStatus(o *CertStatusOptions) error {
	req := credit.SetCertificateStatusRequest{ID: o.ID, Status: o.Status, Reason: o.Reason}
	ff := flagFields{"reason": "reason"}
	if err := req.Validate(); err != nil {
		return ff.nameFlag(err)
	}
	p := o.Printer()
	p.Progressf("%s certificate %s…", map[string]string{credit.CertRevoked: "revoking", credit.CertSuspended: "suspending", credit.CertValid: "reinstating"}[o.Status], o.ID)
	return o.withCertLedger(func(ctx context.Context, l CertLedger) error {
		if err := refuseMember(ctx, l, o.ID, certVerbs[o.Status].verb); err != nil {
			return err
		}
		a, res, err := l.SetCertificateStatus(ctx, req)
		if err != nil {
			return err
		}
		p.Progressf("committed in block %d (transaction %s)", res.BlockNumber, res.TxID)
		return p.writeAnchor(a, &res)
	})
}

// refuseMember refuses, before sending, a status change of one member of
// a batch: the anchor is the batch's, so the batch is changed as a whole
// (docs/CERTIFICATES.md §4).
func refuseMember(ctx context.Context, l CertLedger, id, verb string) error {
	batch, ok := batchOf(id)
	if !ok {
		return nil
	}
	if _, _, err := l.GetCertificate(ctx, id); !errors.Is(err, credit.ErrNotFound) {
		return nil // an anchor of that name, or the ledger's answer to the change will say
	}
	if a, _, err := l.GetCertificate(ctx, batch); err != nil || !a.IsBatch() {
		return nil
	}
	return &credit.FieldError{Field: "id", Rule: fmt.Sprintf("%s is a member of batch %s: a batch is suspended or revoked as a whole (creditctl cert %s %s --reason …)",
		id, batch, verb, batch)}
}

// CertShowOptions are the inputs of `cert show`.
type CertShowOptions struct {
	Base
	certDeps
	ID string
}

// CertShown is the JSON output of `cert show`: the anchor (as the
// chaincode returns it, with derivedState) and every version of it.
type CertShown struct {
	// CertificateID is the ID asked; AnchorID the anchor holding it (the
	// batch anchor for a member).
	CertificateID string               `json:"certificateId"`
	AnchorID      string               `json:"anchorId"`
	Certificate   *credit.Certificate  `json:"certificate"`
	History       []CertHistoryVersion `json:"history"`
}

// CertHistoryVersion is one version of an anchor.
type CertHistoryVersion struct {
	TxID      string `json:"txId"`
	Timestamp string `json:"timestamp"`
	State     string `json:"state"`
	Reason    string `json:"reason,omitempty"`
}

// NewCmdCertShow builds `cert show`.
func NewCmdCertShow(f *Factory, runF func(*CertShowOptions) error) *cobra.Command {
	opts := &CertShowOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "show <id>",
		Short: "Show a certificate's ledger anchor and its history (issuance, suspensions, revocation)",
		Long: `Show the ledger anchor of a certificate: subject, issuing county, purpose,
validity, the digest (or, for a batch, the Merkle root and count), the issuing
transaction, its state now (valid, suspended, revoked, or derived expired) and
every change with its transaction, time and reason. A batch member's ID shows
its batch anchor.`,
		Example: `  creditctl cert show CRT-330782-20261123-4f9a0c
  creditctl cert show BAT-330782-20261123-77aa01.00042 -o json`,
		Args: usageArgs(1, "one certificate ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCertShow(opts)
		},
	}
	opts.certDeps = f.certDeps(true)
	return cmd
}

func runCertShow(o *CertShowOptions) error {
	if err := credit.ValidateRef("id", o.ID); err != nil {
		return err
	}
	out := CertShown{CertificateID: o.ID, AnchorID: o.ID}
	err := o.withCertLedger(func(ctx context.Context, l CertLedger) error {
		a, _, err := l.GetCertificate(ctx, o.ID)
		if errors.Is(err, credit.ErrNotFound) {
			if batch, ok := batchOf(o.ID); ok {
				out.AnchorID = batch
				a, _, err = l.GetCertificate(ctx, batch)
			}
		}
		if err != nil {
			return err
		}
		out.Certificate = a
		hist, _, err := l.CertificateHistory(ctx, out.AnchorID)
		if err != nil {
			return err
		}
		out.History, err = anchorVersions(hist)
		return err
	})
	if err != nil {
		return err
	}
	p := o.Printer()
	if p.JSON() {
		return p.WriteJSON(out)
	}
	if out.AnchorID != out.CertificateID {
		p.Progressf("%s is a member of batch %s; its anchor:", out.CertificateID, out.AnchorID)
	}
	if err := p.writeAnchor(out.Certificate, nil); err != nil {
		return err
	}
	fmt.Fprintln(o.IO.Out)
	rows := make([][]string, len(out.History))
	for i, h := range out.History {
		rows[i] = []string{h.Timestamp, p.certState(h.State), h.TxID, h.Reason}
	}
	return p.Table([]string{p.Label("timestamp"), p.Label("state"), p.Label("txId"), p.Label("reason")}, rows)
}

// anchorVersions decodes an anchor's history.
func anchorVersions(hist []credit.HistoryEntry) ([]CertHistoryVersion, error) {
	out := make([]CertHistoryVersion, 0, len(hist))
	for _, h := range hist {
		var a credit.Certificate
		if err := json.Unmarshal(h.Record, &a); err != nil {
			return nil, fmt.Errorf("anchor history, transaction %s: %w", h.TxID, err)
		}
		out = append(out, CertHistoryVersion{TxID: h.TxID, Timestamp: h.Timestamp, State: a.State, Reason: a.StatusReason})
	}
	return out, nil
}

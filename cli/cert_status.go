package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// CertStatusOptions are the inputs of `cert revoke|suspend|reinstate`.
type CertStatusOptions struct {
	Base
	certDeps
	ID     string
	Status string
	Reason string
}

var certVerbs = map[string]struct{ verb, short, long, example string }{
	credit.CertRevoked: {"revoke", "Revoke a certificate, a batch member or a whole batch for good (issuing county only)",
		`Revoke a certificate, one member of a batch by its certificate ID, or a
whole batch by its anchor ID: from now on every verification answers invalid
(revoked); verification as of an earlier date still answers valid.
Revocation is final and on the ledger with its reason.`,
		`  creditctl cert revoke CRT-330782-20261123-4f9a0c --reason "主体存在未如实申报的失信记录"
  creditctl cert revoke BAT-330782-20261123-77aa01.00042 --reason "该主体新增行政处罚"`},
	credit.CertSuspended: {"suspend", "Suspend a certificate, a batch member or a whole batch (issuing county only)",
		`Suspend a certificate, one member of a batch, or a whole batch: verification
answers invalid (suspended) until it is reinstated.`,
		`  creditctl cert suspend CRT-330782-20261123-4f9a0c --reason "异议核查期间暂停使用"`},
	credit.CertValid: {"reinstate", "Reinstate a suspended certificate, batch member or batch (issuing county only)",
		`Reinstate a suspended certificate, batch member or batch (a revoked one
cannot be; a member of a suspended batch is reinstated with its batch).`,
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
by the county's peer, listed by "cert show". A member's certificate ID
(<batch>.NNNNN) changes that member alone, recorded in its batch's anchor;
the batch's anchor ID (the member ID without the .NNNNN suffix) changes
every member.`,
		Example: v.example,
		Args:    usageArgs(1, "one certificate, batch member or batch anchor ID"),
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
		a, res, err := l.SetCertificateStatus(ctx, req)
		if err != nil {
			return err
		}
		p.Progressf("committed in block %d (transaction %s)", res.BlockNumber, res.TxID)
		if a.ID != o.ID {
			state, _, _ := a.StateOf(o.ID)
			p.Progressf("%s, member of batch %s, is now %s; its batch's anchor:", o.ID, a.ID, state)
		}
		return p.writeAnchor(a, &res)
	})
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
	CertificateID string `json:"certificateId"`
	AnchorID      string `json:"anchorId"`
	// State is the certificate's stored state now: for a member of a
	// batch, the batch's unless the member was changed on its own
	// (credit.Certificate.StateOf).
	State       string               `json:"state"`
	Certificate *credit.Certificate  `json:"certificate"`
	History     []CertHistoryVersion `json:"history"`
}

// CertHistoryVersion is one version of an anchor: the certificate's state
// in it, and the reason of the change that decided that state.
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
its batch anchor, and the member's own state in each version.`,
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
			if batch, _, ok := credit.ParseMemberID(o.ID); ok {
				out.AnchorID = batch
				a, _, err = l.GetCertificate(ctx, batch)
			}
		}
		if err != nil {
			return err
		}
		out.Certificate = a
		state, _, ok := a.StateOf(o.ID)
		switch {
		case !ok && !a.IsBatch():
			return &credit.FieldError{Field: "id", Rule: fmt.Sprintf("%s is a single certificate, not a batch; %s names no certificate", a.ID, o.ID)}
		case !ok:
			return &credit.FieldError{Field: "id", Rule: fmt.Sprintf("batch %s has %d members; %s is not one of them", a.ID, a.Count, o.ID)}
		}
		out.State = state
		hist, _, err := l.CertificateHistory(ctx, out.AnchorID)
		if err != nil {
			return err
		}
		out.History, err = anchorVersions(hist, o.ID)
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
		p.Progressf("%s is a member of batch %s, %s; its batch's anchor:", out.CertificateID, out.AnchorID, out.State)
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

// anchorVersions decodes an anchor's history as the versions of
// certificate id (the anchor's own ID or one of its members').
func anchorVersions(hist []credit.HistoryEntry, id string) ([]CertHistoryVersion, error) {
	out := make([]CertHistoryVersion, 0, len(hist))
	for _, h := range hist {
		var a credit.Certificate
		if err := json.Unmarshal(h.Record, &a); err != nil {
			return nil, fmt.Errorf("anchor history, transaction %s: %w", h.TxID, err)
		}
		v := CertHistoryVersion{TxID: h.TxID, Timestamp: h.Timestamp, State: a.State, Reason: a.StatusReason}
		if state, m, ok := a.StateOf(id); ok {
			v.State = state
			if m != nil {
				v.Reason = m.Reason
			}
		}
		out = append(out, v)
	}
	return out, nil
}

package cli

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
)

func init() {
	commandAdders = append(commandAdders, NewCmdTx)
}

// NewCmdTx is the "tx" noun.
func NewCmdTx(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tx <status>",
		Short: "Check what became of a transaction",
	}
	cmd.AddCommand(NewCmdTxStatus(f, nil))
	return cmd
}

// TxStatusOptions are the inputs of `tx status`.
type TxStatusOptions struct {
	Base
	TxID string
}

// TxStatus is the JSON output of `tx status`.
type TxStatus struct {
	TxID       string `json:"txId"`
	Found      bool   `json:"found"`
	Valid      bool   `json:"valid"`
	Validation string `json:"validation"` // Fabric's validation code, e.g. VALID, MVCC_READ_CONFLICT; "" if not found
}

var txIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// NewCmdTxStatus builds `tx status`.
func NewCmdTxStatus(f *Factory, runF func(*TxStatusOptions) error) *cobra.Command {
	opts := &TxStatusOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "status <txid>",
		Short: "Say whether a transaction committed, was invalidated, or is unknown to the ledger",
		Long: `Ask the peer's ledger how a transaction was validated. Use it when creditctl
exits 75 ("submitted, commit status unknown"): a transaction that is VALID is
on the ledger; one that is invalid or not found wrote nothing, and the command
may be run again with the same record ID.

Exit status: 0 when the transaction is valid, 4 when the ledger does not
hold it, 6 when it was invalidated.`,
		Example: `  creditctl tx status 3f1c0e2b9a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7
  creditctl --county 330182 tx status 3f1c…e7 -o json`,
		Args: usageArgs(1, "one transaction ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.TxID = args[0]
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runTxStatus(opts)
		},
	}
	return cmd
}

func runTxStatus(o *TxStatusOptions) error {
	if !txIDPattern.MatchString(o.TxID) {
		return &credit.FieldError{Field: "txid", Rule: fmt.Sprintf("%q is not a transaction ID (64 lower-case hex characters)", o.TxID)}
	}
	var st TxStatus
	err := o.withLedger(func(ctx context.Context, l Ledger) error {
		code, found, err := l.TransactionStatus(ctx, o.TxID)
		if err != nil {
			return err
		}
		st = TxStatus{TxID: o.TxID, Found: found}
		if found {
			st.Validation = code.String()
			st.Valid = code == peer.TxValidationCode_VALID
		}
		return nil
	})
	if err != nil {
		return err
	}
	p := o.Printer()
	if p.JSON() {
		if err := p.WriteJSON(st); err != nil {
			return err
		}
	} else if err := p.WriteRecord(st); err != nil {
		return err
	}
	switch {
	case !st.Found:
		return &codedError{ExitNotFound, fmt.Errorf("transaction %s is not on the ledger of this peer: if it was sent more than a few minutes ago it wrote nothing and the command may be run again with the same record ID", o.TxID)}
	case !st.Valid:
		return &codedError{ExitRefused, fmt.Errorf("transaction %s was invalidated (%s): it wrote nothing; the command may be run again with the same record ID", o.TxID, st.Validation)}
	}
	return nil
}

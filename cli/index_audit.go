package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/replay"
	"github.com/countycredit/creditledger/indexer"
)

// Labels of the audit table for --lang zh.
func init() {
	for k, v := range map[string]string{"check": "检查项", "key": "状态键", "finding": "发现"} {
		if _, ok := zhFields[k]; !ok {
			zhFields[k] = v
		}
	}
}

// IndexAuditOptions are the inputs of `index audit`.
type IndexAuditOptions struct {
	IndexOptions
	NoCatchUp  bool
	SkipReplay bool
}

// NewCmdIndexAudit builds `index audit`.
func NewCmdIndexAudit(f *Factory, runF func(*IndexAuditOptions) error) *cobra.Command {
	opts := &IndexAuditOptions{IndexOptions: newIndexOptions(f)}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Look for records forged or rewritten with a chaincode of one's own; exit 1 on any finding",
		Long: `Check the ledger for what endorsement policies cannot stop (docs/CHAOS.md,
"Known limits"; docs/INDEXER.md, "Audit"): a majority of counties running a
chaincode server of their own can create any key (Fabric checks a creation
against MAJORITY alone), and a county can rewrite its own records with one
(their key-level policy asks its own peer only). Such transactions are VALID
on every peer. The checks:

  creator      a record, certificate or registry entry created by an identity
               of another county than the one allowed to create it (the
               county that received a repair application or objection, else
               the record's own county; a county registers itself)
  endorsement  a record created without its own county's peer among the
               endorsers
  index        a subject, bycounty, certcounty or countymsp entry that names
               no record, or disagrees with it; a record, certificate or
               county without its entries (hidden from SubjectRecords,
               certificates or the county's lists)
  replay       a transaction whose writes are not what this chaincode
               writes for the same proposal (function, argument, creator,
               time) against the state before it, or that it refuses: a
               county rewriting its own records with a chaincode server of
               its own, or counties writing what no function writes

The creator, endorsement and replay checks read every block from block 0
(from the peer, or --blocks), once; the index check reads the index's mirror
of the world state. Exit status 0 when nothing
is found, 1 on any finding. First the index catches up to the peer's height
(unless --no-catch-up). Stop 'index run' first, or the index folder is busy.`,
		Example: `  creditctl index audit
  creditctl index audit -o json
  creditctl index audit --blocks blocks/ --no-catch-up --skip-replay`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.resolveIndex(&opts.IndexOptions); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runIndexAudit(opts)
		},
	}
	indexFlags(cmd, &opts.IndexOptions, false)
	blocksFlag(cmd, &opts.IndexOptions)
	cmd.Flags().BoolVar(&opts.NoCatchUp, "no-catch-up", false, "audit the index as it is, up to its height")
	cmd.Flags().BoolVar(&opts.SkipReplay, "skip-replay", false, "leave out the replay check (it re-executes every transaction)")
	return cmd
}

// AuditReplay is the check of `index audit` that re-executes each
// transaction with the reference chaincode (chaincode/replay); its
// findings' key is "<function> by <creator MSP>".
const AuditReplay = "replay"

// AuditOutput is the JSON output of `index audit`.
type AuditOutput struct {
	indexer.IndexAudit
	// Blocks and Creations are what the creation check read; Replayed the
	// credit transactions re-executed.
	Blocks    int                    `json:"blocks"`
	Creations int                    `json:"creations"`
	Replayed  int                    `json:"replayed"`
	Findings  []indexer.AuditFinding `json:"findings"`
}

func runIndexAudit(o *IndexAuditOptions) error {
	ctx, cancel := o.context()
	defer cancel()
	db, _, err := o.openIndex(indexer.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	peer, err := o.connect(ctx)
	if err != nil {
		return err
	}
	if peer != nil {
		defer peer.Close()
	}
	src := o.source(peer)
	if !o.NoCatchUp {
		if peer != nil {
			h, err := peer.Height(ctx)
			if err != nil {
				return err
			}
			if db.Height() < h {
				fmt.Fprintf(o.IO.ErrOut, "index: catching up from height %d to the peer's %d\n", db.Height(), h)
				if err := db.FollowTo(ctx, src, h); err != nil {
					return fmt.Errorf("catch up: %w", err)
				}
			}
		} else if err := db.Follow(ctx, src); err != nil {
			return fmt.Errorf("catch up: %w", err)
		}
	}
	out := AuditOutput{Findings: []indexer.AuditFinding{}}
	add := func(f indexer.AuditFinding) { out.Findings = append(out.Findings, f) }
	if out.IndexAudit, err = db.AuditIndexes(add); err != nil {
		return err
	}
	// One pass over the blocks for the creations and the replay.
	a := indexer.NewCreationAudit(db.Namespace())
	r, err := replay.New(db.Namespace())
	if err != nil {
		return err
	}
	defer r.Close()
	err = indexer.EachBlock(ctx, src, out.Height, func(b *common.Block) error {
		if o.SkipReplay {
			return a.Block(b, add)
		}
		return errors.Join(a.Block(b, add), r.Block(b, func(f replay.Finding) {
			add(indexer.AuditFinding{Check: AuditReplay, Key: f.Function + " by " + f.Creator, Block: f.Block, TxID: f.TxID, Detail: f.Detail})
		}))
	})
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	out.Blocks, out.Creations, out.Replayed = a.Blocks, a.Creations, r.Txs
	p := o.Printer()
	if p.JSON() {
		if err := p.WriteJSON(out); err != nil {
			return err
		}
	} else if len(out.Findings) > 0 {
		rows := make([][]string, len(out.Findings))
		for i, f := range out.Findings {
			block := ""
			if f.TxID != "" {
				block = strconv.FormatUint(f.Block, 10)
			}
			rows[i] = []string{f.Check, f.Key, block, f.TxID, f.Detail}
		}
		if err := p.Table([]string{p.Label("check"), p.Label("key"), p.Label("block"), p.Label("txId"), p.Label("finding")}, rows); err != nil {
			return err
		}
	}
	count := func(k int, one, many string) string {
		if k == 1 {
			return "1 " + one
		}
		return strconv.Itoa(k) + " " + many
	}
	summary := fmt.Sprintf("%s, %s, %s replayed, %s, %s, %s and %s at height %d",
		count(out.Blocks, "block", "blocks"), count(out.Creations, "creation", "creations"), count(out.Replayed, "transaction", "transactions"),
		count(out.Records, "record", "records"),
		count(out.Anchors, "certificate", "certificates"), count(out.Counties, "county", "counties"), count(out.Entries, "index entry", "index entries"), out.Height)
	if n := len(out.Findings); n > 0 {
		return &codedError{ExitError, fmt.Errorf("audit: %d finding(s) in %s", n, summary)}
	}
	fmt.Fprintf(o.IO.ErrOut, "index: audit clean: %s\n", summary)
	return nil
}

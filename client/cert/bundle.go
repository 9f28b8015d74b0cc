package cert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"
)

// BundleFormat identifies the layout of Bundle.
const BundleFormat = "credit-bundle/1"

// Bundle is everything needed to verify certificates without the network:
// the certificates (compact JWS), the channel's trust roots, and the
// blocks holding each anchor's transactions (the issuance and every status
// change known when the bundle was made), as Fabric protobuf bytes with
// their orderer signatures. Certificates of one batch share their blocks.
//
// A block carries every transaction ordered with the anchor's: Fabric
// hashes the block's transactions as one sequence, so proving one needs
// all. They are channel data, readable by every member; persons appear in
// them only as keyed hashes (DESIGN §3).
type Bundle struct {
	Format       string        `json:"format"`
	CreatedAt    string        `json:"createdAt"` // when the bundle's history was read (claimed, not signed)
	Channel      string        `json:"channel"`
	Chaincode    string        `json:"chaincode"`
	Trust        *TrustRoots   `json:"trust,omitempty"`
	Certificates []string      `json:"certificates"`
	Blocks       []BundleBlock `json:"blocks"`
}

// BundleBlock is one block of the ledger.
type BundleBlock struct {
	Number uint64 `json:"number"`
	Block  []byte `json:"block"` // common.Block, protobuf; base64 in JSON
}

// WriteTo writes the bundle as indented JSON.
func (b *Bundle) WriteTo(w io.Writer) (int64, error) {
	out, err := json.MarshalIndent(b, "", " ")
	if err != nil {
		return 0, err
	}
	n, err := w.Write(append(out, '\n'))
	return int64(n), err
}

// ReadBundle decodes a bundle and checks its format.
func ReadBundle(r io.Reader) (*Bundle, error) {
	var b Bundle
	dec := json.NewDecoder(r)
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	if b.Format != BundleFormat {
		return nil, fmt.Errorf("read bundle: format %q is not %q", b.Format, BundleFormat)
	}
	return &b, nil
}

// AddBlock adds a block (once per number).
func (b *Bundle) AddBlock(block *common.Block) error {
	n := block.GetHeader().GetNumber()
	if slices.ContainsFunc(b.Blocks, func(x BundleBlock) bool { return x.Number == n }) {
		return nil
	}
	raw, err := proto.Marshal(block)
	if err != nil {
		return fmt.Errorf("bundle block %d: %w", n, err)
	}
	b.Blocks = append(b.Blocks, BundleBlock{Number: n, Block: raw})
	slices.SortFunc(b.Blocks, func(x, y BundleBlock) int { return cmpUint(x.Number, y.Number) })
	return nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// BundleLedger is what MakeBundle reads from the ledger; *client.Client
// implements it.
type BundleLedger interface {
	CertificateHistory(ctx context.Context, id string) ([]credit.HistoryEntry, client.Result, error)
	BlockByTxID(ctx context.Context, txID string) (*common.Block, error)
}

// MakeBundle builds an offline bundle for certificates: for each anchor
// they point to, the blocks of every transaction in its history (issuance
// and status changes), and the trust roots.
func MakeBundle(ctx context.Context, l BundleLedger, trust *TrustRoots, certificates ...string) (*Bundle, error) {
	if len(certificates) == 0 {
		return nil, errors.New("make bundle: no certificate")
	}
	b := &Bundle{Format: BundleFormat, CreatedAt: time.Now().UTC().Format(time.RFC3339), Trust: trust}
	anchors := map[string]bool{}
	txs := map[string]bool{}
	for i, jws := range certificates {
		c, err := Parse(jws)
		if err != nil {
			return nil, fmt.Errorf("make bundle: certificate %d: %w", i, err)
		}
		st := c.Credential.CredentialStatus
		if b.Channel == "" {
			b.Channel, b.Chaincode = st.Channel, st.Chaincode
		} else if st.Channel != b.Channel || st.Chaincode != b.Chaincode {
			return nil, fmt.Errorf("make bundle: certificate %d is anchored on %s/%s, the others on %s/%s", i, st.Channel, st.Chaincode, b.Channel, b.Chaincode)
		}
		b.Certificates = append(b.Certificates, c.JWS)
		if anchors[st.AnchorID] {
			continue
		}
		anchors[st.AnchorID] = true
		hist, _, err := l.CertificateHistory(ctx, st.AnchorID)
		if errors.Is(err, credit.ErrNotFound) {
			// Perhaps this peer has not committed the block yet.
			if werr := awaitBlock(ctx, l, st.BlockNumber); werr != nil {
				return nil, fmt.Errorf("make bundle: certificate %d: %w", i, werr)
			}
			hist, _, err = l.CertificateHistory(ctx, st.AnchorID)
		}
		if err != nil {
			return nil, fmt.Errorf("make bundle: history of %s: %w", st.AnchorID, err)
		}
		for _, h := range hist {
			if txs[h.TxID] {
				continue
			}
			txs[h.TxID] = true
			block, err := l.BlockByTxID(ctx, h.TxID)
			if err != nil {
				return nil, fmt.Errorf("make bundle: block of %s: %w", h.TxID, err)
			}
			if err := b.AddBlock(block); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

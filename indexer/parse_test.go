package indexer

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/countycredit/creditledger/indexer/internal/blockgen"
)

// TestBlockHeaderHashMatchesFabric checks BlockHeaderHash against vectors
// computed by Fabric v3.1.1 itself: protoutil.BlockHeaderHash and
// protoutil.ComputeBlockDataHash from github.com/hyperledger/fabric
// v1.4.0-rc1.0.20250510200036-435a7f1a780a (= v3.1.1, the version
// network/tools pins), run once in a scratch module outside this
// repository. The numbers cover the DER integer's edge cases: zero, a
// one-byte value, a value needing a leading zero byte (128) and one above
// 2^63.
func TestBlockHeaderHashMatchesFabric(t *testing.T) {
	tests := []struct {
		name   string
		header *common.BlockHeader
		want   string
	}{
		{"genesis", &common.BlockHeader{Number: 0, DataHash: []byte{1, 2, 3}},
			"114fdb6d816c6123d3b087e6a228f00b16886c178e0674565ec12b19ead76e29"},
		{"block 1", &common.BlockHeader{Number: 1, PreviousHash: []byte("previous-hash-32-bytes-long-xxxx"), DataHash: []byte("data-hash-32-bytes-long-yyyyyyyy")},
			"0b74907a3630418314d74de5897687e0b2c7127f8058db83f88dd694968405cc"},
		{"number 128 needs a sign byte", &common.BlockHeader{Number: 128, PreviousHash: []byte{0xff}},
			"6a8b22476fe0fa9b1d2a32a5aaf9a6fceeb7da910f74cffc31aa007b63f1d2e2"},
		{"number above 2^63", &common.BlockHeader{Number: 1<<63 + 5, PreviousHash: []byte{0}, DataHash: []byte{0}},
			"1ea4b0da99471d11acdec2d9291f446281b8b2c97d0cf2a21770658081e5c8fc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := hex.EncodeToString(BlockHeaderHash(tc.header)); got != tc.want {
				t.Errorf("BlockHeaderHash = %s, Fabric says %s", got, tc.want)
			}
			// The test block generator computes it independently.
			if got := hex.EncodeToString(blockgen.HeaderHash(tc.header)); got != tc.want {
				t.Errorf("blockgen.HeaderHash = %s, Fabric says %s", got, tc.want)
			}
		})
	}
	d := &common.BlockData{Data: [][]byte{[]byte("ab"), []byte("cd")}}
	if got, want := hex.EncodeToString(BlockDataHash(d)), "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589"; got != want {
		t.Errorf("BlockDataHash = %s, Fabric says %s", got, want)
	}
}

func endorserTx(id string, code peer.TxValidationCode, rw ...blockgen.NsRWSet) blockgen.Tx {
	return blockgen.Tx{ID: id, Time: time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC), Code: code, RWSets: rw}
}

func TestParseBlock(t *testing.T) {
	write := func(k, v string) blockgen.Write { return blockgen.Write{Key: k, Value: []byte(v)} }
	tests := []struct {
		name    string
		block   func(c *blockgen.Chain) *common.Block
		wantErr error
		check   func(t *testing.T, pb *ParsedBlock)
	}{
		{
			name: "writes of the namespace from every rwset and action, in order",
			block: func(c *blockgen.Chain) *common.Block {
				return c.Block(endorserTx("t1", peer.TxValidationCode_VALID,
					blockgen.NsRWSet{Namespace: "other", Writes: []blockgen.Write{write("o", "1")}},
					blockgen.NsRWSet{Namespace: "credit", Writes: []blockgen.Write{write("a", "1"), write("b", "2")}},
					blockgen.NsRWSet{Namespace: "credit", Writes: []blockgen.Write{write("c", "3")}},
				))
			},
			check: func(t *testing.T, pb *ParsedBlock) {
				tx := pb.Txs[0]
				if len(tx.Writes) != 3 || string(tx.Writes[2].Key) != "c" {
					t.Errorf("writes = %+v, want a, b, c", tx.Writes)
				}
				if len(tx.Namespaces) != 2 || tx.Namespaces[0] != "other" {
					t.Errorf("namespaces = %v, want [other credit]", tx.Namespaces)
				}
			},
		},
		{
			name: "an empty value is a delete, as in Fabric's committer",
			block: func(c *blockgen.Chain) *common.Block {
				return c.Block(endorserTx("t1", peer.TxValidationCode_VALID,
					blockgen.NsRWSet{Namespace: "credit", Writes: []blockgen.Write{{Key: "k"}, {Key: "d", Delete: true, Value: []byte("ignored")}}}))
			},
			check: func(t *testing.T, pb *ParsedBlock) {
				for _, w := range pb.Txs[0].Writes {
					if !w.IsDelete || w.Value != nil {
						t.Errorf("write %q = %+v, want a delete without value", w.Key, w)
					}
				}
			},
		},
		{
			name: "invalid transactions are not read past their header",
			block: func(c *blockgen.Chain) *common.Block {
				return c.Block(
					endorserTx("t1", peer.TxValidationCode_MVCC_READ_CONFLICT,
						blockgen.NsRWSet{Namespace: "credit", Writes: []blockgen.Write{write("a", "1")}}),
					blockgen.Tx{Garbage: []byte{0xff, 0xff}, Code: peer.TxValidationCode_BAD_PAYLOAD},
				)
			},
			check: func(t *testing.T, pb *ParsedBlock) {
				if pb.Txs[0].Writes != nil || pb.Txs[0].ID != "t1" || pb.Txs[0].Valid() {
					t.Errorf("invalid tx parsed as %+v", pb.Txs[0])
				}
				if pb.Txs[1].ID != "" || pb.Txs[1].Code != peer.TxValidationCode_BAD_PAYLOAD {
					t.Errorf("garbage tx parsed as %+v", pb.Txs[1])
				}
			},
		},
		{
			name: "a valid transaction that does not parse stops ingest",
			block: func(c *blockgen.Chain) *common.Block {
				return c.Block(blockgen.Tx{Garbage: []byte{0xff, 0xff}})
			},
			wantErr: ErrMalformed,
		},
		{
			name: "endorser transactions need a transactions filter",
			block: func(c *blockgen.Chain) *common.Block {
				b := c.Block(endorserTx("t1", peer.TxValidationCode_VALID))
				b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = nil
				return b
			},
			wantErr: ErrMalformed,
		},
		{
			name: "a config block without a filter is fine",
			block: func(c *blockgen.Chain) *common.Block {
				b := c.Config(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
				b.Metadata.Metadata = nil
				return b
			},
			check: func(t *testing.T, pb *ParsedBlock) {
				if pb.Txs[0].Type != common.HeaderType_CONFIG || !pb.Txs[0].Valid() {
					t.Errorf("config tx parsed as %+v", pb.Txs[0])
				}
			},
		},
		{
			name: "data not matching the data hash",
			block: func(c *blockgen.Chain) *common.Block {
				b := c.Block(endorserTx("t1", peer.TxValidationCode_VALID))
				b.Header.DataHash = []byte("wrong")
				return b
			},
			wantErr: ErrDataHash,
		},
		{
			name:    "no header",
			block:   func(*blockgen.Chain) *common.Block { return &common.Block{} },
			wantErr: ErrMalformed,
		},
		{
			name: "a valid endorser transaction without a timestamp",
			block: func(c *blockgen.Chain) *common.Block {
				tx := endorserTx("t1", peer.TxValidationCode_VALID)
				tx.Time = time.Time{}
				b := c.Block(tx)
				// timestamppb.New(zero time) is year 1, not nil: drop it.
				var env common.Envelope
				var pl common.Payload
				var ch common.ChannelHeader
				mustUnmarshal(t, b.Data.Data[0], &env)
				mustUnmarshal(t, env.Payload, &pl)
				mustUnmarshal(t, pl.Header.ChannelHeader, &ch)
				ch.Timestamp = nil
				pl.Header.ChannelHeader = mustMarshal(t, &ch)
				env.Payload = mustMarshal(t, &pl)
				b.Data.Data[0] = mustMarshal(t, &env)
				b.Header.DataHash = BlockDataHash(b.Data)
				return b
			},
			wantErr: ErrMalformed,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := blockgen.NewChain("credit")
			pb, err := ParseBlock(tc.block(c), "credit")
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ParseBlock error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBlock: %v", err)
			}
			tc.check(t, pb)
		})
	}
}

func mustUnmarshal(t *testing.T, b []byte, m proto.Message) {
	t.Helper()
	if err := proto.Unmarshal(b, m); err != nil {
		t.Fatal(err)
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzParseBlock checks that no block, however mangled, makes ParseBlock
// panic: it returns a parsed block or an error; and that every valid
// transaction it reads is read as full proto.Unmarshal decoding
// (referenceTx, which is how Fabric reads it) reads it, whenever that
// decoding succeeds.
func FuzzParseBlock(f *testing.F) {
	bs, err := ReadBlockDir("testdata/blocks/synthetic")
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range bs {
		data, err := proto.Marshal(b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b common.Block
		if proto.Unmarshal(data, &b) != nil {
			return
		}
		// Keep the data hash consistent so the fuzzer reaches the parser.
		if b.Header != nil && b.Data != nil {
			b.Header.DataHash = BlockDataHash(b.Data)
		}
		pb, err := ParseBlock(&b, "credit")
		if err != nil {
			return
		}
		for i, got := range pb.Txs {
			if !got.Valid() {
				continue
			}
			want, err := referenceTx(b.Data.Data[i], "credit")
			if err != nil || got.ID != want.ID || got.Type != want.Type {
				if err == nil {
					t.Fatalf("tx %d: header %s %v, proto.Unmarshal reads %s %v", i, got.ID, got.Type, want.ID, want.Type)
				}
				continue
			}
			if got.Type != common.HeaderType_ENDORSER_TRANSACTION {
				continue
			}
			if got.Chaincode != want.Chaincode || !slices.Equal(got.Namespaces, want.Namespaces) ||
				!slices.EqualFunc(got.Writes, want.Writes, func(x, y Write) bool {
					return bytes.Equal(x.Key, y.Key) && bytes.Equal(x.Value, y.Value) && x.IsDelete == y.IsDelete
				}) {
				t.Fatalf("tx %d: chaincode %q namespaces %v %d writes; proto.Unmarshal reads %q %v %d writes",
					i, got.Chaincode, got.Namespaces, len(got.Writes), want.Chaincode, want.Namespaces, len(want.Writes))
			}
		}
	})
}

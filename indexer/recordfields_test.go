package indexer

import (
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

// strictFields decodes a record value the strict way (the chaincode's
// types through encoding/json, decodeRecord) into its fields.
func strictFields(kind, id string, value []byte) (recordFields, error) {
	rec, err := decodeRecord(kind, id, value)
	if err != nil {
		return recordFields{}, err
	}
	return fieldsOf(rec), nil
}

// recordValues returns every record write of the fixture blocks (real
// network and synthetic) and of a generated workload, as kind, id, value.
func recordValues(t testing.TB) [][3]string {
	t.Helper()
	var out [][3]string
	add := func(pb *ParsedBlock) {
		for _, tx := range pb.Txs {
			for _, w := range tx.Writes {
				ot, attrs, ok := keys.SplitCompositeKey(w.Key)
				if ok && len(attrs) == 1 && credit.IsRecordKind(ot) && !w.IsDelete {
					out = append(out, [3]string{ot, attrs[0], string(w.Value)})
				}
			}
		}
	}
	for _, dir := range []string{"testdata/blocks/network", "testdata/blocks/synthetic"} {
		bs, err := ReadBlockDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			pb, err := ParseBlock(b, DefaultNamespace)
			if err != nil {
				t.Fatal(err)
			}
			add(pb)
		}
	}
	w := newWorkload(t, 3, 60)
	for range 20 {
		w.block(30)
	}
	for _, b := range w.blocks {
		pb, err := ParseBlock(b, DefaultNamespace)
		if err != nil {
			t.Fatal(err)
		}
		add(pb)
	}
	return out
}

// FuzzRecordFields: whatever the value, ingest's reading of a record
// agrees with the strict decoder's: the same fields, or the same error.
func FuzzRecordFields(f *testing.F) {
	for i, v := range recordValues(f) {
		if i%7 == 0 {
			f.Add(v[0], v[1], []byte(v[2]))
		}
	}
	f.Fuzz(func(t *testing.T, kind, id string, value []byte) {
		got, err := decodeRecordFields(kind, id, value)
		want, werr := strictFields(kind, id, value)
		if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
			t.Fatalf("error %v, the strict decoder's %v", err, werr)
		}
		if got != want {
			t.Fatalf("fields %+v, the strict decoder's %+v", got, want)
		}
	})
}

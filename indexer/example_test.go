package indexer_test

import (
	"context"
	"fmt"
	"log"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer"
	"github.com/countycredit/creditledger/indexer/keys"
)

// Follow a source of blocks into an index, then ask about a subject and a
// county.
func Example() {
	db, err := indexer.Open("idx", indexer.Options{FS: vfs.NewMem()})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	// The client package provides a BlockSource over a peer; here, the
	// synthetic fixture blocks.
	if err := db.Follow(context.Background(), indexer.DirSource{Dir: "testdata/blocks/synthetic"}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("height", db.Height())

	p, err := db.SubjectProfile("91330782MA2B000023", credit.NewDate(2026, 2, 1))
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range p.Records {
		h := r.Head()
		fmt.Println(h.Kind, h.ID, h.State)
	}
	ind, err := db.Indicators("330782", keys.MakeMonth(2026, 1))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("black+watch list:", ind.ListActive, "new:", ind.ListEntries, "coverage:", ind.Coverage)
	// Output:
	// height 6
	// commitment R-1.commitment made
	// punishment P-1 active
	// repair R-1 applied
	// black+watch list: 1 new: 1 coverage: 3/3 (100.00%)
}

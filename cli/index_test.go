package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer"
	"github.com/countycredit/creditledger/indexer/httpapi"
	"github.com/countycredit/creditledger/indexer/keys"
)

// The index commands, without a network: blocks come from the synthetic
// fixtures of package indexer (indexer/testdata/fixtures.ddt describes
// them), the peer is a fake over the same blocks.

const syntheticBlocks = "../indexer/testdata/blocks/synthetic"

var (
	fixtureSubjectC1 = credit.CompleteCreditCode("91330782MA2EXAMPL")
	fixtureSubjectP1 = credit.CompleteCreditCode("91330782MA2B00002")
)

// indexTestOptions returns options over dir with buffered streams, the
// clock at 2026-02-20 (UTC+8), the caller in county 330782, and peer as
// the peer.
func indexTestOptions(t *testing.T, dir, output string, peer IndexPeer) (IndexOptions, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	ios, _, out, errOut := Test()
	return IndexOptions{
		Base: Base{
			IO:     ios,
			Now:    func() time.Time { return time.Date(2026, 2, 20, 1, 0, 0, 0, time.UTC) },
			County: func() (string, error) { return "330782", nil },
			Output: output, Lang: "en",
		},
		Dir: dir,
		Peer: func(context.Context) (IndexPeer, error) {
			if peer == nil {
				return nil, errors.New("no peer in this test")
			}
			return peer, nil
		},
	}, out, errOut
}

// fakePeer serves blocks from a directory, answers its height, and pages
// a world state built by applying the blocks' valid writes.
type fakePeer struct {
	indexer.DirSource
	world  map[string][]byte
	height uint64
}

func newFakePeer(t *testing.T, dir string) *fakePeer {
	t.Helper()
	bs, err := indexer.ReadBlockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := &fakePeer{DirSource: indexer.DirSource{Dir: dir}, world: map[string][]byte{}, height: uint64(len(bs))}
	for _, b := range bs {
		pb, err := indexer.ParseBlock(b, indexer.DefaultNamespace)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range pb.Txs {
			if !tx.Valid() {
				continue
			}
			for _, w := range tx.Writes {
				if w.IsDelete {
					delete(p.world, string(w.Key))
				} else {
					p.world[string(w.Key)] = w.Value
				}
			}
		}
	}
	return p
}

func (p *fakePeer) Height(context.Context) (uint64, error) { return p.height, nil }
func (p *fakePeer) Close() error                           { return nil }

func (p *fakePeer) ListState(_ context.Context, req credit.ListStateRequest) (*credit.ListStateResult, error) {
	prefix := string(keys.CompositeKey(req.ObjectType))
	var ks []string
	for k := range p.world {
		if strings.HasPrefix(k, prefix) && k > req.Bookmark {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	out := &credit.ListStateResult{Entries: []credit.StateEntry{}}
	if len(ks) > req.PageSize {
		ks = ks[:req.PageSize]
		out.Bookmark = ks[len(ks)-1]
	}
	for _, k := range ks {
		out.Entries = append(out.Entries, credit.StateEntry{Key: k, Value: string(p.world[k])})
	}
	return out, nil
}

// buildIndex runs `index run --blocks synthetic --once` into a new folder.
func buildIndex(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	o, _, errOut := indexTestOptions(t, dir, OutputJSON, nil)
	o.Blocks = syntheticBlocks
	if err := runIndexRun(&IndexRunOptions{IndexOptions: o, Once: true, LogBlocks: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "applied block 5:") || !strings.Contains(errOut.String(), "stopped at height 6") {
		t.Fatalf("progress:\n%s", errOut)
	}
	return dir
}

func TestIndexRunResumesAndChangesNothingTwice(t *testing.T) {
	dir := buildIndex(t)
	db, err := indexer.Open(filepath.Join(dir, indexDBDir), indexer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h1, d1, err := db.Digest()
	db.Close()
	if err != nil || h1 != 6 {
		t.Fatalf("height %d, %v", h1, err)
	}
	o, _, errOut := indexTestOptions(t, dir, OutputJSON, nil)
	o.Blocks = syntheticBlocks
	if err := runIndexRun(&IndexRunOptions{IndexOptions: o, Once: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "at height 6") || !strings.Contains(errOut.String(), "applied 0 blocks") {
		t.Fatalf("second run:\n%s", errOut)
	}
	db, err = indexer.Open(filepath.Join(dir, indexDBDir), indexer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if h2, d2, _ := db.Digest(); h2 != h1 || !bytes.Equal(d1, d2) {
		t.Fatal("running again over the same blocks changed the index")
	}
	if _, err := os.Stat(filepath.Join(dir, indexStatusFile)); !os.IsNotExist(err) {
		t.Fatalf("status file left behind: %v", err)
	}
}

// TestIndexLookups runs every lookup on the index folder, in JSON and in
// a table, with --lang zh for the indicators.
func TestIndexLookups(t *testing.T) {
	dir := buildIndex(t)
	tests := []struct {
		name   string
		o      IndexLookupOptions
		output string
		lang   string
		want   []string
	}{
		{name: "subject", o: IndexLookupOptions{What: "subject", Args: []string{fixtureSubjectC1}, AsOf: "2026-02-16"}, output: OutputJSON,
			want: []string{`"subject": "` + fixtureSubjectC1 + `"`, `"id": "C-1"`, `"derivedState": "overdue"`}},
		{name: "subject as of before the deadline", o: IndexLookupOptions{What: "subject", Args: []string{fixtureSubjectC1}, AsOf: "2026-02-15"}, output: OutputTable,
			want: []string{"records", "C-1", "made"}},
		{name: "record", o: IndexLookupOptions{What: "record", Args: []string{"punishment", "P-1"}}, output: OutputJSON,
			want: []string{`"punishmentKind": "blacklist"`, `"derivedState": "active"`}},
		{name: "history", o: IndexLookupOptions{What: "history", Args: []string{"commitment", "C-2"}}, output: OutputTable,
			want: []string{"BLOCK", "fulfilled", "deleted"}},
		{name: "black list", o: IndexLookupOptions{What: "blacklist"}, output: OutputTable, want: []string{"P-1", "blacklist", "2029-01-15"}},
		{name: "black list zh", o: IndexLookupOptions{What: "blacklist"}, output: OutputTable, lang: "zh", want: []string{"严重失信主体名单", "公示中"}},
		{name: "watch list", o: IndexLookupOptions{What: "watchlist"}, output: OutputJSON, want: []string{`"records": []`}},
		{name: "overdue", o: IndexLookupOptions{What: "overdue", AsOf: "2026-02-16"}, output: OutputJSON, want: []string{`"id": "C-1"`}},
		{name: "ending", o: IndexLookupOptions{What: "ending", Days: 1100}, output: OutputPlain, want: []string{"P-1\tblacklist"}},
		{name: "repairs", o: IndexLookupOptions{What: "repairs"}, output: OutputJSON, want: []string{`"id": "R-1"`, `"receivedBy": "330783"`}},
		{name: "indicators", o: IndexLookupOptions{What: "indicators", Month: "2026-01"}, output: OutputJSON,
			want: []string{`"county": "330782"`, `"listEntries": 1`, `"coverage": {`}},
		{name: "indicators zh", o: IndexLookupOptions{What: "indicators", Month: "2026-01"}, output: OutputTable, lang: "zh",
			want: []string{"黑名单及重点关注名单总量", "信用承诺覆盖率", "100.00% (3/3)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, out, _ := indexTestOptions(t, dir, tc.output, nil)
			if tc.lang != "" {
				o.Lang = tc.lang
			}
			tc.o.IndexOptions = o
			if err := runIndexLookup(&tc.o); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestIndexLookupRefusals: bad input is refused naming the flag, before
// anything is opened; a missing index is not created by a lookup.
func TestIndexLookupRefusals(t *testing.T) {
	tests := []struct {
		name  string
		o     IndexLookupOptions
		field string
	}{
		{"bad as-of", IndexLookupOptions{What: "blacklist", AsOf: "2026-02-30"}, "--as-of"},
		{"bad subject", IndexLookupOptions{What: "subject", Args: []string{"91330782MA2EXAMPLX"}}, "subject"},
		{"bad kind", IndexLookupOptions{What: "record", Args: []string{"widget", "C-1"}}, "kind"},
		{"bad month", IndexLookupOptions{What: "indicators", Month: "2026-13"}, "--month"},
		{"bad days", IndexLookupOptions{What: "ending", Days: -1}, "--days"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "idx")
			o, _, _ := indexTestOptions(t, dir, OutputJSON, nil)
			tc.o.IndexOptions = o
			err := runIndexLookup(&tc.o)
			var fe *credit.FieldError
			if ExitCode(err) != ExitInvalid || !errors.As(err, &fe) || !strings.Contains(fe.Field, tc.field) {
				t.Fatalf("err = %v (exit %d), want a field error naming %s", err, ExitCode(err), tc.field)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatal("a refused lookup created the index folder")
			}
		})
	}
	dir := filepath.Join(t.TempDir(), "idx")
	o, _, _ := indexTestOptions(t, dir, OutputJSON, nil)
	err := runIndexLookup(&IndexLookupOptions{IndexOptions: o, What: "blacklist"})
	if err == nil || !strings.Contains(err.Error(), "no index in") {
		t.Fatalf("lookup without an index: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("a lookup created the index folder")
	}
}

// TestIndexServe runs `index serve` on the synthetic blocks and asks it
// every lookup with --server: the answers equal those of the folder.
func TestIndexServe(t *testing.T) {
	dir := t.TempDir()
	o, _, errOut := indexTestOptions(t, dir, OutputJSON, nil)
	o.Blocks = syntheticBlocks
	ctx, cancel := context.WithCancel(context.Background())
	o.signals = func() (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runIndexRun(&IndexRunOptions{IndexOptions: o, Listen: "127.0.0.1:0", ready: func(a string) { addr <- a }})
	}()
	var server string
	select {
	case a := <-addr:
		server = "http://" + a
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, errOut)
	}
	// Wait for the blocks to be applied.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if strings.Contains(errOut.String(), "index:") && statusHeight(t, server) == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not apply the blocks:\n%s", errOut)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A lookup on the folder is refused while serve holds it.
	busy, _, _ := indexTestOptions(t, dir, OutputJSON, nil)
	if err := runIndexLookup(&IndexLookupOptions{IndexOptions: busy, What: "blacklist"}); !errors.Is(err, ErrIndexBusy) || !strings.Contains(err.Error(), "--server") {
		t.Fatalf("lookup on a served folder: %v", err)
	}
	// Every lookup through --server equals the same lookup on a folder
	// built from the same blocks.
	ref := buildIndex(t)
	for _, l := range []IndexLookupOptions{
		{What: "subject", Args: []string{fixtureSubjectP1}},
		{What: "record", Args: []string{"commitment", "C-1"}, AsOf: "2026-02-01"},
		{What: "history", Args: []string{"commitment", "C-2"}},
		{What: "blacklist"}, {What: "watchlist"}, {What: "overdue"}, {What: "ending", Days: 1100}, {What: "repairs"},
		{What: "indicators", Month: "2026-01"},
	} {
		viaServer, out1, _ := indexTestOptions(t, "", OutputJSON, nil)
		viaServer.Server = server
		l1 := l
		l1.IndexOptions = viaServer
		if err := runIndexLookup(&l1); err != nil {
			t.Fatalf("%s via server: %v", l.What, err)
		}
		local, out2, _ := indexTestOptions(t, ref, OutputJSON, nil)
		l2 := l
		l2.IndexOptions = local
		if err := runIndexLookup(&l2); err != nil {
			t.Fatal(err)
		}
		if out1.String() != out2.String() {
			t.Errorf("%s: server says\n%s\nfolder says\n%s", l.What, out1, out2)
		}
	}
	// status reads the running server's status file (the folder is
	// busy): the blocks are applied and the end of --blocks reached.
	st, out, _ := indexTestOptions(t, dir, OutputJSON, nil)
	if err := runIndexStatus(&IndexStatusOptions{IndexOptions: st, Offline: true}); err != nil {
		t.Fatal(err)
	}
	var status httpapi.Status
	if err := json.Unmarshal(out.Bytes(), &status); err != nil || status.Following || status.Height != 6 || status.Txs != 14 {
		t.Fatalf("status of a served index: %v %s", err, out)
	}
	// Errors come back as the sentinels.
	viaServer, _, _ := indexTestOptions(t, "", OutputJSON, nil)
	viaServer.Server = server
	if err := runIndexLookup(&IndexLookupOptions{IndexOptions: viaServer, What: "record", Args: []string{"commitment", "C-2"}}); ExitCode(err) != ExitNotFound {
		t.Fatalf("deleted record via server: %v (exit %d)", err, ExitCode(err))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve after cancel: %v", err)
	}
}

func statusHeight(t *testing.T, server string) uint64 {
	t.Helper()
	h := &httpReader{base: server, c: &http.Client{Timeout: 5 * time.Second}}
	var st httpapi.Status
	if err := h.get("/v1/status", nil, &st); err != nil {
		return 0
	}
	return st.Height
}

func TestIndexStatus(t *testing.T) {
	dir := buildIndex(t)
	o, out, _ := indexTestOptions(t, dir, OutputJSON, newFakePeer(t, syntheticBlocks))
	o.Peer = func(context.Context) (IndexPeer, error) {
		p := newFakePeer(t, syntheticBlocks)
		p.height = 9
		return p, nil
	}
	if err := runIndexStatus(&IndexStatusOptions{IndexOptions: o}); err != nil {
		t.Fatal(err)
	}
	var st httpapi.Status
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Height != 6 || st.PeerHeight != 9 || st.Lag != 3 || st.Invalid != 2 || st.Following || st.LastTxID != "apply-R-1" {
		t.Fatalf("status %+v", st)
	}
	o, out, _ = indexTestOptions(t, dir, OutputTable, nil)
	o.Lang = "zh"
	if err := runIndexStatus(&IndexStatusOptions{IndexOptions: o, Offline: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "落后区块数") || !strings.Contains(out.String(), "unknown") {
		t.Fatalf("status table:\n%s", out)
	}
}

func TestIndexReconcile(t *testing.T) {
	dir := buildIndex(t)
	peer := newFakePeer(t, syntheticBlocks)
	o, out, errOut := indexTestOptions(t, dir, OutputTable, peer)
	if err := runIndexReconcile(&IndexReconcileOptions{IndexOptions: o, PageSize: 3, Attempts: 1}); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !strings.Contains(errOut.String(), "reconcile clean") || !strings.Contains(out.String(), "commitment") {
		t.Fatalf("clean reconcile:\n%s\n%s", out, errOut)
	}
	tampered := newFakePeer(t, syntheticBlocks)
	tampered.world = maps.Clone(tampered.world)
	k := string(keys.CompositeKey(credit.TypeOpenRepair, "P-1"))
	if _, ok := tampered.world[k]; !ok {
		t.Fatalf("fixture has no %s", keys.FormatStateKey([]byte(k)))
	}
	tampered.world[k] = []byte("R-other")
	o, out, _ = indexTestOptions(t, dir, OutputPlain, tampered)
	err := runIndexReconcile(&IndexReconcileOptions{IndexOptions: o, PageSize: 1000, Attempts: 1})
	if ExitCode(err) != ExitError || !strings.Contains(err.Error(), "1 difference") {
		t.Fatalf("reconcile of a tampered peer: %v", err)
	}
	if !strings.Contains(out.String(), "value\topenrepair{P-1}\tR-other\tR-1") {
		t.Fatalf("differences:\n%s", out)
	}
	// Behind the peer, reconcile catches up first.
	short := t.TempDir()
	if err := os.CopyFS(short, os.DirFS(syntheticBlocks)); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(short, indexer.BlockFileName(5)))
	o, _, _ = indexTestOptions(t, t.TempDir(), OutputJSON, nil)
	o.Blocks = short
	if err := runIndexRun(&IndexRunOptions{IndexOptions: o, Once: true}); err != nil {
		t.Fatal(err)
	}
	o2, out, errOut := indexTestOptions(t, o.Dir, OutputJSON, peer)
	if err := runIndexReconcile(&IndexReconcileOptions{IndexOptions: o2, PageSize: 1000, Attempts: 1}); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !strings.Contains(errOut.String(), "catching up from height 5 to the peer's 6") || !strings.Contains(out.String(), `"height": 6`) {
		t.Fatalf("catch-up:\n%s\n%s", out, errOut)
	}
}

// TestIndexAudit: `index audit --blocks` on blocks of a real network is
// clean (exit 0); on blocks where county B created a punishment of county A and
// tampered with index entries (indexer TestAuditIndexes), every finding is
// printed with its block and transaction, and the exit status is 1.
func TestIndexAudit(t *testing.T) {
	o, out, errOut := indexTestOptions(t, t.TempDir(), OutputJSON, nil)
	o.Blocks = "../indexer/testdata/blocks/network" // captured from a real network
	if err := runIndexAudit(&IndexAuditOptions{IndexOptions: o}); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var clean AuditOutput
	if err := json.Unmarshal(out.Bytes(), &clean); err != nil || len(clean.Findings) != 0 || clean.Blocks != 29 || clean.Height != 29 || clean.Records == 0 || clean.Replayed != 24 {
		t.Fatalf("clean audit: %v %+v", err, clean)
	}
	if !strings.Contains(errOut.String(), "index: audit clean: 29 blocks") {
		t.Fatalf("clean audit said: %s", errOut)
	}

	o, out, _ = indexTestOptions(t, t.TempDir(), OutputPlain, nil)
	// (Their transactions are built by a simulator, with placeholder
	// proposals and certificates: the replay, which needs the real ones,
	// is left out.)
	o.Blocks = "../indexer/testdata/blocks/forged"
	err := runIndexAudit(&IndexAuditOptions{IndexOptions: o, SkipReplay: true})
	if ExitCode(err) != ExitError || !strings.Contains(err.Error(), "audit: 12 finding(s) in 3 blocks, 8 creations, 0 transactions replayed, 4 records") {
		t.Fatalf("audit of forged blocks: exit %d, %v", ExitCode(err), err)
	}
	for _, want := range []string{
		"creator\tpunishment{PN-FORGED}\t2\t",
		"endorsement\tpunishment{PN-FORGED}\t2\t",
		"index\tsubject{" + fixtureSubjectC1 + ",commitment,CM-GHOST}\t\t\tno commitment CM-GHOST exists\n",
		"index\tcountymsp{County330783MSP}\t",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("audit output lacks %q:\n%s", want, out)
		}
	}
	// Asked not to catch up, on an empty index: nothing to audit, clean.
	o, _, errOut = indexTestOptions(t, t.TempDir(), OutputPlain, nil)
	o.Blocks = "../indexer/testdata/blocks/forged"
	if err := runIndexAudit(&IndexAuditOptions{IndexOptions: o, NoCatchUp: true, SkipReplay: true}); err != nil || !strings.Contains(errOut.String(), "0 blocks") {
		t.Fatalf("no catch-up: %v %s", err, errOut)
	}
}

func TestIndexRebuild(t *testing.T) {
	dir := buildIndex(t)
	o, out, errOut := indexTestOptions(t, dir, OutputJSON, nil)
	o.Blocks = syntheticBlocks
	if err := runIndexRebuild(&IndexRebuildOptions{IndexRunOptions{IndexOptions: o}}); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !strings.Contains(out.String(), `"height": 6`) || !strings.Contains(errOut.String(), "swapped in") {
		t.Fatalf("rebuild:\n%s\n%s", out, errOut)
	}
	for _, leftover := range []string{indexDBDir + ".rebuild", indexDBDir + ".old"} {
		if _, err := os.Stat(filepath.Join(dir, leftover)); !os.IsNotExist(err) {
			t.Errorf("%s left behind", leftover)
		}
	}
	ref := buildIndex(t)
	digest := func(d string) []byte {
		db, err := indexer.Open(filepath.Join(d, indexDBDir), indexer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, s, err := db.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if !bytes.Equal(digest(dir), digest(ref)) {
		t.Fatal("the rebuilt index differs from one built by run")
	}
	// Beside a process holding the index, rebuild refuses and changes
	// nothing.
	db, err := indexer.Open(filepath.Join(dir, indexDBDir), indexer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	o, _, _ = indexTestOptions(t, dir, OutputJSON, nil)
	o.Blocks = syntheticBlocks
	if err := runIndexRebuild(&IndexRebuildOptions{IndexRunOptions{IndexOptions: o}}); !errors.Is(err, ErrIndexBusy) {
		t.Fatalf("rebuild of a busy index: %v", err)
	}
}

// TestIndexRefusesAnotherLedger: a peer whose chain is not the indexed one
// stops run with exit 1 and the hash-chain error, and nothing changes.
// TestIndexRefusesAPeerBehindIt: a peer whose ledger is shorter than the
// index (a network started anew) is refused at once, not waited for.
func TestIndexRefusesAPeerBehindIt(t *testing.T) {
	dir := buildIndex(t)
	peer := newFakePeer(t, syntheticBlocks)
	peer.height = 3
	o, _, _ := indexTestOptions(t, dir, OutputJSON, peer)
	err := runIndexRun(&IndexRunOptions{IndexOptions: o, Once: true})
	if !errors.Is(err, indexer.ErrHashChain) || !strings.Contains(err.Error(), "rebuild") {
		t.Fatalf("run against a shorter ledger: %v", err)
	}
}

func TestIndexRefusesAnotherLedger(t *testing.T) {
	dir := buildIndex(t)
	other := t.TempDir()
	if err := os.CopyFS(other, os.DirFS("../indexer/testdata/blocks/network")); err != nil {
		t.Fatal(err)
	}
	o, _, _ := indexTestOptions(t, dir, OutputJSON, nil)
	o.Blocks = other
	err := runIndexRun(&IndexRunOptions{IndexOptions: o, Once: true})
	if !errors.Is(err, indexer.ErrHashChain) || ExitCode(err) != ExitError {
		t.Fatalf("run on another ledger's blocks: %v (exit %d)", err, ExitCode(err))
	}
}

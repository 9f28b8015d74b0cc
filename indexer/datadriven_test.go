package indexer

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/internal/blockgen"
	"github.com/countycredit/creditledger/indexer/keys"
)

var rewriteBlocks = flag.Bool("rewrite-blocks", false, "rewrite the block fixtures under testdata/blocks that the scripts save")

// TestDataDriven runs the scripts in testdata/*.ddt. Refresh the expected
// output with -rewrite (datadriven's flag), the block fixtures with
// -rewrite-blocks.
func TestDataDriven(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.ddt")
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob("testdata/*/*.ddt")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range append(paths, more...) {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(path), "testdata/"), ".ddt")
		t.Run(name, func(t *testing.T) {
			h := &harness{t: t}
			defer h.close()
			datadriven.RunTest(t, path, h.run)
		})
	}
}

// parseAsOf reads the asof argument; an empty one is the zero Date.
func parseAsOf(td *datadriven.TestData) (credit.Date, error) {
	s := argOr(td, "asof", "")
	if s == "" {
		return credit.Date{}, nil
	}
	return credit.ParseDate(s)
}

// harness holds the state of one script: an in-memory filesystem, the
// index on it, and the simulated network that builds its blocks.
type harness struct {
	t      testing.TB
	fs     *vfs.MemFS
	opts   Options
	db     *DB
	sim    *sim
	blocks []*common.Block // every block built, by number
}

func (h *harness) close() {
	if h.db != nil {
		_ = h.db.Close()
		h.db = nil
	}
}

func (h *harness) run(t *testing.T, td *datadriven.TestData) string {
	h.t = t
	out, err := h.exec(td)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	if out == "" {
		return "ok\n"
	}
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}

func argOr(td *datadriven.TestData, key, def string) string {
	if a, ok := td.Arg(key); ok && len(a.Vals) > 0 {
		return a.Vals[0]
	}
	return def
}

func (h *harness) exec(td *datadriven.TestData) (string, error) {
	switch td.Cmd {
	case "open":
		h.close()
		h.fs = vfs.NewMem()
		h.opts = Options{Namespace: argOr(td, "namespace", ""), Channel: argOr(td, "channel", ""), FS: h.fs}
		h.sim = newSim(argOr(td, "chain-channel", "credit"))
		h.blocks = nil
		db, err := Open("idx", h.opts)
		if err != nil {
			return "", err
		}
		h.db = db
		return "", nil
	case "reopen":
		h.close()
		opts := h.opts
		opts.Namespace = argOr(td, "namespace", opts.Namespace)
		db, err := Open("idx", opts)
		if err != nil {
			return "", err
		}
		h.db = db
		return fmt.Sprintf("height %d", db.Height()), nil
	case "set-format":
		v, err := strconv.ParseUint(argOr(td, "version", ""), 10, 32)
		if err != nil {
			return "", err
		}
		h.close()
		pdb, err := pebble.Open("idx", &pebble.Options{FS: h.fs, Logger: quietLogger{os.Stderr}})
		if err != nil {
			return "", err
		}
		err = pdb.Set(keys.Meta{Name: keys.MetaFormat}.Encode(nil), encodeFormat(uint32(v)), pebble.Sync)
		return "", firstErr(err, pdb.Close)
	case "config":
		tm, err := txTime(argOr(td, "time", "2026-01-01"))
		if err != nil {
			return "", err
		}
		return h.applyBuilt(td, func() (*common.Block, error) { return h.sim.chain.Config(tm), nil })
	case "block":
		return h.applyBuilt(td, func() (*common.Block, error) { return h.buildBlock(td.Input) })
	case "redeliver":
		n, err := strconv.Atoi(argOr(td, "n", ""))
		if err != nil || n >= len(h.blocks) {
			return "", fmt.Errorf("redeliver: no block %q", argOr(td, "n", ""))
		}
		b := proto.Clone(h.blocks[n]).(*common.Block)
		if argOr(td, "tamper", "") == "header" {
			b.Header.DataHash[0] ^= 1
		}
		res, err := h.db.Apply(b)
		if err != nil {
			return "", err
		}
		return formatResult(res), nil
	case "save":
		return h.save(filepath.Join("testdata", argOr(td, "dir", "")))
	case "replay":
		dir := filepath.Join("testdata", argOr(td, "dir", ""))
		bs, err := ReadBlockDir(dir)
		if err != nil {
			return "", err
		}
		var out strings.Builder
		for _, b := range bs {
			res, err := h.db.Apply(b)
			if err != nil {
				fmt.Fprintf(&out, "error: %v\n", err)
				break
			}
			out.WriteString(formatResult(res) + "\n")
		}
		return out.String(), nil
	case "follow":
		err := h.db.Follow(context.Background(), DirSource{Dir: filepath.Join("testdata", argOr(td, "dir", ""))})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("height %d", h.db.Height()), nil
	case "parse":
		bs := h.blocks
		if dir := argOr(td, "dir", ""); dir != "" {
			var err error
			if bs, err = ReadBlockDir(filepath.Join("testdata", dir)); err != nil {
				return "", err
			}
		}
		var out strings.Builder
		for _, b := range bs {
			pb, err := ParseBlock(b, h.db.Namespace())
			if err != nil {
				fmt.Fprintf(&out, "error: %v\n", err)
				continue
			}
			formatParsed(&out, pb)
		}
		return out.String(), nil
	case "stats":
		return formatStats(h.db.Stats()), nil
	case "dump":
		return h.dump(argOr(td, "table", ""))
	case "check":
		return checkInvariants(h.db)
	case "profile":
		asOf, err := parseAsOf(td)
		if err != nil {
			return "", err
		}
		p, err := h.db.SubjectProfile(expandSubjects(argOr(td, "subject", "")), asOf)
		if err != nil {
			return "", err
		}
		var out strings.Builder
		fmt.Fprintf(&out, "profile of %s as of %s at height %d: %d records\n", p.Subject, p.AsOf, p.Height, len(p.Records))
		for _, r := range p.Records {
			out.WriteString(formatRecord(r) + "\n")
		}
		return out.String(), nil
	case "record":
		asOf, err := parseAsOf(td)
		if err != nil {
			return "", err
		}
		r, err := h.db.Record(argOr(td, "kind", ""), argOr(td, "id", ""), asOf)
		if err != nil {
			return "", err
		}
		return formatRecord(r), nil
	case "history":
		hs, err := h.db.RecordHistory(argOr(td, "kind", ""), argOr(td, "id", ""))
		if err != nil {
			return "", err
		}
		var out strings.Builder
		for _, e := range hs {
			fmt.Fprintf(&out, "block %d tx %d %s %s", e.Block, e.TxNum, e.TxID, e.Timestamp)
			if e.IsDelete {
				out.WriteString(" delete\n")
				continue
			}
			fmt.Fprintf(&out, " %s\n", summariseJSON(e.Record))
		}
		return out.String(), nil
	case "blacklist", "watchlist", "overdue", "ending", "repairs":
		return h.list(td)
	case "indicators":
		m, err := keys.ParseMonth(argOr(td, "month", ""))
		if err != nil {
			return "", err
		}
		ind, err := h.db.Indicators(argOr(td, "county", ""), m)
		if err != nil {
			return "", err
		}
		return formatIndicators(ind), nil
	}
	return "", fmt.Errorf("unknown command %q", td.Cmd)
}

// applyBuilt builds a block, optionally tampers with it, and applies it.
// If Apply fails, the simulated network forgets the block (chain position
// and world state), as the index did.
func (h *harness) applyBuilt(td *datadriven.TestData, build func() (*common.Block, error)) (string, error) {
	saved, world := h.sim.chain.Save(), maps.Clone(h.sim.world)
	restore := func() { h.sim.chain.Restore(saved); h.sim.world = world }
	tamper := argOr(td, "tamper", "")
	if tamper == "skip" {
		h.sim.chain.Skip()
	}
	b, err := build()
	if err != nil {
		restore()
		return "", err
	}
	switch tamper {
	case "", "skip":
	case "prev-hash":
		b.Header.PreviousHash = bytes.Clone(b.Header.PreviousHash)
		b.Header.PreviousHash[0] ^= 1
	case "data":
		env := bytes.Clone(b.Data.Data[len(b.Data.Data)-1])
		env[len(env)-1] ^= 1
		b.Data.Data[len(b.Data.Data)-1] = env
	case "filter":
		b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = []byte{0}
	default:
		restore()
		return "", fmt.Errorf("unknown tamper %q", tamper)
	}
	res, err := h.db.Apply(b)
	if err != nil {
		restore()
		return "", err
	}
	h.blocks = append(h.blocks, b)
	return formatResult(res), nil
}

// buildBlock builds a block from script lines:
//
//	tx [id=ID] [time=T] [as=COUNTY[/ROLE]] [code=CODE] [cc=CHAINCODE] [type=config] [garbage]
//	FunctionName {json}        run a chaincode function into the current tx
//	put NS KEY VALUE           a raw write; KEY objectType{a,b} is a composite key
//	del NS KEY                 a raw delete
func (h *harness) buildBlock(input string) (*common.Block, error) {
	var txs []blockgen.Tx
	var cur *txBuilder
	var as credit.Actor
	flush := func() {
		if cur != nil {
			tx := cur.build()
			h.sim.commit(tx)
			txs = append(txs, tx)
			cur = nil
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(input), "\n") {
		line = expandSubjects(strings.TrimSpace(line))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		switch {
		case word == "tx":
			flush()
			cur = &txBuilder{}
			as = actor("330782")
			for _, f := range strings.Fields(rest) {
				k, v, _ := strings.Cut(f, "=")
				switch k {
				case "id":
					cur.tx.ID = v
				case "time":
					tm, err := txTime(v)
					if err != nil {
						return nil, err
					}
					cur.tx.Time = tm
				case "as":
					as = actor(v)
					cur.tx.MSP = as.MSPID
				case "code":
					c, ok := peer.TxValidationCode_value[v]
					if !ok {
						return nil, fmt.Errorf("unknown validation code %q", v)
					}
					cur.tx.Code = peer.TxValidationCode(c)
				case "cc":
					cur.tx.Chaincode = v
				case "type":
					if v != "config" {
						return nil, fmt.Errorf("unknown tx type %q", v)
					}
					cur.tx.Type = common.HeaderType_CONFIG
				case "garbage":
					cur.tx.Garbage = []byte("not an envelope")
				default:
					return nil, fmt.Errorf("unknown tx field %q", k)
				}
			}
			if cur.tx.ID == "" {
				cur.tx.ID = h.sim.txID()
			}
			if cur.tx.Time.IsZero() {
				cur.tx.Time, _ = txTime("2026-01-05")
			}
		case cur == nil:
			return nil, fmt.Errorf("%q before the first tx line", line)
		case word == "put" || word == "del":
			parts := strings.SplitN(rest, " ", 3)
			if len(parts) < 2 || word == "put" && len(parts) < 3 {
				return nil, fmt.Errorf("want %s NS KEY%s", word, map[bool]string{true: " VALUE"}[word == "put"])
			}
			w := blockgen.Write{Key: scriptKey(parts[1]), Delete: word == "del"}
			if word == "put" {
				w.Value = []byte(parts[2])
			}
			cur.write(parts[0], w)
		case word != "" && word[0] >= 'A' && word[0] <= 'Z':
			if err := h.sim.invoke(cur, word, []byte(rest), as); err != nil {
				return nil, fmt.Errorf("tx %s: %w", cur.tx.ID, err)
			}
		default:
			return nil, fmt.Errorf("cannot read %q", line)
		}
	}
	flush()
	return h.sim.chain.Block(txs...), nil
}

// scriptKey turns objectType{a,b} into a composite key; other keys are
// taken as they are.
func scriptKey(s string) string {
	ot, rest, ok := strings.Cut(s, "{")
	if !ok || !strings.HasSuffix(rest, "}") {
		return s
	}
	var attrs []string
	if inner := strings.TrimSuffix(rest, "}"); inner != "" {
		attrs = strings.Split(inner, ",")
	}
	return string(keys.CompositeKey(ot, attrs...))
}

func (h *harness) save(dir string) (string, error) {
	if *rewriteBlocks {
		if err := os.RemoveAll(dir); err != nil {
			return "", err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		for _, b := range h.blocks {
			if err := WriteBlockFile(dir, b); err != nil {
				return "", err
			}
		}
	}
	saved, err := ReadBlockDir(dir)
	if err != nil {
		return "", fmt.Errorf("%w (run with -rewrite-blocks to create the fixtures)", err)
	}
	if len(saved) != len(h.blocks) {
		return "", fmt.Errorf("%s holds %d blocks, the script built %d; run with -rewrite-blocks", dir, len(saved), len(h.blocks))
	}
	for i := range saved {
		if !proto.Equal(saved[i], h.blocks[i]) {
			return "", fmt.Errorf("%s: block %d differs from the one the script built; run with -rewrite-blocks", dir, i)
		}
	}
	return fmt.Sprintf("%d blocks in %s", len(saved), filepath.ToSlash(dir)), nil
}

func (h *harness) list(td *datadriven.TestData) (string, error) {
	asOf, err := parseAsOf(td)
	if err != nil {
		return "", err
	}
	county := argOr(td, "county", "")
	var recs []credit.Record
	switch td.Cmd {
	case "blacklist":
		ps, err := h.db.BlackList(county, asOf)
		if err != nil {
			return "", err
		}
		for _, p := range ps {
			recs = append(recs, p)
		}
	case "watchlist":
		ps, err := h.db.WatchList(county, asOf)
		if err != nil {
			return "", err
		}
		for _, p := range ps {
			recs = append(recs, p)
		}
	case "ending":
		days, err := strconv.Atoi(argOr(td, "days", "0"))
		if err != nil {
			return "", err
		}
		ps, err := h.db.PublicityEnding(county, asOf, days)
		if err != nil {
			return "", err
		}
		for _, p := range ps {
			recs = append(recs, p)
		}
	case "overdue":
		cs, err := h.db.OverdueCommitments(county, asOf)
		if err != nil {
			return "", err
		}
		for _, c := range cs {
			recs = append(recs, c)
		}
	case "repairs":
		rs, err := h.db.RepairsAwaitingDecision(county, asOf)
		if err != nil {
			return "", err
		}
		for _, r := range rs {
			recs = append(recs, r)
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%d records\n", len(recs))
	for _, r := range recs {
		out.WriteString(formatRecord(r) + "\n")
	}
	return out.String(), nil
}

func formatResult(r ApplyResult) string {
	if r.Skipped {
		return fmt.Sprintf("block %d: already applied, skipped", r.Block)
	}
	return fmt.Sprintf("block %d: %d txs (%d valid, %d invalid, %d config), %d credit txs, %d writes (%d deletes)",
		r.Block, r.Txs, r.Valid, r.Invalid, r.Config, r.CreditTxs, r.Writes, r.Deletes)
}

func formatStats(s Stats) string {
	return fmt.Sprintf("namespace %s height %d last block %d tx %q\ntxs %d: %d valid, %d invalid, %d config; %d credit txs; %d writes, %d deletes",
		s.Namespace, s.Height, s.Checkpoint.Block, shortID(s.Checkpoint.TxID),
		s.Txs, s.Valid, s.Invalid, s.Config, s.CreditTxs, s.Writes, s.Deletes)
}

func shortID(id string) string {
	if id == "" {
		return "-"
	}
	if len(id) == 64 {
		return id[:8] + "…"
	}
	return id
}

func formatParsed(out *strings.Builder, pb *ParsedBlock) {
	fmt.Fprintf(out, "block %d hash %x… prev %x… data %x…\n", pb.Number, short(pb.Hash), short(pb.PreviousHash), short(pb.DataHash))
	for _, tx := range pb.Txs {
		name := common.HeaderType_name[int32(tx.Type)]
		if tx.ID == "" && tx.Type == 0 {
			name = "unreadable"
		}
		fmt.Fprintf(out, "  tx %d %s %s %s", tx.Num, shortID(tx.ID), name, tx.Code)
		if tx.Chaincode != "" {
			fmt.Fprintf(out, " cc=%s ns=%v", tx.Chaincode, tx.Namespaces)
		}
		out.WriteString("\n")
		for _, w := range tx.Writes {
			if w.IsDelete {
				fmt.Fprintf(out, "    del %s\n", keys.FormatStateKey(w.Key))
			} else {
				fmt.Fprintf(out, "    put %s %s\n", keys.FormatStateKey(w.Key), summariseValue(w.Value))
			}
		}
	}
}

// summariseValue shows a record JSON as kind/id and state, anything else
// quoted (shortened).
func summariseValue(v []byte) string {
	if len(v) > 0 && v[0] == '{' {
		return summariseJSON(v)
	}
	s := string(v)
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}

func summariseJSON(v []byte) string {
	var m map[string]any
	if err := json.Unmarshal(v, &m); err != nil {
		return "invalid json"
	}
	var parts []string
	for _, k := range []string{"kind", "id", "code", "state", "commitmentKind", "punishmentKind", "severity", "deadline", "maxEnd", "openRepairId", "punishmentId"} {
		if x, ok := m[k]; ok && x != "" {
			parts = append(parts, fmt.Sprintf("%s=%v", k, x))
		}
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func formatRecord(r credit.Record) string {
	h := r.Head()
	s := fmt.Sprintf("%s %s subject=%s county=%s state=%s", h.Kind, h.ID, shortSubject(h.Subject), h.County, h.State)
	switch v := r.(type) {
	case *credit.Commitment:
		s += fmt.Sprintf(" derived=%s kind=%s deadline=%s", v.DerivedState, v.CommitmentKind, v.Deadline)
	case *credit.Punishment:
		s += fmt.Sprintf(" derived=%s kind=%s severity=%s maxEnd=%s", v.DerivedState, v.PunishmentKind, v.Severity, v.MaxEnd)
	case *credit.Repair:
		s += fmt.Sprintf(" punishment=%s severity=%s training=%v", v.PunishmentID, v.Severity, v.Evidence.Training != "")
	case *credit.Enforcement:
		s += fmt.Sprintf(" punishment=%s measure=%s", v.PunishmentID, v.Measure)
	case *credit.Objection:
		s += fmt.Sprintf(" record=%s/%s", v.RecordKind, v.RecordID)
	}
	return s
}

func shortSubject(s string) string {
	if len(s) == 65 {
		return s[:9] + "…"
	}
	return s
}

func formatIndicators(ind *Indicators) string {
	var out strings.Builder
	fmt.Fprintf(&out, "county %s month %s height %d\n", ind.County, ind.Month, ind.Height)
	fmt.Fprintf(&out, "list: active %d share %s entries %d exits %d (repaired %d revoked %d expired %d) exit-share %s subject-share %s\n",
		ind.ListActive, ind.ListShare, ind.ListEntries, ind.ListExits, ind.ListExitsRepaired, ind.ListExitsRevoked,
		ind.ListExitsExpired, ind.ExitShare, ind.ListSubjectShare)
	fmt.Fprintf(&out, "repairs: applied %d completed %d training %d\n", ind.RepairsApplied, ind.RepairsCompleted, ind.RepairTraining)
	fmt.Fprintf(&out, "commitments: made %d fulfilled %d breached %d overdue-entries %d overdue-active %d\n",
		ind.CommitmentsMade, ind.CommitmentsFulfilled, ind.CommitmentsBreached, ind.OverdueEntries, ind.OverdueActive)
	fmt.Fprintf(&out, "subjects: seen %d committed %d coverage %s\n", ind.SubjectsSeen, ind.SubjectsCommitted, ind.Coverage)
	return out.String()
}

// dump prints every key of one table (or all tables) with its value
// decoded.
func (h *harness) dump(table string) (string, error) {
	var lower, upper []byte
	if table != "" {
		p := map[string]keys.Prefix{}
		for _, pr := range []keys.Prefix{keys.PrefixMeta, keys.PrefixBlock, keys.PrefixMirror, keys.PrefixHistory,
			keys.PrefixBySubject, keys.PrefixByCounty, keys.PrefixDue, keys.PrefixCounter, keys.PrefixFacts, keys.PrefixSeen} {
			p[pr.String()] = pr
		}
		pr, ok := p[table]
		if !ok {
			return "", fmt.Errorf("unknown table %q", table)
		}
		lower, upper = []byte{byte(pr)}, []byte{byte(pr) + 1}
	}
	var out strings.Builder
	err := h.db.view(func(s *pebble.Snapshot) error {
		return scan(s, lower, upper, func(k, v []byte) error {
			fmt.Fprintf(&out, "%s = %s\n", keys.Format(k), formatValue(k, v))
			return nil
		})
	})
	return out.String(), err
}

func formatValue(k, v []byte) string {
	switch keys.Prefix(k[0]) {
	case keys.PrefixMeta:
		var m keys.Meta
		_ = m.Decode(k)
		switch m.Name {
		case keys.MetaFormat:
			return fmt.Sprint(decodeFormat(v))
		case keys.MetaCheckpoint:
			cp, err := decodeCheckpoint(v)
			if err != nil {
				return err.Error()
			}
			return fmt.Sprintf("block %d hash %x… tx %s", cp.Block, short(cp.Hash), shortID(cp.TxID))
		case keys.MetaStats:
			c, err := decodeCounts(v)
			if err != nil {
				return err.Error()
			}
			return fmt.Sprintf("%+v", c)
		}
		return strconv.Quote(string(v))
	case keys.PrefixBlock:
		bv, err := decodeBlockValue(v)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("hash %x… txs %d valid %d invalid %d config %d writes %d deletes %d",
			short(bv.Hash), bv.Txs, bv.Valid, bv.Invalid, bv.Config, bv.Writes, bv.Deletes)
	case keys.PrefixMirror:
		return summariseValue(v)
	case keys.PrefixHistory:
		hv, err := decodeHistory(v)
		if err != nil {
			return err.Error()
		}
		if hv.IsDelete {
			return fmt.Sprintf("tx %s %s delete", shortID(hv.TxID), credit.Instant(hv.Time))
		}
		return fmt.Sprintf("tx %s %s %s", shortID(hv.TxID), credit.Instant(hv.Time), summariseValue(hv.Value))
	case keys.PrefixCounter:
		n, err := decodeCount(v)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprint(n)
	case keys.PrefixFacts:
		f, err := decodeFacts(v)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("county=%s class=%s state=%s severity=%s training=%v deadline=%s maxEnd=%s created=%s closed=%s block=%d tx=%d",
			f.County, f.Class, f.State, f.Severity, f.Training, f.Deadline, f.MaxEnd, f.Created, f.Closed, f.Block, f.Tx)
	case keys.PrefixSeen:
		sv, err := decodeSeen(v)
		if err != nil {
			return err.Error()
		}
		c := "-"
		if sv.Committed != 0 {
			c = sv.Committed.String()
		}
		return fmt.Sprintf("first %s committed %s", sv.First, c)
	}
	return strconv.Quote(shortSubject(string(v)))
}

// checkInvariants recomputes, from the facts and seen rows alone, every
// index row and every indicator counter, and compares them with what
// incremental ingest stored. It also checks that the mirrored record keys
// and the facts rows correspond one to one.
func checkInvariants(db *DB) (string, error) {
	wantRows := map[string]string{}
	wantCounters := map[string]int64{}
	gotRows := map[string]string{}
	gotCounters := map[string]int64{}
	var mirrored, withFacts []string
	// seen rows by county and subject, and the (county, subject) of
	// every record's facts
	seen := map[[2]string]seenValue{}
	var named [][2]string
	add := func(c keys.County, m keys.Month, ind keys.Indicator, d int64) {
		wantCounters[string(keys.Counter{County: c, Month: m, Indicator: ind}.Encode(nil))] += d
	}
	err := db.view(func(s *pebble.Snapshot) error {
		return scan(s, nil, nil, func(k, v []byte) error {
			switch keys.Prefix(k[0]) {
			case keys.PrefixFacts:
				var fk keys.Facts
				if err := fk.Decode(k); err != nil {
					return err
				}
				f, err := decodeFacts(v)
				if err != nil {
					return err
				}
				for _, r := range f.rows(string(fk.ID)) {
					wantRows[string(r.key)] = string(r.value)
				}
				f.contribute(+1, add)
				withFacts = append(withFacts, string(fk.Kind)+"/"+string(fk.ID))
				named = append(named, [2]string{f.County, f.Subject})
			case keys.PrefixSeen:
				var sk keys.Seen
				if err := sk.Decode(k); err != nil {
					return err
				}
				sv, err := decodeSeen(v)
				if err != nil {
					return err
				}
				seen[[2]string{string(sk.County), string(sk.Subject)}] = sv
				add(sk.County, sv.First, keys.SubjectsSeen, 1)
				if sv.Committed != 0 {
					add(sk.County, sv.Committed, keys.SubjectsCommitted, 1)
				}
			case keys.PrefixBySubject, keys.PrefixByCounty, keys.PrefixDue:
				gotRows[string(k)] = string(v)
			case keys.PrefixCounter:
				n, err := decodeCount(v)
				if err != nil {
					return err
				}
				if n == 0 {
					return fmt.Errorf("%s is stored as zero", keys.Format(k))
				}
				gotCounters[string(k)] = n
			case keys.PrefixMirror:
				ot, attrs, ok := keys.SplitCompositeKey(k[1:])
				if ok && len(attrs) == 1 && credit.IsRecordKind(ot) {
					mirrored = append(mirrored, ot+"/"+attrs[0])
				}
			}
			return nil
		})
	})
	if err != nil {
		return "", err
	}
	maps.DeleteFunc(wantCounters, func(_ string, n int64) bool { return n == 0 })
	var problems []string
	for _, d := range diffMaps(wantRows, gotRows) {
		problems = append(problems, "index row "+d)
	}
	for _, d := range diffMaps(wantCounters, gotCounters) {
		problems = append(problems, "counter "+d)
	}
	// Every record's subject is seen by its county; a county's seen row
	// implies the all-counties row, no later, committed if it is (ingest
	// relies on this to read fewer rows).
	for _, cs := range named {
		if _, ok := seen[cs]; !ok {
			problems = append(problems, fmt.Sprintf("subject %s of county %s not seen", cs[1], cs[0]))
		}
	}
	for cs, sv := range seen {
		if cs[0] == string(keys.AllCounties) {
			continue
		}
		all, ok := seen[[2]string{string(keys.AllCounties), cs[1]}]
		if !ok || all.First > sv.First || sv.Committed != 0 && (all.Committed == 0 || all.Committed > sv.Committed) {
			problems = append(problems, fmt.Sprintf("seen row of %s by %s is %+v, by all counties %+v (%v)", cs[1], cs[0], sv, all, ok))
		}
	}
	sort.Strings(problems)
	sort.Strings(mirrored)
	sort.Strings(withFacts)
	if !slices.Equal(mirrored, withFacts) {
		problems = append(problems, fmt.Sprintf("mirrored records %v, facts %v", mirrored, withFacts))
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("invariants broken:\n%s", strings.Join(problems, "\n"))
	}
	return fmt.Sprintf("ok: %d records, %d index rows, %d counters", len(withFacts), len(gotRows), len(gotCounters)), nil
}

func diffMaps[V comparable](want, got map[string]V) []string {
	var out []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			out = append(out, fmt.Sprintf("%s missing (want %v)", keys.Format([]byte(k)), w))
		} else if g != w {
			out = append(out, fmt.Sprintf("%s = %v, want %v", keys.Format([]byte(k)), g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("%s = %v is extra", keys.Format([]byte(k)), g))
		}
	}
	sort.Strings(out)
	return out
}

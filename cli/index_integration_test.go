//go:build integration

package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/indexer"
	"github.com/countycredit/creditledger/indexer/keys"
	"github.com/countycredit/creditledger/network"
)

// Integration tests of the index against the real network whose profile
// CREDIT_TEST_PROFILE names (make test: network/with-network.sh). The
// index commands run as real child processes: "creditctl" on PATH is this
// test binary, which TestMain (script_integration_test.go) runs as
// creditctl when invoked under that name.
//
//	TestIndexEndToEnd   demo traffic through the client; the index's
//	                    answers equal the chaincode's; serve; reconcile clean
//	TestIndexCrash      SIGKILL `creditctl index run` at random points of
//	                    ingest; after each, restart and reconcile clean;
//	                    CREDIT_CRASH_POINTS kill points (default 5; 20 for
//	                    the full test)
//	TestIndexRebuildAfterFormatRefusal
//	                    an index of another format version is refused;
//	                    `index rebuild` replays it from block 0

// itNet is the shared test network.
type itNet struct {
	path    string
	profile *network.Profile
}

func loadITNet(t testing.TB) *itNet {
	t.Helper()
	path := os.Getenv("CREDIT_TEST_PROFILE")
	if path == "" {
		t.Fatal("CREDIT_TEST_PROFILE is not set: run through make test (network/with-network.sh)")
	}
	p, err := network.LoadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Counties) < 3 {
		t.Fatalf("profile has %d counties, want 3", len(p.Counties))
	}
	return &itNet{path: path, profile: p}
}

// client connects as user (officer1, auditor1) of county i.
func (n *itNet) client(t testing.TB, i int, user string) *client.Client {
	t.Helper()
	c := n.profile.Counties[i]
	signer, err := client.LoadMSP(c.MSPID, c.UserMSPDir(user))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.Connect(client.Config{
		Signer: signer, PeerAddress: c.Peers[0].Address, TLSRootCertFile: c.Peers[0].TLSRootCert,
		HostOverride: c.Peers[0].HostOverride, Channel: n.profile.Channel, Chaincode: n.profile.Chaincode,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func (n *itNet) height(t testing.TB, c *client.Client) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := c.ChainInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.GetHeight()
}

// creditctl runs the real creditctl as a child process with the test
// network's profile and plain output; it returns stdout, stderr and the
// exit status.
func (n *itNet) creditctl(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	cmd := n.command(t, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func (n *itNet) command(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := exec.LookPath("creditctl")
	if err != nil {
		t.Fatalf("creditctl is not on PATH (TestMain puts this test binary there): %v", err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "CREDITCTL_PROFILE="+n.path, "CREDITCTL_OUTPUT=plain", "CREDITCTL_LANG=en")
	return cmd
}

var itRun = fmt.Sprintf("%06x", rand.Uint32()&0xffffff)

// itSubject is a fresh enterprise subject of county code for this run.
func itSubject(code string, i int) string {
	return credit.CompleteCreditCode(fmt.Sprintf("91%sMA%03X%04d", code, rand.Uint32()&0xfff, i))
}

func evidence(s string) credit.Evidence {
	h := func(x string) string { sum := sha256.Sum256([]byte(s + x)); return hex.EncodeToString(sum[:]) }
	return credit.Evidence{Identity: h("id"), PenaltyFulfilled: h("paid"), RepairCommitment: h("promise")}
}

// demoTraffic plays the demo's story through the client, three counties
// acting: commitments made, fulfilled and breached (in the first county and
// in the second); commitments of the first county due today, tomorrow and
// in three days, left open so that they read overdue from the day after;
// punishments of every kind; a cross-county enforcement; a repair applied
// elsewhere, accepted and completed; a repair left awaiting a decision;
// objections upheld (correcting a punishment) and dismissed. It returns the
// subjects, every record (kind, id) it wrote, and the number of
// transactions it submitted.
func demoTraffic(t *testing.T, n *itNet) (subjects []string, records [][2]string, txs int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	a, b, c := n.client(t, 0, "officer1"), n.client(t, 1, "officer1"), n.client(t, 2, "officer1")
	ca := n.profile.Counties[0].Code
	// Subjects no other test names (generateTraffic uses 0000-7006), so
	// that the indicators' subject counts grow by exactly these.
	sA, sB, sC := itSubject(ca, 9001), itSubject(n.profile.Counties[1].Code, 9002), itSubject(ca, 9003)
	subjects = []string{sA, sB, sC}
	today := credit.DateOf(time.Now())
	id := func(p string) string { return p + "-" + itRun }
	rec := func(kind, id string) { records = append(records, [2]string{kind, id}) }
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		txs++
	}
	_, _, err := a.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: id("CA1"), Kind: "missing-materials", Subject: sA, Content: "补交消防验收材料"})
	must("make CA1", err)
	_, _, err = a.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: id("CA2"), Kind: "approval", Subject: sA, Content: "告知承诺：符合食品经营许可条件", Deadline: today.AddDays(10).String()})
	must("make CA2", err)
	_, _, err = b.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: id("CB1"), Kind: "voluntary", Subject: sB, Content: "主动承诺：守法诚信经营"})
	must("make CB1", err)
	_, _, err = a.FulfilCommitment(ctx, credit.FulfilCommitmentRequest{ID: id("CA1"), Note: "材料已补齐"})
	must("fulfil CA1", err)
	_, _, err = b.BreachCommitment(ctx, credit.BreachCommitmentRequest{ID: id("CB1"), Reason: "虚假承诺"})
	must("breach CB1", err)
	_, _, err = a.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: id("CA3"), Kind: "voluntary", Subject: sC, Content: "主动承诺：按期整改"})
	must("make CA3", err)
	_, _, err = a.BreachCommitment(ctx, credit.BreachCommitmentRequest{ID: id("CA3"), Reason: "未按期整改"})
	must("breach CA3", err)
	rec(credit.TypeCommitment, id("CA1"))
	rec(credit.TypeCommitment, id("CA2"))
	rec(credit.TypeCommitment, id("CB1"))
	rec(credit.TypeDishonesty, credit.DishonestyID(id("CB1")))
	rec(credit.TypeCommitment, id("CA3"))
	rec(credit.TypeDishonesty, credit.DishonestyID(id("CA3")))
	// Due today, tomorrow and in three days: overdue from the day after.
	for _, d := range []int{0, 1, 3} {
		cid := id(fmt.Sprintf("CD%d", d))
		_, _, err = a.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: cid, Kind: "approval", Subject: sC, Content: "告知承诺：按期提交核查材料", Deadline: today.AddDays(d).String()})
		must("make "+cid, err)
		rec(credit.TypeCommitment, cid)
	}

	impose := func(cl *client.Client, pid, subject, kind, severity string, months int) {
		t.Helper()
		_, _, err := cl.ImposePunishment(ctx, credit.ImposePunishmentRequest{ID: pid, Subject: subject, Kind: kind, Severity: severity,
			DecisionDate: today.AddMonths(-months).String(), DecisionNo: "义市监罚〔2026〕" + pid + "号",
			LegalBasis: "《食品安全法》第一百二十二条", Measures: []string{"bidding", "procurement"}})
		must("impose "+pid, err)
		rec(credit.TypePunishment, pid)
	}
	impose(a, id("PA1"), sA, "blacklist", "general", 4)
	impose(a, id("PA2"), sB, "watchlist", "serious", 1)
	impose(a, id("PA3"), sC, "publicity", "general", 2)
	_, _, err = b.RecordEnforcement(ctx, credit.RecordEnforcementRequest{ID: id("EB1"), PunishmentID: id("PA1"), Measure: "bidding", Date: today.String()})
	must("enforce", err)
	rec(credit.TypeEnforcement, id("EB1"))

	_, _, err = b.ApplyRepair(ctx, credit.ApplyRepairRequest{ID: id("RB1"), PunishmentID: id("PA1"), Evidence: evidence("RB1")})
	must("apply RB1", err)
	_, _, err = a.AcceptRepair(ctx, credit.RepairRequest{ID: id("RB1")})
	must("accept RB1", err)
	_, _, err = a.CompleteRepair(ctx, credit.CompleteRepairRequest{ID: id("RB1")})
	must("complete RB1", err)
	_, _, err = c.ApplyRepair(ctx, credit.ApplyRepairRequest{ID: id("RC1"), PunishmentID: id("PA3"), Evidence: evidence("RC1")})
	must("apply RC1", err)
	rec(credit.TypeRepair, id("RB1"))
	rec(credit.TypeRepair, id("RC1"))
	rec(credit.TypeCommitment, credit.RepairCommitmentID(id("RB1")))
	rec(credit.TypeCommitment, credit.RepairCommitmentID(id("RC1")))

	_, _, err = c.RaiseObjection(ctx, credit.RaiseObjectionRequest{ID: id("OC1"), RecordKind: "punishment", RecordID: id("PA2"), Reason: "认定事实有误"})
	must("raise OC1", err)
	_, _, err = a.AnswerObjection(ctx, credit.AnswerObjectionRequest{ID: id("OC1"), Decision: "upheld", Answer: "经复核，失信程度更正为一般",
		Action: "correct", Correction: &credit.Correction{Severity: "general"}})
	must("answer OC1", err)
	_, _, err = b.RaiseObjection(ctx, credit.RaiseObjectionRequest{ID: id("OB1"), RecordKind: "commitment", RecordID: id("CA2"), Reason: "承诺内容有误"})
	must("raise OB1", err)
	_, _, err = a.AnswerObjection(ctx, credit.AnswerObjectionRequest{ID: id("OB1"), Decision: "dismissed", Answer: "承诺内容无误"})
	must("answer OB1", err)
	rec(credit.TypeObjection, id("OC1"))
	rec(credit.TypeObjection, id("OB1"))
	return subjects, records, txs
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIndexEndToEnd: after demo traffic, an index built by `creditctl
// index run --once` answers exactly what the chaincode answers — every
// subject's records (SubjectRecords vs SubjectProfile), every record
// (GetRecord vs Record, derived states for the same date) and its history
// (RecordHistory vs RecordHistory), the county lists (ListByCounty with
// the chaincode's own derived-state rule vs the index's lists, overdue and
// publicity-ending at several as-of dates around the traffic's deadlines)
// — through the Go API, the CLI and `index serve`; the county indicators
// grow by exactly what the traffic's records, as the chaincode returns
// them, add; then `index reconcile` finds no difference.
func TestIndexEndToEnd(t *testing.T) {
	n := loadITNet(t)
	auditor := n.client(t, 2, "auditor1")
	dir := t.TempDir()
	ca, cb := n.profile.Counties[0].Code, n.profile.Counties[1].Code
	month := toKeysMonth(credit.DateOf(time.Now()))
	indCounties := []string{ca, cb, "*"}
	runOnce := func(when string) {
		t.Helper()
		out, errOut, code := n.creditctl(t, "index", "run", "--once", "--dir", dir, "--progress", "0")
		if code != 0 {
			t.Fatalf("index run %s: exit %d\n%s%s", when, code, out, errOut)
		}
		t.Logf("index run %s: %s", when, lastLine(errOut))
	}
	// The index before the traffic, and its indicators of this month.
	runOnce("before the traffic")
	indBefore, statsBefore := readIndicators(t, dir, month, indCounties)

	subjects, records, submitted := demoTraffic(t, n)
	runOnce("after the traffic (resumed)")
	indAfter, statsAfter := readIndicators(t, dir, month, indCounties)
	// The indicator deltas below are exact only if the traffic was the
	// only thing committed meanwhile (make test runs packages one at a
	// time and these tests one after the other).
	if v, inv := statsAfter.Valid-statsBefore.Valid, statsAfter.Invalid-statsBefore.Invalid; v != uint64(submitted) || inv != 0 {
		t.Fatalf("between heights %d and %d the index applied %d valid and %d invalid transactions; the traffic submitted %d: something else wrote to the channel meanwhile",
			statsBefore.Height, statsAfter.Height, v, inv, submitted)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := indexer.Open(filepath.Join(dir, indexDBDir), indexer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The peer may have moved on (other tests are done, but be sure): bring
	// the index to the peer's height before comparing.
	if err := db.FollowTo(ctx, clientPeer{auditor}, n.height(t, auditor)); err != nil {
		t.Fatal(err)
	}
	today := credit.DateOf(time.Now())
	for _, s := range subjects {
		want, _, err := auditor.SubjectRecords(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.SubjectProfile(s, today)
		if err != nil {
			t.Fatal(err)
		}
		if w, g := jsonOf(t, want.Records), jsonOf(t, got.Records); w != g {
			t.Errorf("subject %s:\nchaincode %s\nindex     %s", s, w, g)
		}
		if len(got.Records) == 0 {
			t.Errorf("subject %s has no records", s)
		}
	}
	// Every record and its history. The versions each record must have,
	// from the traffic: made then closed, applied-accepted-completed,
	// imposed then corrected, raised then answered.
	versions := map[string]int{"CA1": 2, "CA3": 2, "CD0": 1, "RB1": 3, "RC1": 1, "PA2": 2, "OC1": 2, "OB1": 2}
	var ours []credit.Record // the traffic's records as the chaincode returns them
	for _, r := range records {
		want, _, err := auditor.GetRecord(ctx, r[0], r[1])
		if err != nil {
			t.Fatalf("get %s %s: %v", r[0], r[1], err)
		}
		ours = append(ours, want)
		got, err := db.Record(r[0], r[1], today)
		if err != nil {
			t.Fatal(err)
		}
		if w, g := jsonOf(t, want), jsonOf(t, got); w != g {
			t.Errorf("%s %s:\nchaincode %s\nindex     %s", r[0], r[1], w, g)
		}
		wantH, _, err := auditor.RecordHistory(ctx, r[0], r[1])
		if err != nil {
			t.Fatalf("chaincode history of %s %s: %v", r[0], r[1], err)
		}
		gotH, err := db.RecordHistory(r[0], r[1])
		if err != nil {
			t.Fatalf("index history of %s %s: %v", r[0], r[1], err)
		}
		if err := sameHistory(wantH, gotH); err != nil {
			t.Errorf("history of %s %s: %v", r[0], r[1], err)
		}
		if v, ok := versions[strings.TrimSuffix(r[1], "-"+itRun)]; ok && r[0] != credit.TypeDishonesty && len(gotH) != v {
			t.Errorf("history of %s %s: %d versions in the index, the traffic wrote %d", r[0], r[1], len(gotH), v)
		}
	}

	// The lists of the county that imposed everything, against the
	// chaincode's ListByCounty with its derived-state filter.
	listAll := func(kind, state string) credit.Records {
		recs, err := auditor.ListAllByCounty(ctx, credit.ListByCountyRequest{County: ca, Kind: kind, State: state, PageSize: 200})
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	listIDs := func(kind, state string, keep func(credit.Record) bool) []string {
		ids := []string{}
		for _, r := range listAll(kind, state) {
			if keep == nil || keep(r) {
				ids = append(ids, r.Head().ID)
			}
		}
		slices.Sort(ids)
		return ids
	}
	idsOf := func(recs credit.Records, err error) []string {
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for _, r := range recs {
			ids = append(ids, r.Head().ID)
		}
		slices.Sort(ids)
		return ids
	}
	ofKind := func(k string) func(credit.Record) bool {
		return func(r credit.Record) bool { return r.(*credit.Punishment).PunishmentKind == k }
	}
	checks := []struct {
		name      string
		chaincode []string
		index     []string
	}{
		{"black list", listIDs(credit.TypePunishment, credit.StateActive, ofKind("blacklist")), idsOf(asRecords(db.BlackList(ca, today)))},
		{"watch list", listIDs(credit.TypePunishment, credit.StateActive, ofKind("watchlist")), idsOf(asRecords(db.WatchList(ca, today)))},
		{"overdue", listIDs(credit.TypeCommitment, "overdue", nil), idsOf(asRecords(db.OverdueCommitments(ca, today)))},
		{"repairs awaiting", append(listIDs(credit.TypeRepair, credit.StateApplied, nil), listIDs(credit.TypeRepair, credit.StateAccepted, nil)...),
			idsOf(asRecords(db.RepairsAwaitingDecision(ca, today)))},
	}
	for _, c := range checks {
		slices.Sort(c.chaincode)
		if !slices.Equal(c.chaincode, c.index) {
			t.Errorf("%s of %s: chaincode %v, index %v", c.name, ca, c.chaincode, c.index)
		}
	}
	if !slices.Contains(checks[3].index, "RC1-"+itRun) {
		t.Errorf("repair RC1 is not awaiting a decision in the index: %v", checks[3].index)
	}
	if !slices.Contains(checks[1].index, "PA2-"+itRun) {
		t.Errorf("punishment PA2 is not on the watch list in the index: %v", checks[1].index)
	}

	// Overdue against as-of dates around the deadlines of CD0, CD1, CD3
	// (today, tomorrow, in three days): the chaincode's made commitments,
	// derived with the chaincode's own rule (Commitment.Derive) for the
	// date, against the index's OverdueCommitments. CDk reads overdue from
	// the day after its deadline.
	made := listAll(credit.TypeCommitment, credit.StateMade)
	for _, d := range []int{0, 1, 2, 3, 4, 40} {
		asOf := today.AddDays(d)
		want := []string{}
		for _, r := range made {
			c := *r.(*credit.Commitment)
			if c.Derive(asOf); c.DerivedState == credit.StateOverdue {
				want = append(want, c.ID)
			}
		}
		slices.Sort(want)
		got := idsOf(asRecords(db.OverdueCommitments(ca, asOf)))
		if !slices.Equal(want, got) {
			t.Errorf("overdue commitments of %s as of %s: chaincode %v, index %v", ca, asOf, want, got)
		}
		for _, k := range []int{0, 1, 3} {
			if cid := fmt.Sprintf("CD%d-%s", k, itRun); slices.Contains(got, cid) != (d > k) {
				t.Errorf("overdue commitments of %s as of %s: %s (deadline %s) listed: %v, want %v", ca, asOf, cid, today.AddDays(k), slices.Contains(got, cid), d > k)
			}
		}
	}

	// Publicity ending, around each of the traffic's active punishments'
	// maxEnd: the chaincode's active punishments still in publicity on the
	// date (Punishment.Derive) whose maxEnd is at most days later.
	active := listAll(credit.TypePunishment, credit.StateActive)
	probed := 0
	for _, r := range ours {
		p, ok := r.(*credit.Punishment)
		if !ok || p.State != credit.StateActive || p.County != ca {
			continue
		}
		probed++
		for _, q := range []struct {
			asOf credit.Date
			days int
			in   bool
		}{{p.MaxEnd.AddDays(-5), 10, true}, {p.MaxEnd.AddDays(-5), 5, true}, {p.MaxEnd.AddDays(-5), 4, false}, {p.MaxEnd.AddDays(-1), 1, true}, {p.MaxEnd, 30, false}} {
			want := []string{}
			for _, r := range active {
				x := *r.(*credit.Punishment)
				if x.Derive(q.asOf); x.DerivedState == credit.StateActive && !x.MaxEnd.After(q.asOf.AddDays(q.days)) {
					want = append(want, x.ID)
				}
			}
			slices.Sort(want)
			got := idsOf(asRecords(db.PublicityEnding(ca, q.asOf, q.days)))
			if !slices.Equal(want, got) {
				t.Errorf("publicity ending in %s within %d days of %s: chaincode %v, index %v", ca, q.days, q.asOf, want, got)
			}
			if slices.Contains(got, p.ID) != q.in {
				t.Errorf("publicity ending in %s within %d days of %s: %s (maxEnd %s) listed: %v, want %v", ca, q.days, q.asOf, p.ID, p.MaxEnd, !q.in, q.in)
			}
		}
	}
	if probed < 2 {
		t.Errorf("only %d of the traffic's punishments are active in %s; the publicity-ending checks need 2", probed, ca)
	}

	// The indicators grew by exactly what the traffic's records add,
	// computed from the records as the chaincode returns them.
	for _, county := range indCounties {
		want := expectIndicators(t, ours, county, month)
		got := countsOf(indAfter[county]).minus(countsOf(indBefore[county]))
		t.Logf("indicators of %s for %s grew by %+v", county, month, got)
		if got != want {
			t.Errorf("indicators of %s for %s grew by\n  %+v\nthe traffic's records add\n  %+v", county, month, got, want)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// The CLI gives the ledger's own JSON from the index.
	want, errOut, code := n.creditctl(t, "subject", "show", subjects[0], "-o", "json")
	if code != 0 {
		t.Fatalf("subject show: %d %s", code, errOut)
	}
	got, errOut, code := n.creditctl(t, "index", "subject", subjects[0], "--dir", dir, "-o", "json")
	if code != 0 || got != want {
		t.Fatalf("index subject: exit %d %s\ngot  %s\nwant %s", code, errOut, got, want)
	}

	// serve: the API and the metrics, then a clean stop on SIGTERM.
	serveAndStop(t, n, dir, subjects[0], want)

	rep := reconcileClean(t, n, dir, "after the traffic")
	t.Logf("reconcile: %d keys equal at height %d", keysCompared(rep), rep.Height)

	// audit: the traffic, every county's officers through their own
	// peers, holds no forged creation, no stray index entry, and every
	// transaction replays exactly with the chaincode.
	out, errOut, code := n.creditctl(t, "index", "audit", "--dir", dir, "-o", "json")
	var au AuditOutput
	if err := json.Unmarshal([]byte(out), &au); err != nil || code != 0 || len(au.Findings) != 0 {
		t.Fatalf("index audit: exit %d (%v), findings %v\n%s", code, err, au.Findings, errOut)
	}
	if au.Height != rep.Height || uint64(au.Blocks) != au.Height || au.Creations < au.Records || au.Entries < 2*au.Records || au.Counties != len(n.profile.Counties) ||
		au.Replayed < au.Records {
		t.Fatalf("index audit checked too little: %+v", au)
	}
	if !strings.Contains(errOut, "index: audit clean: ") {
		t.Fatalf("index audit said: %s", errOut)
	}
	t.Logf("audit: %s", lastLine(errOut))
}

// readIndicators opens the index in dir and reads the indicators of month
// for each county, and its counts.
func readIndicators(t *testing.T, dir string, month keys.Month, counties []string) (map[string]*indexer.Indicators, indexer.Stats) {
	t.Helper()
	db, err := indexer.Open(filepath.Join(dir, indexDBDir), indexer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]*indexer.Indicators{}
	for _, c := range counties {
		if out[c], err = db.Indicators(c, month); err != nil {
			t.Fatal(err)
		}
	}
	return out, db.Stats()
}

// indCounts are the indicator counts the end-to-end test checks.
type indCounts struct {
	CommitmentsMade, CommitmentsFulfilled, CommitmentsBreached int64
	OverdueEntries, OverdueActive                              int64
	ListEntries, ListExitsRepaired, ListExitsRevoked           int64
	ListExitsExpired, ListActive                               int64
	RepairsApplied, RepairsCompleted, RepairTraining           int64
	SubjectsSeen, SubjectsCommitted                            int64
}

func countsOf(i *indexer.Indicators) indCounts {
	return indCounts{i.CommitmentsMade, i.CommitmentsFulfilled, i.CommitmentsBreached, i.OverdueEntries, i.OverdueActive,
		i.ListEntries, i.ListExitsRepaired, i.ListExitsRevoked, i.ListExitsExpired, i.ListActive,
		i.RepairsApplied, i.RepairsCompleted, i.RepairTraining, i.SubjectsSeen, i.SubjectsCommitted}
}

func (a indCounts) minus(b indCounts) indCounts {
	return indCounts{a.CommitmentsMade - b.CommitmentsMade, a.CommitmentsFulfilled - b.CommitmentsFulfilled, a.CommitmentsBreached - b.CommitmentsBreached,
		a.OverdueEntries - b.OverdueEntries, a.OverdueActive - b.OverdueActive,
		a.ListEntries - b.ListEntries, a.ListExitsRepaired - b.ListExitsRepaired, a.ListExitsRevoked - b.ListExitsRevoked,
		a.ListExitsExpired - b.ListExitsExpired, a.ListActive - b.ListActive,
		a.RepairsApplied - b.RepairsApplied, a.RepairsCompleted - b.RepairsCompleted, a.RepairTraining - b.RepairTraining,
		a.SubjectsSeen - b.SubjectsSeen, a.SubjectsCommitted - b.SubjectsCommitted}
}

// expectIndicators computes, from records (every record a stretch of
// traffic wrote, as the chaincode returns them, naming subjects no earlier
// record named), what they add to county's indicators of month m
// (docs/INDEXER.md, "County indicators"): events counted in the UTC+8
// month of the transaction that made them, overdue from the day after the
// deadline, gauges at the month's last day. It refuses records outside
// what it models (a commitment closed after its deadline, a list entry
// recorded after its publicity ended).
func expectIndicators(t *testing.T, records []credit.Record, county string, m keys.Month) indCounts {
	t.Helper()
	dateOf := func(what, s string) credit.Date {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return credit.DateOf(tm)
	}
	in := func(d credit.Date) bool { return toKeysMonth(d) == m }
	last := credit.NewDate(int(m)/100, time.Month(int(m)%100)+1, 0) // the month's last day
	var e indCounts
	seen, committed := map[string]bool{}, map[string]bool{}
	for _, r := range records {
		h := r.Head()
		if county != "*" && h.County != county {
			continue
		}
		seen[h.Subject] = true
		created := dateOf(h.ID+" createdAt", h.CreatedAt)
		switch r := r.(type) {
		case *credit.Commitment:
			committed[h.Subject] = true
			if in(created) {
				e.CommitmentsMade++
			}
			switch r.State {
			case credit.StateFulfilled, credit.StateBreached:
				closed := dateOf(h.ID+" closedAt", r.ClosedAt)
				if !r.Deadline.IsZero() && closed.After(r.Deadline) {
					t.Fatalf("commitment %s closed after its deadline: not modelled here", h.ID)
				}
				if in(closed) && r.State == credit.StateFulfilled {
					e.CommitmentsFulfilled++
				}
				if in(closed) && r.State == credit.StateBreached {
					e.CommitmentsBreached++
				}
			case credit.StateMade:
				if r.Deadline.IsZero() {
					break
				}
				due := r.Deadline.AddDays(1)
				if in(due) {
					e.OverdueEntries++
				}
				if !due.After(last) {
					e.OverdueActive++
				}
			}
		case *credit.Punishment:
			if r.PunishmentKind != "blacklist" && r.PunishmentKind != "watchlist" {
				break
			}
			if !r.MaxEnd.After(created) {
				t.Fatalf("list punishment %s recorded after its publicity ended: not modelled here", h.ID)
			}
			if in(created) {
				e.ListEntries++
			}
			switch r.State {
			case credit.StateRepaired:
				if in(dateOf(h.ID+" closedAt", r.ClosedAt)) {
					e.ListExitsRepaired++
				}
			case credit.StateActive:
				if in(r.MaxEnd) {
					e.ListExitsExpired++
				}
				if r.MaxEnd.After(last) {
					e.ListActive++
				}
			default:
				t.Fatalf("list punishment %s is %s: not modelled here", h.ID, r.State)
			}
		case *credit.Repair:
			if in(created) {
				e.RepairsApplied++
			}
			if r.State == credit.StateCompleted && in(dateOf(h.ID+" updatedAt", h.UpdatedAt)) {
				e.RepairsCompleted++
				if r.Evidence.Training != "" && r.Severity == "serious" {
					e.RepairTraining++
				}
			}
		}
	}
	e.SubjectsSeen, e.SubjectsCommitted = int64(len(seen)), int64(len(committed))
	return e
}

// sameHistory compares the chaincode's history of a record with the
// index's: the same writes in the same order, each with the same
// transaction, time, delete flag and value.
func sameHistory(want []credit.HistoryEntry, got []indexer.HistoryEntry) error {
	if len(want) == 0 {
		return errors.New("the chaincode has no history")
	}
	if len(want) != len(got) {
		return fmt.Errorf("chaincode %d versions, index %d", len(want), len(got))
	}
	for i := range want {
		w, g := want[i], got[i]
		if i > 0 && (g.Block < got[i-1].Block || g.Block == got[i-1].Block && g.TxNum <= got[i-1].TxNum) {
			return fmt.Errorf("version %d: block %d tx %d after block %d tx %d", i, g.Block, g.TxNum, got[i-1].Block, got[i-1].TxNum)
		}
		if w.TxID != g.TxID || w.IsDelete != g.IsDelete || !sameInstant(w.Timestamp, g.Timestamp) {
			return fmt.Errorf("version %d: chaincode tx %s at %s delete %v, index tx %s at %s delete %v", i, w.TxID, w.Timestamp, w.IsDelete, g.TxID, g.Timestamp, g.IsDelete)
		}
		var wb, gb bytes.Buffer
		if err := json.Compact(&wb, w.Record); err != nil {
			return fmt.Errorf("version %d: chaincode value: %v", i, err)
		}
		if err := json.Compact(&gb, g.Record); err != nil {
			return fmt.Errorf("version %d: index value: %v", i, err)
		}
		if !bytes.Equal(wb.Bytes(), gb.Bytes()) {
			return fmt.Errorf("version %d (tx %s):\nchaincode %s\nindex     %s", i, w.TxID, wb.Bytes(), gb.Bytes())
		}
	}
	return nil
}

// sameInstant: two RFC 3339 times name the same instant.
func sameInstant(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

// reconcileClean runs `creditctl index reconcile -o json` on dir (which
// catches the index up to the peer's height first) and fails unless it
// exits 0, reports no difference, compared the index at the peer's height
// and compared some keys.
func reconcileClean(t *testing.T, n *itNet, dir, when string) ReconcileOutput {
	t.Helper()
	out, errOut, code := n.creditctl(t, "index", "reconcile", "--dir", dir, "-o", "json")
	var rep ReconcileOutput
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("reconcile %s: exit %d, output not JSON (%v):\n%s%s", when, code, err, out, errOut)
	}
	if code != 0 || len(rep.Differences) != 0 {
		t.Fatalf("reconcile %s: exit %d, %d difference(s) at height %d:\n%s%s", when, code, len(rep.Differences), rep.Height, out, errOut)
	}
	if rep.Height != rep.PeerHeight || keysCompared(rep) == 0 {
		t.Fatalf("reconcile %s: index height %d, peer height %d, %d keys compared:\n%s", when, rep.Height, rep.PeerHeight, keysCompared(rep), out)
	}
	return rep
}

func keysCompared(rep ReconcileOutput) int {
	k := 0
	for _, ty := range rep.Types {
		k += ty.Peer
	}
	return k
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

var servingLine = regexp.MustCompile(`serving (http://[0-9.:]+)`)

// serveAndStop starts `index serve` on a free port, checks a subject's
// profile through the API and through `index subject --server`, checks the
// metrics, and stops it with SIGTERM.
func serveAndStop(t *testing.T, n *itNet, dir, subject, wantJSON string) {
	t.Helper()
	cmd := n.command(t, "index", "serve", "--dir", dir, "--listen", "127.0.0.1:0", "--progress", "0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var base string
	var seen []string
	timeout := time.After(30 * time.Second)
	for base == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited: %v", seen)
			}
			seen = append(seen, l)
			if m := servingLine.FindStringSubmatch(l); m != nil {
				base = m[1]
			}
		case <-timeout:
			t.Fatalf("serve did not start: %v", seen)
		}
	}
	resp, err := http.Get(base + "/v1/subjects/" + subject)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var prof struct {
		Records credit.Records `json:"records"`
	}
	var want credit.SubjectRecordsResult
	if err := json.Unmarshal(body, &prof); err != nil || json.Unmarshal([]byte(wantJSON), &want) != nil {
		t.Fatalf("profile %s: %v", body, err)
	}
	if jsonOf(t, prof.Records) != jsonOf(t, want.Records) {
		t.Fatalf("API profile %s\nwant %s", body, wantJSON)
	}
	got, errOut, code := n.creditctl(t, "index", "subject", subject, "--server", base, "-o", "json")
	if code != 0 || got != wantJSON {
		t.Fatalf("index subject --server: exit %d %s\n%s", code, errOut, got)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"creditindex_height ", "creditindex_lag_blocks ", `creditindex_lookup_seconds_count{lookup="subject"} 2`, "creditindex_apply_seconds_bucket"} {
		if !bytes.Contains(metrics, []byte(m)) {
			t.Errorf("metrics lack %s", m)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
}

// TestIndexCrash kills `creditctl index run` (SIGKILL) at random points of
// its ingest of the real network's blocks, CREDIT_CRASH_POINTS times
// (default 5, as make test runs it; issue 5's full test is 20), each a
// random way into the blocks not yet indexed. Before, it generates at least
// 300 transactions (CREDIT_CRASH_TXS overrides), and more until the ledger
// has room for every kill to land during ingest. Every kill must land
// during ingest — the index short of the ledger's height — or the test
// fails. After each kill:
//   - the checkpoint has not gone back, and holds every block the process
//     reported applied;
//   - the index equals, row for row (Digest), an index built without
//     crashes to the same height: the crash left whole blocks only;
//   - the index is restarted (a byte-for-byte copy of it, so that the next
//     kill still lands during ingest) with `creditctl index run --once`,
//     which brings it to the ledger's height, and `creditctl index
//     reconcile` compares it with the peer's world state at that height:
//     zero differences.
//
// Finally `index run --once` completes the crashed index itself and
// reconcile is clean.
func TestIndexCrash(t *testing.T) {
	n := loadITNet(t)
	points := 5
	if v := os.Getenv("CREDIT_CRASH_POINTS"); v != "" {
		var err error
		if points, err = strconv.Atoi(v); err != nil || points < 1 {
			t.Fatalf("CREDIT_CRASH_POINTS=%q: want a positive number", v)
		}
	}
	// A kill lands some blocks after the one it waits for: blocks are
	// reported applied when their group sync is done, and by then the
	// next ones are in flight (10-13 blocks past the target in a run on a
	// quiet 2-core machine). So each kill needs room, and the last target
	// stays margin blocks short of the ledger's height.
	const margin, perKill = 24, 16
	need := uint64(margin + perKill*points)
	txs := 300
	if v := os.Getenv("CREDIT_CRASH_TXS"); v != "" {
		txs, _ = strconv.Atoi(v)
	}
	auditor := n.client(t, 2, "auditor1")
	h0 := n.height(t, auditor)
	generateTraffic(t, n, txs, 8)
	height := n.height(t, auditor)
	for round := 0; height < need; round++ {
		if round == 3 {
			t.Fatalf("the ledger has %d blocks after 3 more rounds of traffic; %d kills need %d", height, points, need)
		}
		// As many transactions a block as the traffic so far had, and 20 % more.
		perBlock := float64(txs) / float64(max(1, height-h0))
		more := int(1.2*perBlock*float64(need-height)) + 20
		generateTraffic(t, n, more, 8)
		txs += more
		height = n.height(t, auditor)
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("ledger height %d; %d kills; seed %d", height, points, seed)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	ref, err := indexer.Open(t.TempDir(), indexer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	var last uint64
	for i := range points {
		// The next kill point: a block a random way into what is left,
		// past the checkpoint (so the process applies at least one block
		// before the kill), leaving room for the kills after it.
		room := height - margin
		if last+1 > room {
			t.Fatalf("kill %d of %d: the index is at height %d, within %d blocks of the ledger's %d: too few blocks left for the kills to land during ingest; raise CREDIT_CRASH_TXS",
				i, points, last, margin, height)
		}
		span := max(1, (room-last)/uint64(points-i))
		target := last + 1 + rng.Uint64N(span)
		h, reported := killDuring(t, n, dir, target, rng)
		if h < last {
			t.Fatalf("kill %d: checkpoint height %d after the kill, %d before it", i, h, last)
		}
		if reported > h {
			t.Fatalf("kill %d: block %d was reported applied, the checkpoint height is %d", i, reported-1, h)
		}
		if h >= height {
			t.Fatalf("kill %d of %d landed after the index caught up with the ledger (height %d): not a kill during ingest; raise CREDIT_CRASH_TXS", i, points, height)
		}
		last = h
		// The crashed index equals one built without crashes to height h.
		if err := ref.FollowTo(ctx, clientPeer{auditor}, h); err != nil {
			t.Fatal(err)
		}
		crashed, err := indexer.Open(filepath.Join(dir, indexDBDir), indexer.Options{})
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", i, err)
		}
		ch, cd, err := crashed.Digest()
		crashed.Close()
		if err != nil {
			t.Fatal(err)
		}
		rh, rd, err := ref.Digest()
		if err != nil {
			t.Fatal(err)
		}
		if ch != rh || !bytes.Equal(cd, rd) {
			t.Fatalf("kill %d at height %d: crashed index digest %x at %d, reference %x at %d", i, h, cd[:8], ch, rd[:8], rh)
		}
		// Restart it (a copy) up to the ledger's height and reconcile.
		cp := filepath.Join(t.TempDir(), "copy")
		if err := os.CopyFS(cp, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := n.creditctl(t, "index", "run", "--once", "--dir", cp, "--progress", "0")
		if code != 0 {
			t.Fatalf("kill %d: restart: exit %d\n%s%s", i, code, out, errOut)
		}
		rep := reconcileClean(t, n, cp, fmt.Sprintf("after kill %d at height %d and the restart", i, h))
		if rep.Height < height {
			t.Fatalf("kill %d: the restarted index reconciled at height %d, the ledger's is %d", i, rep.Height, height)
		}
		os.RemoveAll(cp)
		t.Logf("kill %d: target height %d, reported height %d, checkpoint height %d: digest equal to the reference; restarted to height %d, reconcile: %d keys, no difference",
			i, target, reported, h, rep.Height, keysCompared(rep))
	}
	out, errOut, code := n.creditctl(t, "index", "run", "--once", "--dir", dir, "--progress", "0")
	if code != 0 {
		t.Fatalf("final run: %d %s%s", code, out, errOut)
	}
	rep := reconcileClean(t, n, dir, "after the last kill")
	t.Logf("after %d kills, all during ingest: reconcile clean, %d keys at height %d", points, keysCompared(rep), rep.Height)
}

var appliedLine = regexp.MustCompile(`^applied block (\d+):`)

// killDuring starts `index run` on dir, waits until it reports a block at
// or past target-1 applied (height target), waits 0-300 µs more, kills it
// with SIGKILL, and returns the height the index reopens with and the
// height it saw reported. It fails if the process ended otherwise.
func killDuring(t *testing.T, n *itNet, dir string, target uint64, rng *rand.Rand) (uint64, uint64) {
	t.Helper()
	cmd := n.command(t, "index", "run", "--dir", dir, "--log-blocks", "--progress", "0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var reported uint64 // height the process reported reaching
	var tail []string
	found := false
	deadline := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		l := sc.Text()
		tail = append(tail, l)
		if m := appliedLine.FindStringSubmatch(l); m != nil {
			b, _ := strconv.ParseUint(m[1], 10, 64)
			reported = b + 1
			if reported >= target {
				found = true
				break
			}
		}
	}
	time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
	cmd.Process.Signal(syscall.SIGKILL)
	deadline.Stop()
	go io.Copy(io.Discard, stderr)
	err = cmd.Wait()
	if !found {
		t.Fatalf("index run ended before height %d: %v\n%s", target, err, strings.Join(tail, "\n"))
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("index run ended before the kill (%v):\n%s", err, strings.Join(tail, "\n"))
	}
	db, err := indexer.Open(filepath.Join(dir, indexDBDir), indexer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.Height(), reported
}

// TestIndexRebuildAfterFormatRefusal: an index whose /meta/format row holds
// a version this build does not read (as one written by another build
// would) is refused at open — by the Go API with ErrFormat, and by `index
// run` and `index reconcile`, which name the remedy — and `creditctl index
// rebuild` then replays the peer's blocks from block 0 into a new index
// that equals, row for row, one built from block 0 without it, and
// reconciles clean (DEVELOPERS.md, "The indexer's key schema").
func TestIndexRebuildAfterFormatRefusal(t *testing.T) {
	n := loadITNet(t)
	auditor := n.client(t, 2, "auditor1")
	dir := t.TempDir()
	if out, errOut, code := n.creditctl(t, "index", "run", "--once", "--dir", dir, "--progress", "0"); code != 0 {
		t.Fatalf("index run: exit %d\n%s%s", code, out, errOut)
	}
	dbDir := filepath.Join(dir, indexDBDir)
	pdb, err := pebble.Open(dbDir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	other := keys.FormatVersion + 1
	if err := pdb.Set(keys.Meta{Name: keys.MetaFormat}.Encode(nil), binary.BigEndian.AppendUint32(nil, other), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := pdb.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := indexer.Open(dbDir, indexer.Options{})
	if !errors.Is(err, indexer.ErrFormat) {
		if db != nil {
			db.Close()
		}
		t.Fatalf("open an index of format version %d: %v, want ErrFormat", other, err)
	}
	wantVersions := fmt.Sprintf("index format version %d, this build reads %d", other, keys.FormatVersion)
	for _, args := range [][]string{{"index", "run", "--once", "--progress", "0"}, {"index", "reconcile"}} {
		out, errOut, code := n.creditctl(t, append(args, "--dir", dir)...)
		if code == 0 || !strings.Contains(errOut, wantVersions) || !strings.Contains(errOut, "creditctl index rebuild --dir "+dir) {
			t.Fatalf("%s on an index of format version %d: exit %d, want a refusal naming both versions and the rebuild\n%s%s", strings.Join(args, " "), other, code, out, errOut)
		}
	}

	out, errOut, code := n.creditctl(t, "index", "rebuild", "--dir", dir, "--progress", "0", "-o", "json")
	if code != 0 {
		t.Fatalf("index rebuild: exit %d\n%s%s", code, out, errOut)
	}
	var res RebuildResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("index rebuild -o json: %v\n%s", err, out)
	}
	if !strings.Contains(errOut, "from block 0") {
		t.Errorf("index rebuild does not say it replays from block 0:\n%s", errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ref, err := indexer.Open(t.TempDir(), indexer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	if err := ref.FollowTo(ctx, clientPeer{auditor}, res.Height); err != nil {
		t.Fatal(err)
	}
	db, err = indexer.Open(dbDir, indexer.Options{})
	if err != nil {
		t.Fatalf("open the rebuilt index: %v", err)
	}
	gh, gd, err := db.Digest()
	st := db.Stats()
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	rh, rd, err := ref.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if gh != rh || !bytes.Equal(gd, rd) || st.Txs != ref.Stats().Txs || res.Txs != st.Txs {
		t.Fatalf("rebuilt index: height %d, %d txs (reported %d), digest %x; built from block 0: height %d, %d txs, digest %x",
			gh, st.Txs, res.Txs, gd[:8], rh, ref.Stats().Txs, rd[:8])
	}
	if _, err := os.Stat(dbDir + ".rebuild"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the rebuild left %s.rebuild behind: %v", dbDir, err)
	}
	rep := reconcileClean(t, n, dir, "after the rebuild")
	t.Logf("rebuilt to height %d (%d txs) in %.1fs; reconcile: %d keys at height %d, no difference", res.Height, res.Txs, res.Seconds, keysCompared(rep), rep.Height)
}

// trafficRounds counts the calls of generateTraffic in this process.
var trafficRounds atomic.Int32

// generateTraffic submits about txs transactions from workers goroutines
// spread over the three counties: commitments made, half of them fulfilled
// or breached, punishments with enforcements by another county.
func generateTraffic(t testing.TB, n *itNet, txs, workers int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	clients := []*client.Client{n.client(t, 0, "officer1"), n.client(t, 1, "officer1"), n.client(t, 2, "officer1")}
	round := trafficRounds.Add(1) // IDs of this call's records: T<run>-<round>-<worker>-<i>
	start := time.Now()
	var mu sync.Mutex
	done := 0
	var firstErr error
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := clients[w%3]
			other := clients[(w+1)%3]
			code := n.profile.Counties[w%3].Code
			for i := 0; ; i++ {
				mu.Lock()
				stop := done >= txs || firstErr != nil
				mu.Unlock()
				if stop {
					return
				}
				id := fmt.Sprintf("T%s-%d-%d-%d", itRun, round, w, i)
				subject := itSubject(code, w*1000+i%7)
				var err error
				k := 1
				switch i % 4 {
				case 0, 1:
					_, _, err = cl.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: id, Kind: "voluntary", Subject: subject, Content: "主动承诺"})
					if err == nil && i%4 == 1 {
						_, _, err = cl.FulfilCommitment(ctx, credit.FulfilCommitmentRequest{ID: id})
						k++
					}
				case 2:
					_, _, err = cl.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: id, Kind: "voluntary", Subject: subject, Content: "主动承诺"})
					if err == nil {
						_, _, err = cl.BreachCommitment(ctx, credit.BreachCommitmentRequest{ID: id, Reason: "违诺"})
						k++
					}
				case 3:
					kind := []string{"publicity", "blacklist", "watchlist"}[i/4%3]
					_, _, err = cl.ImposePunishment(ctx, credit.ImposePunishmentRequest{ID: id, Subject: subject, Kind: kind, Severity: "general",
						DecisionDate: credit.DateOf(time.Now()).AddMonths(-1).String(), DecisionNo: "罚" + id, LegalBasis: "《广告法》第五十五条", Measures: []string{"bidding"}})
					if err == nil {
						_, _, err = other.RecordEnforcement(ctx, credit.RecordEnforcementRequest{ID: id + ".e", PunishmentID: id, Measure: "bidding", Date: credit.DateOf(time.Now()).String()})
						k++
					}
				}
				mu.Lock()
				done += k
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("worker %d tx %s: %w", w, id, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	t.Logf("generated %d transactions with %d workers in %.1fs", done, workers, time.Since(start).Seconds())
}

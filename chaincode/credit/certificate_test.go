package credit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

// Records of one subject for the status tests, all as of 2026-06-01:
// punishments active, expired, revoked and repaired; commitments open,
// overdue, breached and fulfilled; enforcements of an active and of the
// repaired punishment.
func statusRecords(t *testing.T) []Record {
	t.Helper()
	rules := defaultRules()
	active := impose(t, "pun-active", SeverityGeneral, "2026-03-10", "2026-03-10", rules)
	active.Measures = []string{"bidding", "procurement"}
	expired := impose(t, "pun-expired", SeverityGeneral, "2025-01-10", "2025-01-10", rules) // maxEnd 2026-01-10
	revoked := impose(t, "pun-revoked", SeverityGeneral, "2026-02-01", "2026-02-01", rules)
	revoked.State, revoked.ClosedAt = StateRevoked, "2026-02-03T02:00:00Z"
	repaired := impose(t, "pun-repaired", SeverityGeneral, "2025-10-01", "2025-10-01", rules)
	repaired.State, repaired.RepairedBy = StateRepaired, "rep-1"
	h := func(kind, id, county, state string) Header {
		return Header{Kind: kind, ID: id, Subject: subject, County: county, Department: "market", State: state}
	}
	return []Record{
		active, expired, revoked, repaired,
		&Repair{Header: h(TypeRepair, "rep-1", "330782", StateCompleted), PunishmentID: "pun-repaired", Severity: SeverityGeneral, ClosedAt: "2026-01-05T02:00:00Z"},
		&Repair{Header: h(TypeRepair, "rep-0", "330782", StateRejected), PunishmentID: "pun-repaired", Severity: SeverityGeneral},
		&Repair{Header: h(TypeRepair, "rep-2", "330782", StateApplied), PunishmentID: "pun-active", Severity: SeverityGeneral},
		&Commitment{Header: h(TypeCommitment, "c-open", "330782", StateMade), CommitmentKind: CommitmentVoluntary, MadeOn: MustDate("2026-05-01")},
		&Commitment{Header: h(TypeCommitment, "c-overdue", "330783", StateMade), CommitmentKind: CommitmentMissingMaterials, MadeOn: MustDate("2026-05-01"), Deadline: MustDate("2026-05-12")},
		&Commitment{Header: h(TypeCommitment, "c-breached", "330782", StateBreached), CommitmentKind: CommitmentApproval, MadeOn: MustDate("2026-01-01"), Deadline: MustDate("2026-02-01"), ClosedAt: "2026-02-02T02:00:00Z", DishonestyID: "c-breached.breach"},
		&Commitment{Header: h(TypeCommitment, "c-fulfilled", "330782", StateFulfilled), CommitmentKind: CommitmentVoluntary, MadeOn: MustDate("2026-01-01")},
		&Dishonesty{Header: h(TypeDishonesty, "c-breached.breach", "330782", StateRecorded), CommitmentID: "c-breached"},
		&Enforcement{Header: h(TypeEnforcement, "enf-1", "330783", StateRecorded), PunishmentID: "pun-active", Measure: "bidding", Date: MustDate("2026-04-01")},
		&Enforcement{Header: h(TypeEnforcement, "enf-0", "330783", StateRecorded), PunishmentID: "pun-repaired", Measure: "bidding", Date: MustDate("2025-11-01")},
	}
}

func ids[T any](l []T, id func(T) string) []string {
	out := []string{}
	for _, v := range l {
		out = append(out, id(v))
	}
	return out
}

// TestCertificateStatusContents: seed 004 — a certificate states the active
// punishments with their measures and publicity end, open/overdue/breached
// commitments, completed repairs labelled 已修复 and the rule set applied;
// DOMAIN: expired, revoked and repaired punishments are no longer published,
// and fulfilled commitments are closed. Each case lists what the status
// holds and whether "no adverse record" is claimed.
func TestCertificateStatusContents(t *testing.T) {
	all := statusRecords(t)
	pick := func(idsWanted ...string) []Record {
		var out []Record
		for _, r := range all {
			if slices.Contains(idsWanted, r.Head().ID) {
				out = append(out, r)
			}
		}
		return out
	}
	tests := []struct {
		name         string
		records      []Record
		punishments  []string
		open         []string
		overdue      []string
		breached     []string
		repairs      []string
		enforcements []string
		ruleSets     []string
		noAdverse    bool
	}{
		{name: "no records", noAdverse: true},
		{name: "active punishment", records: pick("pun-active"), punishments: []string{"pun-active"}, ruleSets: []string{"ndrc-2019"}},
		{name: "expired punishment is not listed", records: pick("pun-expired"), noAdverse: true},
		{name: "revoked punishment is not listed", records: pick("pun-revoked"), noAdverse: true},
		{name: "repaired punishment shows as a repair", records: pick("pun-repaired", "rep-1", "rep-0"), repairs: []string{"rep-1"}, ruleSets: []string{"ndrc-2019"}, noAdverse: true},
		{name: "open commitment is not adverse", records: pick("c-open"), open: []string{"c-open"}, noAdverse: true},
		{name: "overdue commitment is adverse", records: pick("c-overdue"), overdue: []string{"c-overdue"}},
		{name: "breached commitment is adverse", records: pick("c-breached", "c-breached.breach"), breached: []string{"c-breached"}},
		{name: "fulfilled commitment is not listed", records: pick("c-fulfilled"), noAdverse: true},
		{name: "enforcement of an active punishment only", records: pick("pun-active", "pun-repaired", "rep-1", "enf-1", "enf-0"),
			punishments: []string{"pun-active"}, repairs: []string{"rep-1"}, enforcements: []string{"enf-1"}, ruleSets: []string{"ndrc-2019"}},
		{name: "everything", records: all, punishments: []string{"pun-active"}, open: []string{"c-open"}, overdue: []string{"c-overdue"},
			breached: []string{"c-breached"}, repairs: []string{"rep-1"}, enforcements: []string{"enf-1"}, ruleSets: []string{"ndrc-2019"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ComputeCertificateStatus(subject, tt.records, defaultRules(), txOn("2026-06-01"))
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, got, want []string) {
				t.Helper()
				if want == nil {
					want = []string{}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			check("punishments", ids(s.Punishments, func(p StatusPunishment) string { return p.ID }), tt.punishments)
			cid := func(c StatusCommitment) string { return c.ID }
			check("open", ids(s.Commitments.Open, cid), tt.open)
			check("overdue", ids(s.Commitments.Overdue, cid), tt.overdue)
			check("breached", ids(s.Commitments.Breached, cid), tt.breached)
			check("repairs", ids(s.Repairs, func(r StatusRepair) string { return r.ID }), tt.repairs)
			check("enforcements", ids(s.Enforcements, func(e StatusEnforcement) string { return e.ID }), tt.enforcements)
			check("ruleSets", s.RuleSets, tt.ruleSets)
			if s.NoAdverseRecord != tt.noAdverse {
				t.Errorf("noAdverseRecord = %v, want %v", s.NoAdverseRecord, tt.noAdverse)
			}
			if s.Format != StatusFormat || s.Subject != subject || s.SubjectKind != SubjectEnterprise ||
				s.AsOf != "2026-06-01T02:00:00Z" || s.AsOfDate != MustDate("2026-06-01") || s.RuleSetInForce != "ndrc-2019" {
				t.Errorf("header fields %+v", s)
			}
		})
	}
}

// TestCertificateStatusDetails: the listed entries carry what seed 004 asks
// for: measures, publicity end (maxEnd) and imposing county of a
// punishment; the 已修复 label and punishment facts of a repair; the
// dishonesty record of a breach.
func TestCertificateStatusDetails(t *testing.T) {
	s, err := ComputeCertificateStatus(subject, statusRecords(t), defaultRules(), txOn("2026-06-01"))
	if err != nil {
		t.Fatal(err)
	}
	p := s.Punishments[0]
	if p.County != "330782" || p.PunishmentKind != PunishmentPublicity || p.Severity != SeverityGeneral ||
		p.DecisionDate != MustDate("2026-03-10") || p.PublicityEnd != MustDate("2027-03-10") || p.MinEnd != MustDate("2026-06-10") ||
		!slices.Equal(p.Measures, []string{"bidding", "procurement"}) || p.RuleSet != "ndrc-2019" || !p.Repairable || p.OpenRepairID != "rep-2" {
		t.Errorf("punishment %+v", p)
	}
	r := s.Repairs[0]
	if r.Label != "已修复" || r.PunishmentID != "pun-repaired" || r.PunishmentKind != PunishmentPublicity || r.DecisionDate != MustDate("2025-10-01") || r.CompletedAt != "2026-01-05T02:00:00Z" {
		t.Errorf("repair %+v", r)
	}
	b := s.Commitments.Breached[0]
	if b.DishonestyID != "c-breached.breach" || b.State != StateBreached || b.ClosedAt == "" {
		t.Errorf("breached %+v", b)
	}
	if o := s.Commitments.Overdue[0]; o.State != StateOverdue || o.County != "330783" || o.Deadline != MustDate("2026-05-12") {
		t.Errorf("overdue %+v", o)
	}
	if e := s.Enforcements[0]; e.County != "330783" || e.Measure != "bidding" || e.PunishmentID != "pun-active" {
		t.Errorf("enforcement %+v", e)
	}
}

// TestCertificateStatusRuleSetInForce: DESIGN §8 — the rule set in force at
// the status date is stated, and punishments keep the version of their
// decision date (NDRC Order No. 58 example set).
func TestCertificateStatusRuleSetInForce(t *testing.T) {
	rules := WithDefault([]RuleSet{order58(t)})
	old := impose(t, "pun-old", SeverityGeneral, "2026-03-10", "2026-03-10", defaultRules())
	s, err := ComputeCertificateStatus(subject, []Record{old}, rules, txOn("2026-06-01"))
	if err != nil {
		t.Fatal(err)
	}
	if s.RuleSetInForce != order58(t).Version || !slices.Equal(s.RuleSets, []string{"ndrc-2019"}) {
		t.Fatalf("ruleSetInForce %q ruleSets %v", s.RuleSetInForce, s.RuleSets)
	}
}

// TestCertificateStatusRefusesOtherSubjects: a record about another subject
// is a binding bug, never silently included.
func TestCertificateStatusRefusesOtherSubjects(t *testing.T) {
	c := &Commitment{Header: Header{Kind: TypeCommitment, ID: "c1", Subject: other, State: StateMade}}
	if _, err := ComputeCertificateStatus(subject, []Record{c}, defaultRules(), txOn("2026-06-01")); err == nil {
		t.Fatal("accepted a record of another subject")
	}
}

// TestCertificateStatusIsDeterministic: the same records give the same
// canonical bytes and digest, whatever their order; the bytes are frozen
// in testdata (a change of the status layout changes every digest, so it
// must be deliberate: regenerate with CREDIT_UPDATE_GOLDEN=1).
func TestCertificateStatusIsDeterministic(t *testing.T) {
	recs := statusRecords(t)
	s1, err := ComputeCertificateStatus(subject, recs, defaultRules(), txOn("2026-06-01"))
	if err != nil {
		t.Fatal(err)
	}
	c1, d1, err := StatusDigest(s1)
	if err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(statusRecords(t))
	slices.Reverse(rev)
	s2, err := ComputeCertificateStatus(subject, rev, defaultRules(), txOn("2026-06-01"))
	if err != nil {
		t.Fatal(err)
	}
	c2, d2, err := StatusDigest(s2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c1, c2) || d1 != d2 {
		t.Fatalf("order changed the status:\n%s\n%s", c1, c2)
	}
	sum := sha256.Sum256(c1)
	if hex.EncodeToString(sum[:]) != d1 {
		t.Fatal("digest is not SHA-256 of the canonical bytes")
	}
	const golden = "testdata/certificate-status.golden.json"
	if os.Getenv("CREDIT_UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, append(c1, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(c1, '\n'), want) {
		t.Fatalf("canonical status changed:\n got %s\nwant %s", c1, want)
	}
}

// TestNoAdverseRecordIsInTheDigest: "no adverse record" is itself a claim
// that must be provable (issue 6): flipping it changes the digest.
func TestNoAdverseRecordIsInTheDigest(t *testing.T) {
	s, err := ComputeCertificateStatus(subject, nil, defaultRules(), txOn("2026-06-01"))
	if err != nil {
		t.Fatal(err)
	}
	c, d1, _ := StatusDigest(s)
	if !bytes.Contains(c, []byte(`"noAdverseRecord":true`)) {
		t.Fatalf("canonical status lacks the claim: %s", c)
	}
	s.NoAdverseRecord = false
	_, d2, _ := StatusDigest(s)
	if d1 == d2 {
		t.Fatal("digest does not cover noAdverseRecord")
	}
}

// TestCanonicalJSONIsRFC8785 checks the canonical form against the
// examples of RFC 8785: member order by UTF-16 code units (§3.2.3), string
// escaping (§3.2.2.2) and ECMAScript number serialisation (Appendix B).
func TestCanonicalJSONIsRFC8785(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"sorting by utf-16 code units",
			`{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}`,
			"{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"},
		{"string escaping", `"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"`, `"€$\u000f\nA'B\"\\\\\"/"`},
		{"html characters and line separator stay literal", `"<a>&\u2028"`, "\"<a>&\u2028\""},
		{"nested, white space removed", ` { "b" : [ 1 , { "d":true,"c":null } ], "a":"x" } `, `{"a":"x","b":[1,{"c":null,"d":true}]}`},
		{"zero", `0`, `0`}, {"minus zero", `-0`, `0`},
		{"1e21", `1e21`, `1e+21`}, {"1e20", `1e20`, `100000000000000000000`},
		{"fraction", `333333333.3333333`, `333333333.3333333`}, {"trailing zero", `4.50`, `4.5`},
		{"small", `2e-3`, `0.002`}, {"1e-6", `0.000001`, `0.000001`}, {"1e-7", `1e-7`, `1e-7`},
		{"2^53", `9007199254740992`, `9007199254740992`}, {"min subnormal", `5e-324`, `5e-324`},
		{"max negative", `-1.7976931348623157e+308`, `-1.7976931348623157e+308`},
		{"integer exponent", `1.5e3`, `1500`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{`{"a":1,"a":2}`, `{"a":1} x`, `[1,`, ``} {
		if _, err := Canonicalize([]byte(bad)); err == nil {
			t.Errorf("Canonicalize(%q) accepted", bad)
		}
	}
}

// FuzzCanonicalize: canonicalising is idempotent and keeps the JSON value.
func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[true,null,"x"]}`, `"\u2028<>"`, `1e21`, `{"é":{"e":0.1}}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Canonicalize(in)
		if err != nil {
			return
		}
		c2, err := Canonicalize(c)
		if err != nil || !bytes.Equal(c, c2) {
			t.Fatalf("not idempotent: %s -> %s (%v)", c, c2, err)
		}
		var v1, v2 any
		if json.Unmarshal(in, &v1) != nil {
			return // accepted by the tokenizer but not by Unmarshal: nothing to compare
		}
		if err := json.Unmarshal(c, &v2); err != nil {
			t.Fatalf("canonical form is not JSON: %s: %v", c, err)
		}
		if !reflect.DeepEqual(v1, v2) { // floats compare with ==, so -0 equals 0 (RFC 8785 writes 0)
			t.Fatalf("value changed: %s -> %s", in, c)
		}
	})
}

// naiveMTH is RFC 6962's definition, written directly, to check the tree.
func naiveMTH(leaves []Hash) Hash {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return merkleNode(naiveMTH(leaves[:k]), naiveMTH(leaves[k:]))
}

func leafOf(data string) Hash { return sha256.Sum256(append([]byte{0}, data...)) }

// TestMerkleTreeIsRFC6962: the batch tree is RFC 6962's: its heads match
// the direct definition for 1..70 leaves and the certificate-transparency
// reference heads for the eight standard test leaves; every audit path
// verifies (RFC 9162 §2.1.3.2) and a wrong leaf, index, path or root does
// not.
func TestMerkleTreeIsRFC6962(t *testing.T) {
	ctLeaves := []string{"", "\x00", "\x10", "\x20\x21", "\x30\x31", "\x40\x41\x42\x43",
		"\x50\x51\x52\x53\x54\x55\x56\x57", "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"}
	ctRoots := []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	var leaves []Hash
	for i, d := range ctLeaves {
		leaves = append(leaves, leafOf(d))
		root, err := MerkleRoot(leaves)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(root[:]); got != ctRoots[i] {
			t.Errorf("%d leaves: root %s, want %s", i+1, got, ctRoots[i])
		}
	}
	for n := 1; n <= 70; n++ {
		leaves := make([]Hash, n)
		for i := range leaves {
			leaves[i] = MerkleLeaf(MemberID("B1", i), sha256.Sum256([]byte{byte(i), byte(n)}))
		}
		tree, err := NewMerkleTree(leaves)
		if err != nil {
			t.Fatal(err)
		}
		root := tree.Root()
		if root != naiveMTH(leaves) {
			t.Fatalf("n=%d: root differs from the definition", n)
		}
		for i := 0; i < n; i++ {
			path, err := tree.Path(i)
			if err != nil {
				t.Fatal(err)
			}
			if !VerifyMerklePath(leaves[i], i, n, path, root) {
				t.Fatalf("n=%d i=%d: valid path refused", n, i)
			}
			if VerifyMerklePath(leaves[(i+1)%n], i, n, path, root) && n > 1 {
				t.Fatalf("n=%d i=%d: wrong leaf accepted", n, i)
			}
			if n > 1 && VerifyMerklePath(leaves[i], (i+1)%n, n, path, root) {
				t.Fatalf("n=%d i=%d: wrong index accepted", n, i)
			}
			// The size is not bound by the path alone (it comes from the
			// anchor), but an index outside the size is refused.
			if VerifyMerklePath(leaves[i], i, i, path, root) {
				t.Fatalf("n=%d i=%d: index outside the size accepted", n, i)
			}
			if len(path) > 0 {
				bad := slices.Clone(path)
				bad[0][0] ^= 1
				if VerifyMerklePath(leaves[i], i, n, bad, root) {
					t.Fatalf("n=%d i=%d: tampered path accepted", n, i)
				}
				if VerifyMerklePath(leaves[i], i, n, path[:len(path)-1], root) {
					t.Fatalf("n=%d i=%d: short path accepted", n, i)
				}
			}
			if VerifyMerklePath(leaves[i], i, n, append(slices.Clone(path), root), root) {
				t.Fatalf("n=%d i=%d: long path accepted", n, i)
			}
		}
	}
	if _, err := NewMerkleTree(nil); err == nil {
		t.Fatal("empty tree accepted")
	}
}

// TestMerkleLeafIsDomainSeparated: leaf = SHA-256(0x00 || id || digest),
// as docs/CERTIFICATES.md defines it.
func TestMerkleLeafIsDomainSeparated(t *testing.T) {
	d := sha256.Sum256([]byte("status"))
	want := sha256.Sum256(append(append([]byte{0x00}, "B1.00001"...), d[:]...))
	if MerkleLeaf("B1.00001", d) != want {
		t.Fatal("leaf hash differs from the definition")
	}
}

// TestMemberIDRoundTrip: member i of batch B is "B.<i+1, five digits>".
func TestMemberIDRoundTrip(t *testing.T) {
	for _, i := range []int{0, 1, 41, 9999} {
		id := MemberID("B2026.07", i)
		b, j, ok := ParseMemberID(id)
		if !ok || b != "B2026.07" || j != i {
			t.Errorf("ParseMemberID(%q) = %q %d %v", id, b, j, ok)
		}
	}
	if MemberID("B1", 0) != "B1.00001" {
		t.Errorf("MemberID(B1, 0) = %s", MemberID("B1", 0))
	}
	for _, id := range []string{"B1", "B1.1", "B1.00000", "B1.+0001", ".00001", "B1.0000x"} {
		if _, _, ok := ParseMemberID(id); ok {
			t.Errorf("ParseMemberID(%q) accepted", id)
		}
	}
}

func issueReq() IssueCertificateRequest {
	return IssueCertificateRequest{ID: "cert-1", Subject: subject, Purpose: PurposeBidding, ValidUntil: "2026-09-01"}
}

// TestIssueCertificateRules: only an officer of a registered county
// issues (seed 004: the county credit office); the purpose is one of four;
// validUntil is on or after the issuing date and at most 12 months after
// it; bad input names the field.
func TestIssueCertificateRules(t *testing.T) {
	tx := txOn("2026-06-01")
	tests := []struct {
		name     string
		actor    Actor
		mod      func(*IssueCertificateRequest)
		sentinel error
		field    string
	}{
		{name: "auditor", actor: auditorA, sentinel: ErrForbidden},
		{name: "admin", actor: adminA, sentinel: ErrForbidden},
		{name: "unregistered msp", actor: strangerOfficer, sentinel: ErrForbidden},
		{name: "bad id", actor: officerA, mod: func(r *IssueCertificateRequest) { r.ID = "a" }, field: "id"},
		{name: "bad subject", actor: officerA, mod: func(r *IssueCertificateRequest) { r.Subject = "91330782MA2EXAMPL0" }, field: "subject"},
		{name: "unknown purpose", actor: officerA, mod: func(r *IssueCertificateRequest) { r.Purpose = "travel" }, field: "purpose"},
		{name: "missing validUntil", actor: officerA, mod: func(r *IssueCertificateRequest) { r.ValidUntil = "" }, field: "validUntil"},
		{name: "validUntil in the past", actor: officerA, mod: func(r *IssueCertificateRequest) { r.ValidUntil = "2026-05-31" }, field: "validUntil"},
		{name: "validUntil beyond 12 months", actor: officerA, mod: func(r *IssueCertificateRequest) { r.ValidUntil = "2027-06-02" }, field: "validUntil"},
		{name: "note too long", actor: officerA, mod: func(r *IssueCertificateRequest) { r.Note = strings.Repeat("注", 2001) }, field: "note"},
		{name: "validUntil today", actor: officerA, mod: func(r *IssueCertificateRequest) { r.ValidUntil = "2026-06-01" }},
		{name: "validUntil exactly 12 months", actor: officerA, mod: func(r *IssueCertificateRequest) { r.ValidUntil = "2027-06-01" }},
		{name: "officer of another department", actor: officerB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := issueReq()
			if tt.mod != nil {
				tt.mod(&req)
			}
			_, err := IssueCertificate(req, nil, defaultRules(), "义乌市", tt.actor, tx)
			switch {
			case tt.field != "":
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tt.field {
					t.Fatalf("err = %v, want field %s", err, tt.field)
				}
			case tt.sentinel != nil:
				wantErr(t, err, tt.sentinel)
			case err != nil:
				t.Fatalf("refused: %v", err)
			}
		})
	}
}

// TestIssueCertificateWritesAnchor: the anchor holds the digest of the
// canonical status, the issuing county and officer, validity from the
// transaction date; it carries the issuing county's key-level policy, the
// county index key none (DESIGN §7); one CertificateIssued event.
func TestIssueCertificateWritesAnchor(t *testing.T) {
	tx := txOn("2026-06-01")
	ch, err := IssueCertificate(issueReq(), statusRecords(t), defaultRules(), "义乌市", officerA, tx)
	if err != nil {
		t.Fatal(err)
	}
	res := ch.Result.(*IssueCertificateResult)
	c := res.Certificate
	sum := sha256.Sum256(res.Status)
	if c.Digest != hex.EncodeToString(sum[:]) || res.Digest != c.Digest {
		t.Fatalf("digest %s does not cover the returned status", c.Digest)
	}
	if c.Kind != TypeCertificate || c.ID != "cert-1" || c.Subject != subject || c.County != "330782" || c.CreatedBy != "officerA" ||
		c.State != CertValid || c.ValidFrom != MustDate("2026-06-01") || c.ValidUntil != MustDate("2026-09-01") ||
		c.IssuedAt != "2026-06-01T02:00:00Z" || c.IssueTxID != tx.ID || c.TxID != tx.ID || c.Purpose != PurposeBidding || c.IsBatch() {
		t.Fatalf("anchor %+v", c)
	}
	if res.IssuerName != "义乌市" {
		t.Fatalf("issuer name %q", res.IssuerName)
	}
	if len(ch.Puts) != 2 || ch.Puts[0].Key.ObjectType != TypeCertificate || ch.Puts[0].Owner != "330782" ||
		ch.Puts[1].Key.ObjectType != TypeCertCounty || ch.Puts[1].Owner != "" {
		t.Fatalf("puts %+v", ch.Puts)
	}
	if ch.Event.Name != "CertificateIssued" || ch.Event.ID != "cert-1" || ch.Event.Subject != subject {
		t.Fatalf("event %+v", ch.Event)
	}
	var s CertificateStatus
	mustUnmarshal(t, res.Status, &s)
	if s.NoAdverseRecord || len(s.Punishments) != 1 {
		t.Fatalf("status %+v", s)
	}
}

// TestCertificateBatchMerkleRoot: a batch anchor holds the RFC 6962 root
// over leaf_i = SHA-256(0x00 || MemberID(batch, i) || digest_i); every
// member's status digest and leaf are returned, in subject order.
func TestCertificateBatchMerkleRoot(t *testing.T) {
	subjects := []string{subject, other, CompleteCreditCode("91330782MA2B00001")}
	records := [][]Record{statusRecords(t), nil, nil}
	ch, err := IssueCertificateBatch(IssueCertificateBatchRequest{BatchID: "B01", Subjects: subjects, Purpose: PurposeLoan, ValidUntil: "2026-07-01"},
		records, defaultRules(), "义乌市", officerA, txOn("2026-06-01"))
	if err != nil {
		t.Fatal(err)
	}
	res := ch.Result.(*IssueCertificateBatchResult)
	var leaves []Hash
	for i, m := range res.Members {
		sum := sha256.Sum256(m.Status)
		if m.ID != MemberID("B01", i) || m.Index != i || m.Subject != subjects[i] || m.Digest != hex.EncodeToString(sum[:]) {
			t.Fatalf("member %d: %+v", i, m)
		}
		leaf := MerkleLeaf(m.ID, sum)
		if m.Leaf != hex.EncodeToString(leaf[:]) {
			t.Fatalf("member %d: leaf", i)
		}
		leaves = append(leaves, leaf)
	}
	root := naiveMTH(leaves)
	c := res.Certificate
	if c.MerkleRoot != hex.EncodeToString(root[:]) || c.Count != 3 || c.Digest != "" || c.Subject != "" || !c.IsBatch() {
		t.Fatalf("anchor %+v", c)
	}
	if ch.Event.Name != "CertificateBatchIssued" {
		t.Fatalf("event %s", ch.Event.Name)
	}
}

// TestCertificateBatchSubjects: 1 to MaxBatchSubjects valid subjects, none
// twice; errors name the item.
func TestCertificateBatchSubjects(t *testing.T) {
	many := make([]string, MaxBatchSubjects+1)
	for i := range many {
		many[i] = subject
	}
	tests := []struct {
		name     string
		subjects []string
		field    string
	}{
		{"none", nil, "subjects"},
		{"too many", many, "subjects"},
		{"bad item", []string{subject, "x"}, "subjects[1]"},
		{"duplicate", []string{subject, other, subject}, "subjects[2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateBatchSubjects(tt.subjects)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("err = %v, want field %s", err, tt.field)
			}
		})
	}
}

// TestCertificateStatusChanges: seed 004 asks that a certificate can be
// revoked; suspension and reinstatement are ours. valid ⇄ suspended,
// valid|suspended → revoked, revoked is final; the same state again is
// refused; only an officer of the issuing county may; a reason is needed.
func TestCertificateStatusChanges(t *testing.T) {
	issued := func() *Certificate {
		ch, err := IssueCertificate(issueReq(), nil, defaultRules(), "义乌市", officerA, txOn("2026-06-01"))
		if err != nil {
			t.Fatal(err)
		}
		return ch.Result.(*IssueCertificateResult).Certificate
	}
	tests := []struct {
		name   string
		steps  []string // statuses set in order by officerA; the last one is checked
		actor  Actor
		reason string
		want   error
		final  string
		event  string
	}{
		{name: "suspend", steps: []string{CertSuspended}, final: CertSuspended, event: "CertificateSuspended"},
		{name: "reinstate", steps: []string{CertSuspended, CertValid}, final: CertValid, event: "CertificateReinstated"},
		{name: "revoke", steps: []string{CertRevoked}, final: CertRevoked, event: "CertificateRevoked"},
		{name: "revoke suspended", steps: []string{CertSuspended, CertRevoked}, final: CertRevoked, event: "CertificateRevoked"},
		{name: "revoked is final", steps: []string{CertRevoked, CertValid}, want: ErrState},
		{name: "revoked twice", steps: []string{CertRevoked, CertRevoked}, want: ErrState},
		{name: "already valid", steps: []string{CertValid}, want: ErrState},
		{name: "other county", steps: []string{CertSuspended}, actor: officerB, want: ErrForbidden},
		{name: "auditor", steps: []string{CertRevoked}, actor: auditorA, want: ErrForbidden},
		{name: "unknown status", steps: []string{"expired"}, want: ErrInvalid},
		{name: "no reason", steps: []string{CertRevoked}, reason: "-", want: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := issued()
			var ch Change
			var err error
			for i, st := range tt.steps {
				a, reason := officerA, "复核"
				last := i == len(tt.steps)-1
				if last && tt.actor.ID != "" {
					a = tt.actor
				}
				if last && tt.reason == "-" {
					reason = ""
				}
				ch, err = SetCertificateStatus(c, SetCertificateStatusRequest{ID: c.ID, Status: st, Reason: reason}, a, txOn("2026-06-02"))
				if !last && err != nil {
					t.Fatal(err)
				}
				if err == nil {
					c = roundTrip(t, ch.Result.(*Certificate))
				}
			}
			if tt.want != nil {
				wantErr(t, err, tt.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.State != tt.final || c.StatusReason != "复核" || c.StatusChangedBy != "officerA" || c.UpdatedAt != "2026-06-02T02:00:00Z" || c.IssueTxID != "tx-2026-06-01" {
				t.Fatalf("certificate %+v", c)
			}
			if ch.Event.Name != tt.event || len(ch.Puts) != 1 || ch.Puts[0].Owner != "" {
				t.Fatalf("event %s puts %+v", ch.Event.Name, ch.Puts)
			}
		})
	}
}

// TestCertificateMemberStatus: one member of a batch is suspended,
// reinstated or revoked on its own (its certificate ID names it): the
// change is a new version of the batch's anchor listing the member, the
// other members keep the batch's state, and the more restrictive of the
// batch's and the member's state is the member's (StateOf). The same rules
// as for an anchor, plus: nothing changes a member of a revoked batch, a
// member of a suspended batch is reinstated with the batch, and the ID
// must name a member of this batch.
func TestCertificateMemberStatus(t *testing.T) {
	batch := func() *Certificate {
		ch, err := IssueCertificateBatch(IssueCertificateBatchRequest{BatchID: "B01", Subjects: []string{subject, other, CompleteCreditCode("91330782MA2B00001")},
			Purpose: PurposeLoan, ValidUntil: "2026-07-01"}, make([][]Record, 3), defaultRules(), "义乌市", officerA, txOn("2026-06-01"))
		if err != nil {
			t.Fatal(err)
		}
		return ch.Result.(*IssueCertificateBatchResult).Certificate
	}
	type step struct{ id, status string }
	tests := []struct {
		name  string
		steps []step // by officerA; the last one is checked
		actor Actor
		want  error
		field string
		// the states of B01 and its three members after the last step
		states [4]string
		event  string
	}{
		{name: "revoke one member", steps: []step{{"B01.00002", CertRevoked}},
			states: [4]string{CertValid, CertValid, CertRevoked, CertValid}, event: "CertificateRevoked"},
		{name: "suspend one member", steps: []step{{"B01.00003", CertSuspended}},
			states: [4]string{CertValid, CertValid, CertValid, CertSuspended}, event: "CertificateSuspended"},
		{name: "reinstate one member", steps: []step{{"B01.00001", CertSuspended}, {"B01.00001", CertValid}},
			states: [4]string{CertValid, CertValid, CertValid, CertValid}, event: "CertificateReinstated"},
		{name: "two members, in index order", steps: []step{{"B01.00003", CertRevoked}, {"B01.00001", CertSuspended}},
			states: [4]string{CertValid, CertSuspended, CertValid, CertRevoked}, event: "CertificateSuspended"},
		{name: "batch suspended over a revoked member", steps: []step{{"B01.00002", CertRevoked}, {"B01", CertSuspended}},
			states: [4]string{CertSuspended, CertSuspended, CertRevoked, CertSuspended}, event: "CertificateSuspended"},
		{name: "member revoked in a suspended batch", steps: []step{{"B01", CertSuspended}, {"B01.00002", CertRevoked}},
			states: [4]string{CertSuspended, CertSuspended, CertRevoked, CertSuspended}, event: "CertificateRevoked"},
		{name: "batch revoked over a suspended member", steps: []step{{"B01.00001", CertSuspended}, {"B01", CertRevoked}},
			states: [4]string{CertRevoked, CertRevoked, CertRevoked, CertRevoked}, event: "CertificateRevoked"},
		{name: "a revoked member is final", steps: []step{{"B01.00002", CertRevoked}, {"B01.00002", CertValid}}, want: ErrState},
		{name: "member of a revoked batch", steps: []step{{"B01", CertRevoked}, {"B01.00002", CertSuspended}}, want: ErrState},
		{name: "member reinstated above its suspended batch", steps: []step{{"B01.00002", CertSuspended}, {"B01", CertSuspended}, {"B01.00002", CertValid}}, want: ErrState},
		{name: "member already valid", steps: []step{{"B01.00002", CertValid}}, want: ErrState},
		{name: "beyond the batch", steps: []step{{"B01.00004", CertRevoked}}, field: "id"},
		{name: "member of another batch", steps: []step{{"B02.00001", CertRevoked}}, want: ErrNotFound},
		{name: "other county", steps: []step{{"B01.00002", CertRevoked}}, actor: officerB, want: ErrForbidden},
		{name: "auditor", steps: []step{{"B01.00002", CertRevoked}}, actor: auditorA, want: ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := batch()
			var ch Change
			var err error
			for i, st := range tt.steps {
				a := officerA
				last := i == len(tt.steps)-1
				if last && tt.actor.ID != "" {
					a = tt.actor
				}
				ch, err = SetCertificateStatus(c, SetCertificateStatusRequest{ID: st.id, Status: st.status, Reason: "复核 " + st.id}, a, txOn("2026-06-0"+strconv.Itoa(i+2)))
				if !last && err != nil {
					t.Fatal(err)
				}
				if err == nil {
					c = roundTrip(t, ch.Result.(*Certificate))
				}
			}
			switch {
			case tt.field != "":
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tt.field {
					t.Fatalf("err = %v, want field %s", err, tt.field)
				}
				return
			case tt.want != nil:
				wantErr(t, err, tt.want)
				return
			case err != nil:
				t.Fatal(err)
			}
			for i, id := range []string{"B01", "B01.00001", "B01.00002", "B01.00003"} {
				got, m, ok := c.StateOf(id)
				if !ok || got != tt.states[i] {
					t.Errorf("%s: %s (%v), want %s", id, got, ok, tt.states[i])
				}
				if m != nil && (m.ID != id || m.State != got || m.Reason != "复核 "+id || m.ChangedBy != "officerA" || m.TxID == "") {
					t.Errorf("%s decided by %+v", id, m)
				}
			}
			if !slices.IsSortedFunc(c.Members, func(a, b CertMember) int { return a.Index - b.Index }) {
				t.Errorf("members out of order: %+v", c.Members)
			}
			lastID := tt.steps[len(tt.steps)-1].id
			if ch.Event.Name != tt.event || ch.Event.ID != lastID || len(ch.Puts) != 1 || !reflect.DeepEqual(ch.Puts[0].Key, CertificateKey("B01")) ||
				c.TxID != "tx-2026-06-0"+strconv.Itoa(len(tt.steps)+1) || c.IssueTxID != "tx-2026-06-01" {
				t.Fatalf("event %+v puts %+v", ch.Event, ch.Puts)
			}
			if _, _, ok := c.StateOf("B01.00004"); ok {
				t.Error("StateOf holds a member beyond the batch")
			}
		})
	}
}

// TestAnchorIDsAreNotMemberIDs: an anchor's ID may not have the form of a
// batch member's certificate ID, which SetCertificateStatus reads as one.
func TestAnchorIDsAreNotMemberIDs(t *testing.T) {
	req := issueReq()
	req.ID = "cert.00001"
	_, err := IssueCertificate(req, nil, defaultRules(), "义乌市", officerA, txOn("2026-06-01"))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "id" || !strings.Contains(err.Error(), "batch member") {
		t.Fatalf("single: %v", err)
	}
	_, err = IssueCertificateBatch(IssueCertificateBatchRequest{BatchID: "B.00042", Subjects: []string{subject}, Purpose: PurposeLoan, ValidUntil: "2026-07-01"},
		make([][]Record, 1), defaultRules(), "义乌市", officerA, txOn("2026-06-01"))
	if !errors.As(err, &fe) || fe.Field != "batchId" {
		t.Fatalf("batch: %v", err)
	}
	for _, ok := range []string{"cert.0001", "cert.000011", "cert-00001", "B2026.07"} {
		req.ID = ok
		if _, err := IssueCertificate(req, nil, defaultRules(), "义乌市", officerA, txOn("2026-06-01")); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// TestCertificateDerivedExpiry: a valid certificate reads expired from the
// day after validUntil; a suspended one stays suspended.
func TestCertificateDerivedExpiry(t *testing.T) {
	c := &Certificate{State: CertValid, ValidUntil: MustDate("2026-09-01")}
	c.Derive(MustDate("2026-09-01"))
	if c.DerivedState != CertValid {
		t.Fatalf("on validUntil: %s", c.DerivedState)
	}
	c.Derive(MustDate("2026-09-02"))
	if c.DerivedState != CertExpired {
		t.Fatalf("after validUntil: %s", c.DerivedState)
	}
	c.State = CertSuspended
	c.Derive(MustDate("2026-09-02"))
	if c.DerivedState != CertSuspended {
		t.Fatalf("suspended: %s", c.DerivedState)
	}
}

// TestCertificateValidateAgreesWithChaincode: the clients' Validate on the
// certificate requests refuses what the operations refuse before they look
// at the transaction date, with the same field (as
// TestValidateAgreesWithChaincode for the record requests).
func TestCertificateValidateAgreesWithChaincode(t *testing.T) {
	tx := txOn("2026-06-01")
	cases := []IssueCertificateRequest{
		issueReq(),
		{ID: "x", Subject: subject, Purpose: PurposeLoan, ValidUntil: "2026-07-01"},
		{ID: "cert-2", Subject: "bad", Purpose: PurposeLoan, ValidUntil: "2026-07-01"},
		{ID: "cert-2", Subject: subject, Purpose: "", ValidUntil: "2026-07-01"},
		{ID: "cert-2", Subject: subject, Purpose: PurposeLoan, ValidUntil: "2026-02-30"},
	}
	for _, r := range cases {
		verr := r.Validate()
		_, oerr := IssueCertificate(r, nil, defaultRules(), "", officerA, tx)
		if (verr == nil) != (oerr == nil) || (verr != nil && verr.Error() != oerr.Error()) {
			t.Errorf("%+v: Validate %v, operation %v", r, verr, oerr)
		}
	}
	sr := SetCertificateStatusRequest{ID: "cert-1", Status: "gone", Reason: "r"}
	c := &Certificate{ID: "cert-1", County: "330782", State: CertValid}
	_, oerr := SetCertificateStatus(c, sr, officerA, tx)
	if verr := sr.Validate(); verr == nil || oerr == nil || verr.Error() != oerr.Error() {
		t.Errorf("status: Validate %v, operation %v", verr, oerr)
	}
}

// referenceCanonicalize is an independent RFC 8785 implementation on top
// of encoding/json's tokenizer, for differential fuzzing of Canonicalize.
func referenceCanonicalize(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var out bytes.Buffer
	var value func() error
	value = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '[' {
				out.WriteByte('[')
				for i := 0; dec.More(); i++ {
					if i > 0 {
						out.WriteByte(',')
					}
					if err := value(); err != nil {
						return err
					}
				}
				_, err := dec.Token()
				out.WriteByte(']')
				return err
			}
			type kv struct {
				k string
				v []byte
			}
			var ms []kv
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				saved := out
				out = bytes.Buffer{}
				if err := value(); err != nil {
					return err
				}
				ms = append(ms, kv{kt.(string), slices.Clone(out.Bytes())})
				out = saved
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			slices.SortStableFunc(ms, func(a, b kv) int { return slices.Compare(utf16.Encode([]rune(a.k)), utf16.Encode([]rune(b.k))) })
			out.WriteByte('{')
			for i, m := range ms {
				if i > 0 {
					if ms[i-1].k == m.k {
						return errors.New("duplicate")
					}
					out.WriteByte(',')
				}
				out.Write(appendCanonString(nil, m.k))
				out.WriteByte(':')
				out.Write(m.v)
			}
			out.WriteByte('}')
		case string:
			out.Write(appendCanonString(nil, t))
		case json.Number:
			s, err := canonNumber(t)
			if err != nil {
				return err
			}
			out.WriteString(s)
		case bool:
			out.WriteString(strconv.FormatBool(t))
		case nil:
			out.WriteString("null")
		}
		return nil
	}
	if err := value(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return out.Bytes(), nil
}

// FuzzCanonicalizeMatchesReference: the byte-scanning canonicaliser agrees
// with a tokenizer-based one on every input: both refuse it, or both give
// the same bytes.
func FuzzCanonicalizeMatchesReference(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[true,null,"x"]}`, `"\u2028<>\ud800x\udc00"`, `1e21`, `{"é":{"e":0.1,"E":-0}}`, `[]`, `{"a":1,"a":2}`, "\"\xff\"", `[1,2,]`, `012`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err1 := Canonicalize(in)
		want, err2 := referenceCanonicalize(in)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%q: Canonicalize err %v, reference err %v", in, err1, err2)
		}
		if err1 == nil && !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", in, got, want)
		}
	})
}

// TestCanonicalStatusCapturesSubject: CanonicalStatus gives Canonicalize's
// bytes and the top-level subject and asOf (not nested ones).
func TestCanonicalStatusCapturesSubject(t *testing.T) {
	doc := []byte(` {"x":{"subject":"inner"},"subject":"91330782MA2EXAMPLA","asOf":"2026-06-01T02:00:00Z"} `)
	c, subj, at, err := CanonicalStatus(doc)
	want, _ := Canonicalize(doc)
	if err != nil || !bytes.Equal(c, want) || subj != "91330782MA2EXAMPLA" || at != "2026-06-01T02:00:00Z" {
		t.Fatalf("%s %q %q %v", c, subj, at, err)
	}
	if _, _, _, err := CanonicalStatus([]byte(`{"subject":1,}`)); err == nil {
		t.Fatal("accepted bad JSON")
	}
}

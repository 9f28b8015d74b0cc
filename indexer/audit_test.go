package indexer

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/internal/blockgen"
	"github.com/countycredit/creditledger/indexer/keys"
)

const (
	mspA, mspB, mspC = "County330782MSP", "County330783MSP", "County371324MSP"
	codeA, codeB     = "330782", "330783"
)

// auditChain is a chain whose block 1 registers counties A and B and
// block 2 holds txs.
func auditChain(t *testing.T, txs ...blockgen.Tx) []*common.Block {
	t.Helper()
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	c := blockgen.NewChain("credit")
	register := func(code, mspID, creator string) blockgen.Tx {
		v, _ := json.Marshal(credit.County{Kind: credit.TypeCounty, Code: code, Name: code, MSPID: mspID})
		return blockgen.Tx{Time: at, MSP: creator, Endorsers: []string{creator}, RWSets: []blockgen.NsRWSet{{Namespace: DefaultNamespace, Writes: []blockgen.Write{
			{Key: string(keys.CompositeKey(credit.TypeCounty, code)), Value: v},
			{Key: string(keys.CompositeKey(credit.TypeCountyMSP, mspID)), Value: []byte(code)},
		}}}}
	}
	for i := range txs {
		txs[i].Time = at
	}
	return []*common.Block{
		c.Config(at),
		c.Block(register(codeA, mspA, mspA), register(codeB, mspB, mspB)),
		c.Block(txs...),
	}
}

// recordTx creates (or updates) a record by creator, endorsed by endorsers.
func recordTx(kind, id, county, receivedBy, creator string, endorsers ...string) blockgen.Tx {
	v, _ := json.Marshal(map[string]string{"kind": kind, "id": id, "subject": "91330782MA2EXAMPLA", "county": county, "receivedBy": receivedBy, "state": "active"})
	return blockgen.Tx{MSP: creator, Endorsers: endorsers, RWSets: []blockgen.NsRWSet{{Namespace: DefaultNamespace, Writes: []blockgen.Write{
		{Key: string(keys.CompositeKey(kind, id)), Value: v},
	}}}}
}

// TestAuditCreations: a record created by another county's identity, or
// without its county's endorsement, is reported with its transaction; a
// repair or objection is created by the county that received it; updates,
// invalid transactions and honest creations are not reported; a county
// registered by another MSP is.
func TestAuditCreations(t *testing.T) {
	forgedRegistration := recordTx(credit.TypeCounty, "371324", "", "", mspB, mspB)
	forgedRegistration.RWSets[0].Writes[0].Value = []byte(`{"kind":"county","code":"371324","mspId":"` + mspC + `"}`)
	invalid := recordTx(credit.TypePunishment, "PN-INVALID", codeA, "", mspB, mspB, mspC)
	invalid.Code = peer.TxValidationCode_MVCC_READ_CONFLICT
	blocks := auditChain(t,
		recordTx(credit.TypePunishment, "PN-1", codeA, "", mspA, mspA, mspB),               // honest
		recordTx(credit.TypePunishment, "PN-1", codeA, "", mspA, mspA, mspB),               // an update: not a creation
		recordTx(credit.TypeRepair, "RP-1", codeA, codeB, mspB, mspB, mspC),                // received by B: honest
		recordTx(credit.TypeCommitment, "RP-1.commitment", codeA, codeB, mspB, mspB, mspC), // its commitment: honest
		recordTx(credit.TypePunishment, "PN-FORGED", codeA, "", mspB, mspB, mspC),          // B and C write A's record
		recordTx(credit.TypeCommitment, "CM-NOA", codeA, "", mspA, mspB, mspC),             // A's, without A's peer
		recordTx(credit.TypeObjection, "OB-1", codeA, codeA, mspB, mspA, mspB),             // says A received it; B created it
		recordTx(credit.TypeCertificate, "CRT-1", codeB, "", mspB, mspB, mspA),             // honest anchor
		recordTx(credit.TypeEnforcement, "EN-1", "371324", "", mspC, mspC, mspB),           // an unregistered county
		forgedRegistration, // B registers C's MSP
		invalid,            // never took effect
		recordTx(credit.TypeSubject, "x", codeA, "", mspB, mspB), // not a record key: the index check's
	)
	var got []string
	a := NewCreationAudit("")
	for _, b := range blocks {
		if err := a.Block(b, func(f AuditFinding) { got = append(got, f.Check+" "+f.Key+": "+f.Detail) }); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"creator punishment{PN-FORGED}: county 330782's punishment created by an identity of County330783MSP; its county, 330782, is County330782MSP",
		"endorsement punishment{PN-FORGED}: created without the endorsement of county 330782 (County330782MSP), its county; endorsed by County330783MSP, County371324MSP",
		"endorsement commitment{CM-NOA}: created without the endorsement of county 330782 (County330782MSP), its county; endorsed by County330783MSP, County371324MSP",
		"creator objection{OB-1}: county 330782's objection created by an identity of County330783MSP; the county that received it (receivedBy), 330782, is County330782MSP",
		"creator enforcement{EN-1}: created by an identity of County371324MSP for county 371324, its county, which was not registered",
		"creator county{371324}: county 371324 registered with MSP County371324MSP by an identity of County330783MSP (only an admin of the county's own MSP registers it)",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if a.Blocks != 3 || a.Creations != 11 {
		t.Fatalf("%d blocks, %d creations", a.Blocks, a.Creations)
	}
	// Blocks out of order are refused.
	if err := NewCreationAudit("").Block(blocks[1], func(AuditFinding) {}); err == nil {
		t.Fatal("block 1 first was accepted")
	}
}

// TestAuditCleanOnNetworkBlocks: the blocks captured from a real 3-county
// network (registrations, every record family, certificates, a chaincode
// upgrade, an MVCC conflict) give no finding in either check.
func TestAuditCleanOnNetworkBlocks(t *testing.T) {
	src := DirSource{Dir: "testdata/blocks/network"}
	blocks, err := ReadBlockDir(src.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var findings []AuditFinding
	a, err := AuditCreations(context.Background(), src, "", uint64(len(blocks)), func(f AuditFinding) { findings = append(findings, f) })
	if err != nil {
		t.Fatal(err)
	}
	db, _ := openMem(t)
	if err := db.Follow(context.Background(), sliceSource(blocks)); err != nil {
		t.Fatal(err)
	}
	ia, err := db.AuditIndexes(func(f AuditFinding) { findings = append(findings, f) })
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 0 {
		t.Fatalf("findings on an honest ledger: %v", findings)
	}
	if a.Creations < 10 || ia.Records < 10 || ia.Counties != 3 || ia.Entries < 2*ia.Records || ia.Height != uint64(len(blocks)) {
		t.Fatalf("checked too little: %d creations; %+v", a.Creations, ia)
	}
	t.Logf("%d blocks: %d creations; %+v", a.Blocks, a.Creations, ia)
	// Asked for more blocks than the source has: an error, not a clean audit.
	if _, err := AuditCreations(context.Background(), src, "", uint64(len(blocks))+1, func(AuditFinding) {}); err == nil {
		t.Fatal("a short source audited clean")
	}
}

// TestAuditIndexes: index entries without their record, or disagreeing
// with it, and records, anchors and counties without their entries, are
// each reported once, in key order. The records are the chaincode's own
// (the simulator); a colluders' transaction then tampers with the
// entries.
func TestAuditIndexes(t *testing.T) {
	subj := credit.CompleteCreditCode("91330782MA2EXAMPL")
	s := newSim("credit")
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	blocks := []*common.Block{s.chain.Config(at)}
	var txs []blockgen.Tx
	call := func(fn, arg, who string) {
		t.Helper()
		a := actor(who)
		b := &txBuilder{tx: blockgen.Tx{ID: s.txID(), Time: at, MSP: a.MSPID, Endorsers: []string{a.MSPID}}}
		if err := s.invoke(b, fn, []byte(arg), a); err != nil {
			t.Fatal(err)
		}
		tx := b.build()
		s.commit(tx)
		txs = append(txs, tx)
	}
	call("RegisterCounty", `{"code":"330782","name":"义乌市"}`, "330782/admin")
	call("RegisterCounty", `{"code":"330783","name":"东阳市"}`, "330783/admin")
	punish := `{"id":%q,"subject":%q,"kind":"publicity","severity":"general","decisionDate":"2026-03-01","decisionNo":"罚1","legalBasis":"法","measures":[]}`
	call("ImposePunishment", fmt.Sprintf(punish, "PN-1", subj), "330782")
	call("ImposePunishment", fmt.Sprintf(punish, "PN-2", subj), "330782")
	call("RevokePunishment", `{"id":"PN-2","reason":"撤销"}`, "330782")
	call("MakeCommitment", fmt.Sprintf(`{"id":"CM-1","kind":"voluntary","subject":%q,"content":"诚信"}`, subj), "330783")
	for _, id := range []string{"CRT-1", "CRT-2"} {
		ch, err := credit.IssueCertificate(credit.IssueCertificateRequest{ID: id, Subject: subj, Purpose: credit.PurposeLoan, ValidUntil: "2026-04-01"},
			nil, credit.WithDefault(nil), "义乌市", actor("330782"), credit.Tx{ID: s.txID(), Time: at})
		if err != nil {
			t.Fatal(err)
		}
		var ws []blockgen.Write
		for _, p := range ch.Puts {
			ws = append(ws, blockgen.Write{Key: ck(p.Key), Value: p.Value})
		}
		txs = append(txs, blockgen.Tx{Time: at, MSP: mspA, Endorsers: []string{mspA}, RWSets: []blockgen.NsRWSet{{Namespace: DefaultNamespace, Writes: ws}}})
	}
	blocks = append(blocks, s.chain.Block(txs...))
	db, _ := openMem(t)
	if err := db.Follow(context.Background(), sliceSource(blocks)); err != nil {
		t.Fatal(err)
	}
	clean, err := db.AuditIndexes(func(f AuditFinding) { t.Errorf("before tampering: %s", f) })
	if err != nil {
		t.Fatal(err)
	}
	if clean.Records != 3 || clean.Anchors != 2 || clean.Counties != 2 || clean.Entries != 2*3+2+2 {
		t.Fatalf("counts %+v", clean)
	}

	// What colluders with a chaincode of their own could write.
	entry := func(ot, v string, attrs ...string) blockgen.Write {
		return blockgen.Write{Key: string(keys.CompositeKey(ot, attrs...)), Value: []byte(v)}
	}
	gone := func(ot string, attrs ...string) blockgen.Write {
		return blockgen.Write{Key: string(keys.CompositeKey(ot, attrs...)), Delete: true}
	}
	forged := strings.Replace(string(s.get(credit.RecordKey(credit.TypePunishment, "PN-1"))), `"id":"PN-1"`, `"id":"PN-FORGED"`, 1)
	tamper := []blockgen.Write{
		// a punishment of A's, created by B, with its entries
		{Key: ck(credit.RecordKey(credit.TypePunishment, "PN-FORGED")), Value: []byte(forged)},
		entry(credit.TypeSubject, codeA, subj, credit.TypePunishment, "PN-FORGED"),
		entry(credit.TypeByCounty, subj, codeA, credit.TypePunishment, "active", "PN-FORGED"),
		gone(credit.TypeSubject, subj, credit.TypePunishment, "PN-2"),                    // hide PN-2 from its subject
		entry(credit.TypeByCounty, subj, codeA, credit.TypePunishment, "active", "PN-2"), // and list it active again
		gone(credit.TypeByCounty, codeA, credit.TypePunishment, "revoked", "PN-2"),
		entry(credit.TypeSubject, codeA, subj, credit.TypeCommitment, "CM-GHOST"), // an entry for no record
		entry(credit.TypeSubject, codeA, subj, credit.TypeCommitment, "CM-1"),     // CM-1 is county B's: its entry now says A
		gone(credit.TypeCertCounty, codeA, "CRT-2"),                               // unlist an anchor
		entry(credit.TypeCertCounty, codeB, codeB, "CRT-GHOST"),
		entry(credit.TypeCountyMSP, codeA, mspB), // re-point B's MSP at A
	}
	blocks = append(blocks, s.chain.Block(blockgen.Tx{Time: at, MSP: mspB, Endorsers: []string{mspB, mspC},
		RWSets: []blockgen.NsRWSet{{Namespace: DefaultNamespace, Writes: tamper}}}))
	if _, err := db.Apply(blocks[len(blocks)-1]); err != nil {
		t.Fatal(err)
	}
	var got []string
	ia, err := db.AuditIndexes(func(f AuditFinding) { got = append(got, f.Check+" "+f.Key+": "+f.Detail) })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"index subject{" + subj + ",commitment,CM-1}: commitment CM-1 is about " + subj + ", of county 330783; the entry says " + subj + ", of county 330782",
		"index subject{" + subj + ",commitment,CM-GHOST}: no commitment CM-GHOST exists",
		"index bycounty{330782,punishment,active,PN-2}: punishment PN-2 is of county 330782, revoked, about " + subj + "; the entry says county 330782, active, about " + subj,
		"index commitment{CM-1}: no subject index entry subject{" + subj + ",commitment,CM-1}: SubjectRecords and certificates do not see it",
		"index punishment{PN-2}: no subject index entry subject{" + subj + ",punishment,PN-2}: SubjectRecords and certificates do not see it",
		"index punishment{PN-2}: no bycounty index entry bycounty{330782,punishment,revoked,PN-2}: the county's lists do not show it",
		"index certcounty{330783,CRT-GHOST}: no certificate CRT-GHOST exists",
		"index certificate{CRT-2}: no certcounty entry certcounty{330782,CRT-2}: ListCertificates does not show it",
		"index countymsp{County330783MSP}: MSP County330783MSP is mapped to county 330782, whose registry entry names MSP County330782MSP",
		"index county{330783}: no countymsp entry maps MSP County330783MSP to it",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ia.Height != 3 || ia.Records != 4 {
		t.Fatalf("counts %+v", ia)
	}
	// The forged punishment has its entries: only the creation check sees
	// it. The index entries changed are no creations.
	got = nil
	a, err := AuditCreations(context.Background(), sliceSource(blocks), "", 3, func(f AuditFinding) { got = append(got, f.Check+" "+f.Key) })
	if err != nil || a.Creations != 2+3+2+1 {
		t.Fatalf("creations: %v, %d", err, a.Creations)
	}
	if want := []string{"creator punishment{PN-FORGED}", "endorsement punishment{PN-FORGED}"}; !slices.Equal(got, want) {
		t.Fatalf("creation findings %v, want %v", got, want)
	}
	saveBlocks(t, "testdata/blocks/forged", blocks)
}

// saveBlocks checks that the fixture dir holds blocks, byte for byte
// (-rewrite-blocks writes them): cli's `index audit` test reads them.
func saveBlocks(t *testing.T, dir string, blocks []*common.Block) {
	t.Helper()
	h := &harness{blocks: blocks}
	if _, err := h.save(dir); err != nil {
		t.Fatal(err)
	}
}

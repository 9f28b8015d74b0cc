package chaincode

import (
	"encoding/json"
	"slices"
	"testing"
)

// documentedTransactions is the list of DESIGN §5, writes then reads.
var documentedTransactions = []string{
	"RegisterCounty", "InstallRuleSet", "InstallCalendar",
	"MakeCommitment", "FulfilCommitment", "BreachCommitment",
	"ImposePunishment", "RevokePunishment", "RecordEnforcement",
	"ApplyRepair", "AcceptRepair", "CompleteRepair", "RejectRepair",
	"RaiseObjection", "AnswerObjection",
	"GetRecord", "SubjectRecords", "RecordHistory", "ListByCounty", "ListState",
	"GetRuleSets", "GetCalendar", "ListCounties",
	"IssueCertificate", "IssueCertificateBatch", "SetCertificateStatus",
	"GetCertificate", "CertificateHistory", "ListCertificates",
	"Noop", "BaselinePut",
}

var documentedReads = []string{"GetRecord", "SubjectRecords", "RecordHistory", "ListByCounty", "ListState", "GetRuleSets", "GetCalendar", "ListCounties",
	"GetCertificate", "CertificateHistory", "ListCertificates"}

// TestExportedTransactionsAreExactlyTheDocumentedOnes reads the contract
// metadata the chaincode serves (org.hyperledger.fabric:GetMetadata) and
// checks that the public transactions are exactly DESIGN §5's: no helper
// leaked into the public interface (fabric-samples' weak spot, STYLE.md).
func TestExportedTransactionsAreExactlyTheDocumentedOnes(t *testing.T) {
	n := newFakeNet(t)
	id := n.identity(mspA, "reader", "client", nil)
	out := n.ok(id, "org.hyperledger.fabric:GetMetadata", "")
	var md struct {
		Contracts map[string]struct {
			Transactions []struct {
				Name string   `json:"name"`
				Tags []string `json:"tag"`
			} `json:"transactions"`
		} `json:"contracts"`
	}
	if err := json.Unmarshal([]byte(out), &md); err != nil {
		t.Fatal(err)
	}
	c, ok := md.Contracts[ContractName]
	if !ok {
		t.Fatalf("no contract %q in metadata", ContractName)
	}
	var got, evaluate []string
	for _, tx := range c.Transactions {
		got = append(got, tx.Name)
		if slices.Contains(tx.Tags, "EVALUATE") || slices.Contains(tx.Tags, "evaluate") {
			evaluate = append(evaluate, tx.Name)
		}
	}
	want := slices.Clone(documentedTransactions)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("transactions:\n got %v\nwant %v", got, want)
	}
	slices.Sort(evaluate)
	wantEval := slices.Clone(documentedReads)
	slices.Sort(wantEval)
	if !slices.Equal(evaluate, wantEval) {
		t.Errorf("evaluate-tagged: got %v, want %v", evaluate, wantEval)
	}
	if len(md.Contracts) != 2 { // ours and org.hyperledger.fabric
		names := []string{}
		for k := range md.Contracts {
			names = append(names, k)
		}
		slices.Sort(names)
		t.Errorf("contracts: %v", names)
	}
}

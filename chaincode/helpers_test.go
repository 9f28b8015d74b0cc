package chaincode

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// Two counties of Jinhua, Zhejiang (seed 001's province) and one of Linyi,
// Shandong (seed 002).
const (
	codeA = "330782" // 义乌市
	codeB = "330783" // 东阳市
	codeC = "371321" // 沂南县
	mspA  = "County330782MSP"
	mspB  = "County330783MSP"
	mspC  = "County371321MSP"
)

// Enterprise subjects with valid check characters.
var (
	subjA  = credit.CompleteCreditCode("91330782MA2EXAMPL")
	subjA2 = credit.CompleteCreditCode("91330782MA2B00001")
)

type world struct {
	*fakeNet
	adminA, adminB, adminC       *fakeIdentity
	officerA, officerB, officerC *fakeIdentity
	creditOfficeA                *fakeIdentity
	auditorA, readerA            *fakeIdentity
}

// newWorld registers counties A, B and C and mints their staff.
func newWorld(t testing.TB) *world {
	t.Helper()
	n := newFakeNet(t)
	w := &world{fakeNet: n}
	w.adminA = n.identity(mspA, "Admin", "admin", nil)
	w.adminB = n.identity(mspB, "Admin", "admin", nil)
	w.adminC = n.identity(mspC, "Admin", "admin", nil)
	w.officerA = n.identity(mspA, "officerA", "client", map[string]string{"role": "officer", "dept": "market"})
	w.creditOfficeA = n.identity(mspA, "creditA", "client", map[string]string{"role": "officer", "dept": "credit-office"})
	w.officerB = n.identity(mspB, "officerB", "client", map[string]string{"role": "officer", "dept": "market"})
	w.officerC = n.identity(mspC, "officerC", "client", map[string]string{"role": "officer", "dept": "tax"})
	w.auditorA = n.identity(mspA, "auditorA", "client", map[string]string{"role": "auditor"})
	w.readerA = n.identity(mspA, "readerA", "client", nil)
	n.ok(w.adminA, "RegisterCounty", `{"code":"330782","name":"义乌市"}`)
	n.ok(w.adminB, "RegisterCounty", `{"code":"330783","name":"东阳市"}`)
	n.ok(w.adminC, "RegisterCounty", `{"code":"371321","name":"沂南县"}`)
	return w
}

// js marshals v for a request argument.
func js(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decode unmarshals a transaction result.
func decode[T any](t testing.TB, payload string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(payload), &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, payload, err)
	}
	return v
}

// wantCode checks that a chaincode message carries the code of sentinel
// and maps back to it.
func wantCode(t testing.TB, msg string, sentinel error) {
	t.Helper()
	err := credit.ErrorFromMessage(msg)
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %q: want %v (code %s)", msg, sentinel, credit.Code(sentinel))
	}
	if !strings.HasPrefix(msg, "["+credit.Code(sentinel)+"]") {
		t.Fatalf("error %q does not start with [%s]", msg, credit.Code(sentinel))
	}
}

// order58Set reads the shipped example rule file for NDRC Order No. 58.
func order58Set(t testing.TB) credit.RuleSet {
	t.Helper()
	b, err := os.ReadFile("credit/rules/ndrc-2023-order58.json")
	if err != nil {
		t.Fatal(err)
	}
	var rs credit.RuleSet
	if err := credit.DecodeRequest(b, &rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

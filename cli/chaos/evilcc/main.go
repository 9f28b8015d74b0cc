//go:build integration || chaos

// Command evilcc is a MALICIOUS build of the credit chaincode server, for
// the chaos tests only (package cli/chaos). It is compiled only under the
// integration or chaos build tag, by the test that runs it, and never
// shipped.
//
// It plays a hostile county that runs its own chaincode server (every
// county does, docs/NETWORK.md) from a modified binary under the same
// package ID. It serves the honest chaincode (chaincode.New) unchanged,
// except when its own county's client hides instructions in the
// proposal's transient data under the key "evil" (transient data is not
// part of the transaction, and the honest chaincode never reads it, so the
// other counties' peers behave honestly on the same proposal):
//
//	{"honest":   true,   run the honest transaction first (else return {} and only the writes below)
//	 "rewrite":  [{"from":"…","to":"…"}],  replaced in every key, value and event the honest run writes
//	 "policyMsp":"County330782MSP",        every key-level policy the honest run sets names this MSP instead
//	 "writes":   [{"objectType":"punishment","attrs":["pn-1"],
//	               "value":"…" | "delete":true | "policyMsp":"…"}]}  raw writes of the attacker's choice
//
// Whatever it writes is endorsed by its own peer only; the tests show that
// validation refuses it (chaincode-level MAJORITY for new keys, the owner's
// key-level policy for existing records).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/countycredit/creditledger/chaincode"
	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

// Instructions are what the hostile client asks its own chaincode to do.
type Instructions struct {
	Honest    bool      `json:"honest"`
	Rewrite   []Rewrite `json:"rewrite"`
	PolicyMSP string    `json:"policyMsp"`
	Writes    []Write   `json:"writes"`
}

// Rewrite replaces From by To.
type Rewrite struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Write is one raw write: a value, a delete, or only a key-level policy.
type Write struct {
	ObjectType string   `json:"objectType"`
	Attrs      []string `json:"attrs"`
	Value      string   `json:"value,omitempty"`
	Delete     bool     `json:"delete,omitempty"`
	PolicyMSP  string   `json:"policyMsp,omitempty"`
}

type evil struct {
	honest *contractapi.ContractChaincode
}

func (e evil) Init(stub shim.ChaincodeStubInterface) *peer.Response { return e.honest.Init(stub) }

func (e evil) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	tm, err := stub.GetTransient()
	if err != nil || tm["evil"] == nil {
		return e.honest.Invoke(stub)
	}
	var ins Instructions
	if err := json.Unmarshal(tm["evil"], &ins); err != nil {
		return shim.Error("evilcc: instructions: " + err.Error())
	}
	resp := shim.Success([]byte("{}"))
	if ins.Honest {
		resp = e.honest.Invoke(&rewriting{ChaincodeStubInterface: stub, ins: ins})
		if resp.Status != shim.OK {
			return resp
		}
		resp.Payload = []byte(ins.apply(string(resp.Payload)))
	}
	for _, w := range ins.Writes {
		if err := w.do(stub); err != nil {
			return shim.Error("evilcc: " + err.Error())
		}
	}
	return resp
}

func (ins Instructions) apply(s string) string {
	for _, r := range ins.Rewrite {
		s = strings.ReplaceAll(s, r.From, r.To)
	}
	return s
}

func policyFor(msp string) ([]byte, error) {
	ep, err := statebased.NewStateEP(nil)
	if err != nil {
		return nil, err
	}
	if err := ep.AddOrgs(statebased.RoleTypePeer, msp); err != nil {
		return nil, err
	}
	return ep.Policy()
}

func (w Write) do(stub shim.ChaincodeStubInterface) error {
	key, err := stub.CreateCompositeKey(w.ObjectType, w.Attrs)
	if err != nil {
		return err
	}
	switch {
	case w.Delete:
		return stub.DelState(key)
	case w.Value != "":
		if err := stub.PutState(key, []byte(w.Value)); err != nil {
			return err
		}
	}
	if w.PolicyMSP != "" {
		pol, err := policyFor(w.PolicyMSP)
		if err != nil {
			return err
		}
		return stub.SetStateValidationParameter(key, pol)
	}
	return nil
}

// rewriting is the stub the honest chaincode runs on: what it writes is
// rewritten on the way out.
type rewriting struct {
	shim.ChaincodeStubInterface
	ins Instructions
}

func (r *rewriting) PutState(key string, value []byte) error {
	return r.ChaincodeStubInterface.PutState(r.ins.apply(key), []byte(r.ins.apply(string(value))))
}

func (r *rewriting) DelState(key string) error {
	return r.ChaincodeStubInterface.DelState(r.ins.apply(key))
}

func (r *rewriting) SetStateValidationParameter(key string, ep []byte) error {
	if r.ins.PolicyMSP != "" {
		pol, err := policyFor(r.ins.PolicyMSP)
		if err != nil {
			return err
		}
		ep = pol
	}
	return r.ChaincodeStubInterface.SetStateValidationParameter(r.ins.apply(key), ep)
}

func (r *rewriting) SetEvent(name string, payload []byte) error {
	return r.ChaincodeStubInterface.SetEvent(name, []byte(r.ins.apply(string(payload))))
}

func main() {
	honest, err := chaincode.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "evilcc:", err)
		os.Exit(1)
	}
	srv := &shim.ChaincodeServer{
		CCID:     os.Getenv("CORE_CHAINCODE_ID_NAME"),
		Address:  os.Getenv("CHAINCODE_SERVER_ADDRESS"),
		CC:       evil{honest: honest},
		TLSProps: shim.TLSProperties{Disabled: true},
	}
	fmt.Fprintln(os.Stderr, "evilcc: serving", srv.CCID, "on", srv.Address)
	if err := srv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "evilcc:", err)
		os.Exit(1)
	}
}

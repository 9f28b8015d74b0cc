//go:build integration

package client_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// These tests run against the real network that `make test` brings up
// (network/with-network.sh sets CREDIT_TEST_PROFILE). They exercise the
// Gateway paths a peer CLI test cannot: endorsement plans chosen by the
// Gateway from the chaincode interest (creation needs MAJORITY, an update of
// another county's record needs that county), error mapping across the
// wire, MVCC retry, the block stream and commit-status resolution.

type profile struct {
	Channel   string `json:"channel"`
	Chaincode string `json:"chaincode"`
	Counties  []struct {
		Code     string `json:"code"`
		MSPID    string `json:"mspId"`
		UsersDir string `json:"usersDir"`
		Peers    []struct {
			Address      string `json:"address"`
			HostOverride string `json:"hostOverride"`
			TLSRootCert  string `json:"tlsRootCert"`
		} `json:"peers"`
	} `json:"counties"`
}

func loadProfile(t *testing.T) *profile {
	t.Helper()
	path := os.Getenv("CREDIT_TEST_PROFILE")
	if path == "" {
		t.Fatal("CREDIT_TEST_PROFILE is not set: run through `make test` (network/with-network.sh)")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p profile
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Counties) < 3 {
		t.Fatalf("profile has %d counties, want 3", len(p.Counties))
	}
	return &p
}

// connect returns a client for user (officer1, auditor1) of county i.
func connect(t *testing.T, p *profile, i int, user string) *client.Client {
	t.Helper()
	c := p.Counties[i]
	domain := filepath.Base(filepath.Dir(c.UsersDir))
	signer, err := client.LoadMSP(c.MSPID, filepath.Join(c.UsersDir, user+"@"+domain, "msp"))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.Connect(client.Config{
		Signer: signer, PeerAddress: c.Peers[0].Address, TLSRootCertFile: c.Peers[0].TLSRootCert,
		HostOverride: c.Peers[0].HostOverride, Channel: p.Channel, Chaincode: p.Chaincode,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

var run = time.Now().UTC().Format("150405.000")

func id(prefix string) string { return fmt.Sprintf("%s-%s", prefix, run) }

func subjectFor(code string) string {
	return credit.CompleteCreditCode("91" + code + "MA2CLNT01")
}

func TestGatewayEndToEnd(t *testing.T) {
	p := loadProfile(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a := connect(t, p, 0, "officer1")
	b := connect(t, p, 1, "officer1")
	auditorC := connect(t, p, 2, "auditor1")
	subject := subjectFor(p.Counties[0].Code)
	today := credit.DateOf(time.Now())

	// Creation: the Gateway must gather MAJORITY (two of three counties);
	// with the owner's key-level policy alone it would fail validation.
	com, res, err := a.MakeCommitment(ctx, credit.MakeCommitmentRequest{
		ID: id("com"), Kind: "missing-materials", Subject: subject, Content: "补交消防验收材料",
	})
	if err != nil {
		t.Fatalf("make commitment: %v", err)
	}
	if res.TxID == "" || res.BlockNumber == 0 || com.TxID != res.TxID {
		t.Fatalf("result %+v, record tx %s", res, com.TxID)
	}

	pun, _, err := a.ImposePunishment(ctx, credit.ImposePunishmentRequest{
		ID: id("pun"), Subject: subject, Kind: "publicity", Severity: "general",
		DecisionDate: today.AddMonths(-4).String(), DecisionNo: "义市监罚〔2026〕1号",
		LegalBasis: "《食品安全法》第一百二十四条", Measures: []string{"bidding", "procurement"},
	})
	if err != nil {
		t.Fatalf("impose: %v", err)
	}

	// A read from another county's peer sees it.
	rec, _, err := auditorC.GetRecord(ctx, credit.TypePunishment, pun.ID)
	if err != nil {
		t.Fatalf("read from county C: %v", err)
	}
	if got := rec.(*credit.Punishment); got.County != p.Counties[0].Code || got.DerivedState != credit.StateActive {
		t.Fatalf("read back %+v", got)
	}

	// County B records enforcement (its own record) and receives a repair
	// application for A's punishment: that writes A's punishment
	// (openRepairId), so the Gateway must include A's peer.
	if _, _, err := b.RecordEnforcement(ctx, credit.RecordEnforcementRequest{
		ID: id("enf"), PunishmentID: pun.ID, Measure: "bidding", Date: today.String(),
	}); err != nil {
		t.Fatalf("enforcement by B: %v", err)
	}
	ev := credit.Evidence{Identity: hash("id"), PenaltyFulfilled: hash("paid"), RepairCommitment: hash("promise")}
	rep, _, err := b.ApplyRepair(ctx, credit.ApplyRepairRequest{ID: id("rep"), PunishmentID: pun.ID, Evidence: ev})
	if err != nil {
		t.Fatalf("apply repair at B: %v", err)
	}
	if rep.County != p.Counties[0].Code || rep.ReceivedBy != p.Counties[1].Code {
		t.Fatalf("repair owner %s receivedBy %s", rep.County, rep.ReceivedBy)
	}

	// A chaincode refusal comes back as the credit sentinel with its tx ID.
	_, _, err = b.AcceptRepair(ctx, credit.RepairRequest{ID: rep.ID})
	var te *client.TxError
	if !errors.Is(err, credit.ErrForbidden) || !errors.As(err, &te) || te.TxID == "" || te.Stage != client.StageEndorse {
		t.Fatalf("B accepting A's repair: %v", err)
	}
	if _, _, err := a.AcceptRepair(ctx, credit.RepairRequest{ID: rep.ID}); err != nil {
		t.Fatalf("accept: %v", err)
	}
	done, _, err := a.CompleteRepair(ctx, credit.CompleteRepairRequest{ID: rep.ID})
	if err != nil {
		t.Fatalf("complete (general, decided four months ago): %v", err)
	}
	if done.State != credit.StateCompleted {
		t.Fatalf("repair state %s", done.State)
	}

	// Bad input is refused by the chaincode too, naming the field.
	wrong := "0"
	if subject[17] == '0' {
		wrong = "1"
	}
	_, _, err = a.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: id("bad"), Kind: "voluntary", Subject: subject[:17] + wrong, Content: "x"})
	if !errors.Is(err, credit.ErrInvalid) {
		t.Fatalf("bad check character: %v", err)
	}

	// The commit status of a known transaction, and of an unknown one.
	code, found, err := a.TransactionStatus(ctx, res.TxID)
	if err != nil || !found || code != peer.TxValidationCode_VALID {
		t.Fatalf("status of %s: %v %v %v", res.TxID, code, found, err)
	}
	_, found, err = a.TransactionStatus(ctx, "0000000000000000000000000000000000000000000000000000000000000000")
	if err != nil || found {
		t.Fatalf("status of an unknown tx: found %v err %v", found, err)
	}
}

// TestReadConflictIsRetried: two repair applications for one punishment
// race; both read and write the punishment (openRepairId). The loser is
// invalidated with MVCC_READ_CONFLICT, retried, and then refused by the
// rule "at most one open repair" (STATE) — never a second open repair.
func TestReadConflictIsRetried(t *testing.T) {
	p := loadProfile(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a := connect(t, p, 0, "officer1")
	subject := subjectFor(p.Counties[0].Code)
	pun, _, err := a.ImposePunishment(ctx, credit.ImposePunishmentRequest{
		ID: id("race"), Subject: subject, Kind: "publicity", Severity: "general",
		DecisionDate: credit.DateOf(time.Now()).AddMonths(-1).String(), DecisionNo: "义市监罚〔2026〕2号",
		LegalBasis: "《广告法》第五十五条", Measures: []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	ev := credit.Evidence{Identity: hash("id"), PenaltyFulfilled: hash("paid"), RepairCommitment: hash("promise")}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	results := make([]client.Result, 2)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, results[i], errs[i] = a.ApplyRepair(ctx, credit.ApplyRepairRequest{ID: fmt.Sprintf("%s-r%d", pun.ID, i), PunishmentID: pun.ID, Evidence: ev})
		}(i)
	}
	wg.Wait()
	ok, refused := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, credit.ErrState):
			refused++
			t.Logf("application %d refused after %d attempt(s): %v", i, results[i].Attempts, err)
		default:
			t.Fatalf("application %d: %v", i, err)
		}
	}
	if ok != 1 || refused != 1 {
		t.Fatalf("%d succeeded and %d refused, want 1 and 1", ok, refused)
	}
}

func TestBlockStream(t *testing.T) {
	p := loadProfile(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := connect(t, p, 0, "auditor1")
	s, err := a.OpenBlocks(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for want := uint64(0); want < 5; want++ {
		b, err := s.Recv()
		if err != nil {
			t.Fatalf("block %d: %v", want, err)
		}
		if b.GetHeader().GetNumber() != want {
			t.Fatalf("got block %d, want %d", b.GetHeader().GetNumber(), want)
		}
	}
	// Once the context ends, Recv says so instead of hanging or closing
	// silently.
	cancel()
	for {
		if _, err := s.Recv(); err != nil {
			if !errors.Is(err, context.Canceled) && !isCanceled(err) {
				t.Fatalf("after cancel: %v", err)
			}
			break
		}
	}
}

func TestBlockStreamReportsDeliverStatus(t *testing.T) {
	p := loadProfile(t)
	p.Channel = "nosuchchannel"
	a := connect(t, p, 0, "auditor1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := a.OpenBlocks(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Recv()
	if err == nil {
		t.Fatal("a stream of a channel that does not exist delivered a block")
	}
	t.Logf("unknown channel: %v", err)
}

func isCanceled(err error) bool {
	return status.Code(errors.Unwrap(err)) == codes.Canceled || strings.Contains(err.Error(), "context canceled")
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

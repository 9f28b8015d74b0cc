package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/network"
)

// Ledger is what the record commands need from the ledger: the typed
// chaincode calls of *client.Client. Commands take a func returning a
// Ledger so their run functions are tested with a fake, and so a command
// that refuses its input never connects.
type Ledger interface {
	RegisterCounty(context.Context, credit.RegisterCountyRequest) (*credit.County, client.Result, error)
	InstallRuleSet(context.Context, credit.RuleSet) (*credit.RuleSet, client.Result, error)
	InstallCalendar(context.Context, credit.Calendar) (*credit.Calendar, client.Result, error)
	MakeCommitment(context.Context, credit.MakeCommitmentRequest) (*credit.Commitment, client.Result, error)
	FulfilCommitment(context.Context, credit.FulfilCommitmentRequest) (*credit.Commitment, client.Result, error)
	BreachCommitment(context.Context, credit.BreachCommitmentRequest) (*credit.Commitment, client.Result, error)
	ImposePunishment(context.Context, credit.ImposePunishmentRequest) (*credit.Punishment, client.Result, error)
	RevokePunishment(context.Context, credit.RevokePunishmentRequest) (*credit.Punishment, client.Result, error)
	RecordEnforcement(context.Context, credit.RecordEnforcementRequest) (*credit.Enforcement, client.Result, error)
	ApplyRepair(context.Context, credit.ApplyRepairRequest) (*credit.Repair, client.Result, error)
	AcceptRepair(context.Context, credit.RepairRequest) (*credit.Repair, client.Result, error)
	CompleteRepair(context.Context, credit.CompleteRepairRequest) (*credit.Repair, client.Result, error)
	RejectRepair(context.Context, credit.RejectRepairRequest) (*credit.Repair, client.Result, error)
	RaiseObjection(context.Context, credit.RaiseObjectionRequest) (*credit.Objection, client.Result, error)
	AnswerObjection(context.Context, credit.AnswerObjectionRequest) (*credit.Objection, client.Result, error)

	GetRecord(ctx context.Context, kind, id string) (credit.Record, client.Result, error)
	SubjectRecords(ctx context.Context, subject string) (*credit.SubjectRecordsResult, client.Result, error)
	RecordHistory(ctx context.Context, kind, id string) ([]credit.HistoryEntry, client.Result, error)
	ListByCounty(context.Context, credit.ListByCountyRequest) (*credit.ListByCountyResult, client.Result, error)
	GetRuleSets(context.Context) ([]credit.RuleSet, client.Result, error)
	GetCalendar(ctx context.Context, year int) (*credit.Calendar, client.Result, error)
	ListCounties(context.Context) ([]credit.County, client.Result, error)
	TransactionStatus(ctx context.Context, txID string) (code peer.TxValidationCode, found bool, err error)

	Close() error
}

var _ Ledger = (*client.Client)(nil)

// Profile loads the network profile named by the settings.
func (f *Factory) Profile() (*network.Profile, error) {
	if f.profile != nil {
		return f.profile, nil
	}
	s, err := f.Settings()
	if err != nil {
		return nil, err
	}
	p, err := network.LoadProfile(s.Profile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no network profile at %s: start the network (make network-up, or creditctl network up) or name one with --profile or %s", s.Profile, envProfile)
	}
	if err != nil {
		return nil, err
	}
	f.profile = p
	return p, nil
}

// Caller is who a ledger command acts as: the county, its peer and the
// identity's MSP folder, as resolved from the settings and the profile.
type Caller struct {
	County *network.CountyProfile
	Peer   network.PeerProfile
	MSPDir string
}

// Caller resolves the county (the --county setting, or the profile's first
// county), the peer and the MSP folder. A county or peer the profile does
// not know is an error naming the ones it does.
func (f *Factory) Caller() (*Caller, error) {
	s, err := f.Settings()
	if err != nil {
		return nil, err
	}
	p, err := f.Profile()
	if err != nil {
		return nil, err
	}
	var c *network.CountyProfile
	if s.County == "" {
		c = &p.Counties[0]
	} else if c, err = p.County(s.County); err != nil {
		return nil, fmt.Errorf("county: %w", err)
	}
	if len(c.Peers) == 0 {
		return nil, fmt.Errorf("county %s has no peer in profile %s", c.Code, s.Profile)
	}
	pe := c.Peers[0]
	if s.Peer != "" {
		found := false
		var names []string
		for _, x := range c.Peers {
			names = append(names, x.Name)
			if x.Name == s.Peer {
				pe, found = x, true
			}
		}
		if !found {
			return nil, fmt.Errorf("peer %q is not a peer of county %s (peers: %v): %w", s.Peer, c.Code, names, network.ErrInvalid)
		}
	}
	dir := s.MSP
	if dir == "" {
		dir = c.UserMSPDir(s.User)
	}
	return &Caller{County: c, Peer: pe, MSPDir: dir}, nil
}

// callerAs is Caller, with the county's admin MSP folder for an admin
// command when no identity was named.
func (f *Factory) callerAs(admin bool) (*Caller, error) {
	c, err := f.Caller()
	if err != nil {
		return nil, err
	}
	if s, _ := f.Settings(); admin && !s.IdentitySet {
		c.MSPDir = c.County.AdminMSP
	}
	return c, nil
}

// CountyCode is the caller's county code, for generated record IDs and list
// defaults; it reads the profile only when --county is not set.
func (f *Factory) CountyCode() (string, error) {
	s, err := f.Settings()
	if err != nil {
		return "", err
	}
	if s.County != "" {
		return s.County, nil
	}
	c, err := f.Caller()
	if err != nil {
		return "", err
	}
	return c.County.Code, nil
}

// Ledger connects to the ledger as the caller. Tests replace it with
// f.Connect. The caller closes the Ledger.
func (f *Factory) Ledger(ctx context.Context) (Ledger, error) {
	return f.connect(ctx, false)
}

// AdminLedger connects as the county's admin (the profile's adminMsp)
// unless an identity was named with --user or --msp (or their environment
// variables or config keys): registering the county and installing rule
// sets and calendars need the admin role.
func (f *Factory) AdminLedger(ctx context.Context) (Ledger, error) {
	return f.connect(ctx, true)
}

func (f *Factory) connect(ctx context.Context, admin bool) (Ledger, error) {
	if f.Connect != nil {
		return f.Connect(ctx)
	}
	c, err := f.callerAs(admin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(c.MSPDir); err != nil {
		s, _ := f.Settings()
		return nil, fmt.Errorf("identity %q of county %s: no MSP folder at %s; issue one with `creditctl identity issue --county %s --name %s --role officer --dept <dept>`, or name one with --msp",
			s.User, c.County.Code, c.MSPDir, c.County.Code, s.User)
	}
	signer, err := client.LoadMSP(c.County.MSPID, c.MSPDir)
	if err != nil {
		return nil, err
	}
	p, _ := f.Profile()
	s, _ := f.Settings()
	return client.Connect(client.Config{
		Signer:          signer,
		PeerAddress:     c.Peer.Address,
		TLSRootCertFile: c.Peer.TLSRootCert,
		HostOverride:    c.Peer.HostOverride,
		Channel:         p.Channel,
		Chaincode:       p.Chaincode,
		OnRetry:         f.retryNotice,
		Timeouts:        client.Timeouts{CommitStatus: s.commitTimeout},
	})
}

// retryNotice tells the operator, on stderr, why a write is being tried
// again (client.Retry: read conflicts, lagging peers).
func (f *Factory) retryNotice(err error, pause time.Duration) {
	var why string
	switch {
	case errors.Is(err, client.ErrNoPlan):
		why = "the peers do not all know each other yet (a network that has just started needs a few seconds)"
	case errors.Is(err, credit.ErrNotFound):
		why = "a record it refers to is not on this county's peer yet (written a moment ago through another county?)"
	case errors.Is(err, client.ErrConflict):
		why = "another transaction changed the same record at the same time"
	case errors.Is(err, client.ErrOrderingUnavailable):
		why = "no orderer could take the transaction (the orderers are electing a leader, or one is down): the same transaction is sent again"
	default:
		why = "a transient refusal"
	}
	fmt.Fprintf(f.IO.ErrOut, "creditctl: %s; trying again in %s\n", why, pause)
}

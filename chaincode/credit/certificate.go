package credit

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Blockchain credit certificates (社会信用区块链证书, seed 004): a
// credit-status report about one subject, computed by the chaincode from the
// subject's records at the issuing transaction, whose digest is anchored on
// the ledger so that it can be verified, suspended and revoked. See
// docs/CERTIFICATES.md.

// Object types of certificate keys (DESIGN §7). Never change one.
const (
	// TypeCertificate is the anchor of a certificate or of a batch.
	TypeCertificate = "certificate"
	// TypeCertCounty indexes anchors under the issuing county; it carries no
	// key-level policy, so an issuance's endorsement plan keeps MAJORITY
	// (DESIGN §7).
	TypeCertCounty = "certcounty"
)

// CertificateKey is the key of a certificate or batch anchor.
func CertificateKey(id string) Key { return Key{TypeCertificate, []string{id}} }

// CertCountyKey indexes an anchor under its issuing county; the value is
// the issuing county code.
func CertCountyKey(county, id string) Key { return Key{TypeCertCounty, []string{county, id}} }

// Certificate purposes (JSON values; never change one).
const (
	PurposeBidding = "bidding" // 招投标
	PurposeLoan    = "loan"    // 贷款
	PurposeLicence = "licence" // 行政许可
	PurposeOther   = "other"   // 其他
)

// Purposes lists the purposes in a fixed order.
var Purposes = []string{PurposeBidding, PurposeLoan, PurposeLicence, PurposeOther}

// PurposeLabel is the Chinese label of a purpose ("" for an unknown one).
func PurposeLabel(p string) string {
	switch p {
	case PurposeBidding:
		return "招投标"
	case PurposeLoan:
		return "贷款"
	case PurposeLicence:
		return "行政许可"
	case PurposeOther:
		return "其他"
	}
	return ""
}

// Certificate states (the anchor's stored state). Revoked is final.
const (
	CertValid     = "valid"
	CertSuspended = "suspended"
	CertRevoked   = "revoked"
	// CertExpired is derived (valid, and the transaction date is after
	// validUntil), never stored.
	CertExpired = "expired"
)

// CertificateStates are the states SetCertificateStatus accepts.
var CertificateStates = []string{CertValid, CertSuspended, CertRevoked}

// StatusFormat identifies the layout of CertificateStatus.
const StatusFormat = "credit-status/1"

// RepairedLabel labels a completed repair in a status (已修复).
const RepairedLabel = "已修复"

// Limits of certificate requests.
const (
	// MaxBatchSubjects bounds the subjects of one IssueCertificateBatch.
	// The chaincode computes 10,000 statuses in one transaction; a real
	// network's message sizes set a lower practical bound (see
	// docs/CERTIFICATES.md, "Batch size").
	MaxBatchSubjects = 10000
	// MaxValidityMonths bounds validUntil: at most 12 months after the
	// transaction date. A certificate speaks for one moment; a long
	// validity makes a stale status look current.
	MaxValidityMonths = 12
	// memberIDWidth is the zero-padded width of a batch member's number.
	memberIDWidth = 5
)

// MemberID is the certificate ID of the member with leaf index i (0-based)
// of batch batchID: batchID + "." + the 1-based number, zero-padded to five
// digits ("B2026-07.00001" is leaf 0).
func MemberID(batchID string, i int) string {
	return batchID + "." + fmt.Sprintf("%0*d", memberIDWidth, i+1)
}

// ParseMemberID splits a member certificate ID into its batch ID and leaf
// index. ok is false if id has no member suffix.
func ParseMemberID(id string) (batchID string, index int, ok bool) {
	dot := strings.LastIndexByte(id, '.')
	if dot <= 0 || len(id)-dot-1 != memberIDWidth {
		return "", 0, false
	}
	n, err := strconv.Atoi(id[dot+1:])
	if err != nil || n < 1 || id[dot+1] == '+' || id[dot+1] == '-' {
		return "", 0, false
	}
	return id[:dot], n - 1, true
}

// IssueCertificateRequest is the argument of IssueCertificate.
type IssueCertificateRequest struct {
	ID         string `json:"id"`
	Subject    string `json:"subject"`
	Purpose    string `json:"purpose"`
	ValidUntil string `json:"validUntil"`
	Note       string `json:"note,omitempty"`
}

// IssueCertificateBatchRequest is the argument of IssueCertificateBatch.
type IssueCertificateBatchRequest struct {
	BatchID    string   `json:"batchId"`
	Subjects   []string `json:"subjects"`
	Purpose    string   `json:"purpose"`
	ValidUntil string   `json:"validUntil"`
	Note       string   `json:"note,omitempty"`
}

// SetCertificateStatusRequest is the argument of SetCertificateStatus.
type SetCertificateStatusRequest struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// CertificateRequest is the argument of GetCertificate and
// CertificateHistory.
type CertificateRequest struct {
	ID string `json:"id"`
}

// ListCertificatesRequest is the argument of ListCertificates.
type ListCertificatesRequest struct {
	County   string `json:"county"`
	PageSize int    `json:"pageSize"`
	Bookmark string `json:"bookmark,omitempty"`
}

// ListCertificatesResult is the result of ListCertificates.
type ListCertificatesResult struct {
	Certificates []Certificate `json:"certificates"`
	Bookmark     string        `json:"bookmark"`
}

// Certificate is the ledger anchor of one certificate, or of a batch of
// certificates under one Merkle root. Its leading fields are those of a
// record (DESIGN §8): County is the issuing county, CreatedBy the issuing
// officer (the caller's GetID()), TxID the last transaction that wrote it.
type Certificate struct {
	Kind       string `json:"kind"` // "certificate"
	ID         string `json:"id"`
	Subject    string `json:"subject,omitempty"` // single certificate; "" for a batch
	County     string `json:"county"`
	Department string `json:"department"`
	State      string `json:"state"` // valid | suspended | revoked
	CreatedAt  string `json:"createdAt"`
	CreatedBy  string `json:"createdBy"`
	UpdatedAt  string `json:"updatedAt"`
	TxID       string `json:"txId"`
	Purpose    string `json:"purpose"`
	// Digest is the hex SHA-256 of the canonical status (single certificate).
	Digest string `json:"digest,omitempty"`
	// MerkleRoot and Count describe a batch: the tree head over its Count
	// member certificates.
	MerkleRoot string `json:"merkleRoot,omitempty"`
	Count      int    `json:"count,omitempty"`
	ValidFrom  Date   `json:"validFrom"`
	ValidUntil Date   `json:"validUntil"`
	// IssuedAt and IssueTxID are the issuing transaction's time and ID; the
	// status speaks as of that transaction.
	IssuedAt  string `json:"issuedAt"`
	IssueTxID string `json:"issueTxId"`
	Note      string `json:"note,omitempty"`
	// StatusReason and StatusChangedBy record the last status change.
	StatusReason    string `json:"statusReason,omitempty"`
	StatusChangedBy string `json:"statusChangedBy,omitempty"`
	// Members are the batch members whose status was changed on their
	// own (SetCertificateStatus with a member's certificate ID), by leaf
	// index; a member not listed has the batch's state.
	Members      []CertMember `json:"members,omitempty"`
	DerivedState string       `json:"derivedState,omitempty"`
}

// CertMember is the status of one member of a batch, changed apart from
// the batch's: the last change, with its reason, officer, time and
// transaction.
type CertMember struct {
	ID        string `json:"id"`    // MemberID(batch, Index)
	Index     int    `json:"index"` // leaf index, 0-based
	State     string `json:"state"` // valid | suspended | revoked
	Reason    string `json:"reason"`
	ChangedBy string `json:"changedBy"`
	ChangedAt string `json:"changedAt"`
	TxID      string `json:"txId"`
}

// Member returns the status entry of leaf index i of a batch, or nil if
// that member's status was never changed on its own.
func (c *Certificate) Member(i int) *CertMember {
	j, ok := slices.BinarySearchFunc(c.Members, i, func(m CertMember, i int) int { return m.Index - i })
	if !ok {
		return nil
	}
	return &c.Members[j]
}

// StateOf returns the state of certificate id under this anchor, with the
// member entry that decides it (nil when the anchor's own state does). For
// the anchor's own ID it is the anchor's state. For a member of a batch
// the more restrictive of the batch's state and the member's wins:
// revoked if either is, else suspended if either is, else valid. ok is
// false if id is neither the anchor's ID nor one of its members'.
func (c *Certificate) StateOf(id string) (state string, m *CertMember, ok bool) {
	if id == c.ID {
		return c.State, nil, true
	}
	batch, i, isMember := ParseMemberID(id)
	if !isMember || batch != c.ID || !c.IsBatch() || i >= c.Count {
		return "", nil, false
	}
	m = c.Member(i)
	if m == nil {
		return c.State, nil, true
	}
	for _, s := range []string{CertRevoked, CertSuspended} {
		switch s {
		case c.State:
			return s, nil, true
		case m.State:
			return s, m, true
		}
	}
	return CertValid, nil, true
}

// IsBatch reports whether the anchor is a batch anchor.
func (c *Certificate) IsBatch() bool { return c.MerkleRoot != "" }

// Derive sets DerivedState: expired for a valid certificate whose validUntil
// is before today.
func (c *Certificate) Derive(today Date) {
	c.DerivedState = c.State
	if c.State == CertValid && today.After(c.ValidUntil) {
		c.DerivedState = CertExpired
	}
}

// CertificateStatus is the credit status a certificate states (JSON, no
// maps; the digest is over its canonical form, CanonicalJSON). It is
// computed by the chaincode from the subject's records as of the issuing
// transaction. Lists are never null.
type CertificateStatus struct {
	Format      string `json:"format"` // StatusFormat
	Subject     string `json:"subject"`
	SubjectKind string `json:"subjectKind"` // enterprise | person
	// AsOf is the issuing transaction's timestamp; AsOfDate its UTC+8 date,
	// the "today" of every derived state below.
	AsOf     string `json:"asOf"`
	AsOfDate Date   `json:"asOfDate"`
	// NoAdverseRecord is true iff there is no active punishment and no
	// overdue or breached commitment. It is part of the signed, anchored
	// content: "no adverse record" is itself a claim.
	NoAdverseRecord bool `json:"noAdverseRecord"`
	// Punishments are the active punishments still in publicity.
	Punishments []StatusPunishment `json:"punishments"`
	Commitments StatusCommitments  `json:"commitments"`
	// Repairs are the completed repairs (已修复).
	Repairs []StatusRepair `json:"repairs"`
	// Enforcements are the recorded enforcements of the active punishments.
	Enforcements []StatusEnforcement `json:"enforcements"`
	// RuleSets are the rule-set versions applied to the punishments listed
	// here and behind the repairs, sorted; RuleSetInForce is the version in
	// force on AsOfDate.
	RuleSets       []string `json:"ruleSets"`
	RuleSetInForce string   `json:"ruleSetInForce"`
}

// StatusPunishment is an active punishment in a status.
type StatusPunishment struct {
	ID             string   `json:"id"`
	County         string   `json:"county"` // imposing county
	Department     string   `json:"department"`
	PunishmentKind string   `json:"punishmentKind"`
	Severity       string   `json:"severity"`
	DecisionDate   Date     `json:"decisionDate"`
	DecisionNo     string   `json:"decisionNo"`
	Measures       []string `json:"measures"`
	// PublicityEnd is the end of the maximum publicity period (maxEnd).
	PublicityEnd Date   `json:"publicityEnd"`
	MinEnd       Date   `json:"minEnd,omitzero"`
	Repairable   bool   `json:"repairable"`
	RuleSet      string `json:"ruleSet"`
	// OpenRepairID is the subject's applied or accepted repair of this
	// punishment, if any (from the repair records).
	OpenRepairID string `json:"openRepairId,omitempty"`
}

// StatusCommitments groups the subject's commitments that matter to a
// certificate: open (made, not overdue), overdue, and breached.
type StatusCommitments struct {
	Open     []StatusCommitment `json:"open"`
	Overdue  []StatusCommitment `json:"overdue"`
	Breached []StatusCommitment `json:"breached"`
}

// StatusCommitment is a commitment in a status.
type StatusCommitment struct {
	ID             string `json:"id"`
	County         string `json:"county"`
	CommitmentKind string `json:"commitmentKind"`
	MadeOn         Date   `json:"madeOn"`
	Deadline       Date   `json:"deadline,omitzero"`
	State          string `json:"state"` // made | overdue | breached
	ClosedAt       string `json:"closedAt,omitempty"`
	DishonestyID   string `json:"dishonestyId,omitempty"`
}

// StatusRepair is a completed repair in a status, labelled 已修复.
type StatusRepair struct {
	ID             string `json:"id"`
	County         string `json:"county"` // imposing county
	PunishmentID   string `json:"punishmentId"`
	PunishmentKind string `json:"punishmentKind"`
	Severity       string `json:"severity"`
	DecisionDate   Date   `json:"decisionDate,omitzero"`
	CompletedAt    string `json:"completedAt"`
	RuleSet        string `json:"ruleSet,omitempty"`
	Label          string `json:"label"` // RepairedLabel
}

// StatusEnforcement is an enforcement of an active punishment.
type StatusEnforcement struct {
	ID           string `json:"id"`
	County       string `json:"county"` // enforcing county
	PunishmentID string `json:"punishmentId"`
	Measure      string `json:"measure"`
	Date         Date   `json:"date"`
}

// ComputeCertificateStatus computes the credit status of subject from its
// records as of transaction tx. records must be every record whose subject
// index entry names subject (the chaincode range-reads the subject index,
// so Fabric's phantom-read check guarantees at commit that the set did not
// change). rules are the rule sets in force (WithDefault of the installed
// ones). The result depends only on its inputs: the same records give the
// same bytes.
func ComputeCertificateStatus(subject string, records []Record, rules []RuleSet, tx Tx) (*CertificateStatus, error) {
	kind, err := ParseSubject("subject", subject)
	if err != nil {
		return nil, err
	}
	today := tx.Date()
	s := &CertificateStatus{
		Format: StatusFormat, Subject: subject, SubjectKind: kind,
		AsOf: Instant(tx.Time), AsOfDate: today,
		Punishments:  []StatusPunishment{},
		Commitments:  StatusCommitments{Open: []StatusCommitment{}, Overdue: []StatusCommitment{}, Breached: []StatusCommitment{}},
		Repairs:      []StatusRepair{},
		Enforcements: []StatusEnforcement{},
		RuleSets:     []string{},
	}
	if len(rules) > 0 {
		s.RuleSetInForce = RuleSetAt(rules, today).Version
	}
	punishments := map[string]*Punishment{} // lookups only, never iterated
	var repairs, openRepairs []*Repair
	var enforcements []*Enforcement
	for _, rec := range records {
		h := rec.Head()
		if h.Subject != subject {
			return nil, fmt.Errorf("certificate status of %s: record %s %s is about %s", subject, h.Kind, h.ID, h.Subject)
		}
		rec.Derive(today)
		switch r := rec.(type) {
		case *Punishment:
			punishments[r.ID] = r
			if r.DerivedState == StateActive {
				s.Punishments = append(s.Punishments, StatusPunishment{
					ID: r.ID, County: r.County, Department: r.Department,
					PunishmentKind: r.PunishmentKind, Severity: r.Severity,
					DecisionDate: r.DecisionDate, DecisionNo: r.DecisionNo,
					Measures: nonNil(r.Measures), PublicityEnd: r.MaxEnd, MinEnd: r.MinEnd,
					Repairable: r.Repairable, RuleSet: r.RuleSet,
				})
			}
		case *Commitment:
			sc := StatusCommitment{
				ID: r.ID, County: r.County, CommitmentKind: r.CommitmentKind,
				MadeOn: r.MadeOn, Deadline: r.Deadline, State: r.DerivedState,
			}
			switch r.DerivedState {
			case StateMade:
				s.Commitments.Open = append(s.Commitments.Open, sc)
			case StateOverdue:
				s.Commitments.Overdue = append(s.Commitments.Overdue, sc)
			case StateBreached:
				sc.ClosedAt, sc.DishonestyID = r.ClosedAt, r.DishonestyID
				s.Commitments.Breached = append(s.Commitments.Breached, sc)
			}
		case *Repair:
			switch r.State {
			case StateCompleted:
				repairs = append(repairs, r)
			case StateApplied, StateAccepted:
				openRepairs = append(openRepairs, r)
			}
		case *Enforcement:
			enforcements = append(enforcements, r)
		}
	}
	ruleSets := []string{}
	for i := range s.Punishments {
		p := &s.Punishments[i]
		ruleSets = append(ruleSets, p.RuleSet)
		for _, r := range openRepairs {
			if r.PunishmentID == p.ID {
				p.OpenRepairID = r.ID
			}
		}
	}
	for _, r := range repairs {
		sr := StatusRepair{
			ID: r.ID, County: r.County, PunishmentID: r.PunishmentID, Severity: r.Severity,
			CompletedAt: r.ClosedAt, Label: RepairedLabel,
		}
		if p := punishments[r.PunishmentID]; p != nil {
			sr.PunishmentKind, sr.DecisionDate, sr.RuleSet = p.PunishmentKind, p.DecisionDate, p.RuleSet
			ruleSets = append(ruleSets, p.RuleSet)
		}
		s.Repairs = append(s.Repairs, sr)
	}
	for _, e := range enforcements {
		if p := punishments[e.PunishmentID]; p == nil || p.DerivedState != StateActive {
			continue
		}
		s.Enforcements = append(s.Enforcements, StatusEnforcement{
			ID: e.ID, County: e.County, PunishmentID: e.PunishmentID, Measure: e.Measure, Date: e.Date,
		})
	}
	slices.Sort(ruleSets)
	s.RuleSets = slices.Compact(ruleSets)
	byID := func(a, b string) int { return strings.Compare(a, b) }
	slices.SortFunc(s.Punishments, func(a, b StatusPunishment) int { return byID(a.ID, b.ID) })
	for _, l := range [][]StatusCommitment{s.Commitments.Open, s.Commitments.Overdue, s.Commitments.Breached} {
		slices.SortFunc(l, func(a, b StatusCommitment) int { return byID(a.ID, b.ID) })
	}
	slices.SortFunc(s.Repairs, func(a, b StatusRepair) int { return byID(a.ID, b.ID) })
	slices.SortFunc(s.Enforcements, func(a, b StatusEnforcement) int { return byID(a.ID, b.ID) })
	s.NoAdverseRecord = len(s.Punishments) == 0 && len(s.Commitments.Overdue) == 0 && len(s.Commitments.Breached) == 0
	return s, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// DigestBytes decodes a hex digest (64 lower-case hex characters) into a
// Hash.
func DigestBytes(hexDigest string) (Hash, error) {
	var h Hash
	ok := len(hexDigest) == 2*HashSize
	for i := 0; ok && i < len(hexDigest); i++ {
		c := hexDigest[i]
		ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
	}
	if !ok {
		return h, fmt.Errorf("digest %q is not 64 lower-case hex characters", hexDigest)
	}
	_, _ = hex.Decode(h[:], []byte(hexDigest))
	return h, nil
}

// IssueCertificateResult is the result of IssueCertificate: the anchor, the
// status in its canonical form (the exact bytes the digest covers), the
// digest, and the issuing county's registered name.
type IssueCertificateResult struct {
	Certificate *Certificate    `json:"certificate"`
	Status      json.RawMessage `json:"status"`
	Digest      string          `json:"digest"`
	IssuerName  string          `json:"issuerName"`
}

// BatchMember is one certificate of a batch: its ID, leaf index, subject,
// canonical status, digest and leaf hash (hex).
type BatchMember struct {
	ID      string          `json:"id"`
	Index   int             `json:"index"`
	Subject string          `json:"subject"`
	Digest  string          `json:"digest"`
	Leaf    string          `json:"leaf"`
	Status  json.RawMessage `json:"status"`
}

// IssueCertificateBatchResult is the result of IssueCertificateBatch.
type IssueCertificateBatchResult struct {
	Certificate *Certificate  `json:"certificate"`
	IssuerName  string        `json:"issuerName"`
	Members     []BatchMember `json:"members"`
}

// Validate checks an IssueCertificate request. validUntil must also be
// within MaxValidityMonths from the transaction date (checked by the
// chaincode).
func (r IssueCertificateRequest) Validate() error {
	if err := validateAnchorID("id", r.ID); err != nil {
		return err
	}
	if _, err := ParseSubject("subject", r.Subject); err != nil {
		return err
	}
	return validateIssueFields(r.Purpose, r.ValidUntil, r.Note)
}

// Validate checks an IssueCertificateBatch request, as IssueCertificate's.
func (r IssueCertificateBatchRequest) Validate() error {
	if err := validateAnchorID("batchId", r.BatchID); err != nil {
		return err
	}
	if err := ValidateBatchSubjects(r.Subjects); err != nil {
		return err
	}
	return validateIssueFields(r.Purpose, r.ValidUntil, r.Note)
}

// validateAnchorID checks the ID of a new anchor: an ID, and not of the
// form of a batch member's certificate ID (<batch>.NNNNN), which names a
// member in SetCertificateStatus.
func validateAnchorID(field, id string) error {
	if err := ValidateID(field, id); err != nil {
		return err
	}
	if batch, _, ok := ParseMemberID(id); ok {
		return invalid(field, "%q ends in '.' and five digits, the form of a batch member's certificate ID (member of %s); choose another ID", id, batch)
	}
	return nil
}

// Validate checks a SetCertificateStatus request.
func (r SetCertificateStatusRequest) Validate() error {
	if err := ValidateRef("id", r.ID); err != nil {
		return err
	}
	if !oneOf(r.Status, CertificateStates) {
		return invalid("status", "%q is not one of %v", r.Status, CertificateStates)
	}
	return validateText("reason", r.Reason, true, maxText)
}

func validateIssueFields(purpose, validUntil, note string) error {
	if !oneOf(purpose, Purposes) {
		return invalid("purpose", "%q is not one of %v (招投标, 贷款, 行政许可, 其他)", purpose, Purposes)
	}
	if _, err := validateDateField("validUntil", validUntil, true); err != nil {
		return err
	}
	return validateText("note", note, false, maxText)
}

// validityEnd checks validUntil against the transaction date: not before
// it, at most MaxValidityMonths after it.
func validityEnd(validUntil string, tx Tx) (Date, error) {
	until, err := validateDateField("validUntil", validUntil, true)
	if err != nil {
		return Date{}, err
	}
	today := tx.Date()
	if until.Before(today) {
		return Date{}, invalid("validUntil", "%s is before the issuing date %s", until, today)
	}
	if last := today.AddMonths(MaxValidityMonths); until.After(last) {
		return Date{}, invalid("validUntil", "%s is more than %d months after the issuing date %s (at most %s)", until, MaxValidityMonths, today, last)
	}
	return until, nil
}

func newCertificate(id, subject, purpose, note string, until Date, a Actor, tx Tx) *Certificate {
	now := Instant(tx.Time)
	return &Certificate{
		Kind: TypeCertificate, ID: id, Subject: subject, County: a.County, Department: a.Dept,
		State: CertValid, CreatedAt: now, CreatedBy: a.ID, UpdatedAt: now, TxID: tx.ID,
		Purpose: purpose, ValidFrom: tx.Date(), ValidUntil: until,
		IssuedAt: now, IssueTxID: tx.ID, Note: note,
	}
}

// anchorWrites returns the writes of a new anchor: the anchor with the
// issuing county's key-level policy, and the county index without one.
func anchorWrites(c *Certificate) []Put {
	return []Put{
		{Key: CertificateKey(c.ID), Value: mustJSON(c), Owner: c.County},
		{Key: CertCountyKey(c.County, c.ID), Value: []byte(c.County)},
	}
}

func certEvent(name string, c *Certificate, tx Tx) Event {
	return Event{Name: name, Action: name, Kind: TypeCertificate, ID: c.ID, Subject: c.Subject, County: c.County, TxTime: Instant(tx.Time)}
}

// IssueCertificate issues a certificate about req.Subject: it computes the
// subject's status from records (all of the subject's records, see
// ComputeCertificateStatus), and writes the anchor holding the digest of
// its canonical form, valid from the transaction date until
// req.ValidUntil. Only an officer of a registered county may (seed 004: the
// county credit office issues); issuerName is the county's registered name.
// The binding checks that the ID is new.
func IssueCertificate(req IssueCertificateRequest, records []Record, rules []RuleSet, issuerName string, a Actor, tx Tx) (Change, error) {
	const action = "issue certificate"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := req.Validate(); err != nil {
		return Change{}, err
	}
	until, err := validityEnd(req.ValidUntil, tx)
	if err != nil {
		return Change{}, err
	}
	status, err := ComputeCertificateStatus(req.Subject, records, rules, tx)
	if err != nil {
		return Change{}, fmt.Errorf("%s %s: %w", action, req.ID, err)
	}
	canon, digest, err := StatusDigest(status)
	if err != nil {
		return Change{}, fmt.Errorf("%s %s: %w", action, req.ID, err)
	}
	c := newCertificate(req.ID, req.Subject, req.Purpose, req.Note, until, a, tx)
	c.Digest = digest
	return Change{
		Puts:   anchorWrites(c),
		Event:  certEvent("CertificateIssued", c, tx),
		Result: &IssueCertificateResult{Certificate: c, Status: canon, Digest: digest, IssuerName: issuerName},
	}, nil
}

// ValidateBatchSubjects checks the subjects of a batch: 1 to
// MaxBatchSubjects valid subjects, none listed twice.
func ValidateBatchSubjects(subjects []string) error {
	if len(subjects) == 0 {
		return invalid("subjects", "is required (1 to %d subjects)", MaxBatchSubjects)
	}
	if len(subjects) > MaxBatchSubjects {
		return invalid("subjects", "has %d subjects, at most %d allowed", len(subjects), MaxBatchSubjects)
	}
	seen := make(map[string]int, len(subjects))
	for i, s := range subjects {
		f := fmt.Sprintf("subjects[%d]", i)
		if _, err := ParseSubject(f, s); err != nil {
			return err
		}
		if j, dup := seen[s]; dup {
			return invalid(f, "%s is also subjects[%d]", s, j)
		}
		seen[s] = i
	}
	return nil
}

// IssueCertificateBatch issues one certificate per subject under one anchor:
// member i (MemberID(batchId, i)) states the status of subjects[i]
// computed from records[i]; the anchor holds the Merkle root over the
// members' leaves (MerkleLeaf) and their count. Rules as IssueCertificate.
func IssueCertificateBatch(req IssueCertificateBatchRequest, records [][]Record, rules []RuleSet, issuerName string, a Actor, tx Tx) (Change, error) {
	const action = "issue certificate batch"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := req.Validate(); err != nil {
		return Change{}, err
	}
	until, err := validityEnd(req.ValidUntil, tx)
	if err != nil {
		return Change{}, err
	}
	if len(records) != len(req.Subjects) {
		return Change{}, fmt.Errorf("%s %s: %d record lists for %d subjects", action, req.BatchID, len(records), len(req.Subjects))
	}
	members := make([]BatchMember, len(req.Subjects))
	leaves := make([]Hash, len(req.Subjects))
	for i, subj := range req.Subjects {
		status, err := ComputeCertificateStatus(subj, records[i], rules, tx)
		if err != nil {
			return Change{}, fmt.Errorf("%s %s: %w", action, req.BatchID, err)
		}
		canon, digest, err := StatusDigest(status)
		if err != nil {
			return Change{}, fmt.Errorf("%s %s: %w", action, req.BatchID, err)
		}
		d, _ := DigestBytes(digest)
		id := MemberID(req.BatchID, i)
		leaves[i] = MerkleLeaf(id, d)
		members[i] = BatchMember{ID: id, Index: i, Subject: subj, Digest: digest, Leaf: hex.EncodeToString(leaves[i][:]), Status: canon}
	}
	root, err := MerkleRoot(leaves)
	if err != nil {
		return Change{}, fmt.Errorf("%s %s: %w", action, req.BatchID, err)
	}
	c := newCertificate(req.BatchID, "", req.Purpose, req.Note, until, a, tx)
	c.MerkleRoot = hex.EncodeToString(root[:])
	c.Count = len(req.Subjects)
	return Change{
		Puts:   anchorWrites(c),
		Event:  certEvent("CertificateBatchIssued", c, tx),
		Result: &IssueCertificateBatchResult{Certificate: c, IssuerName: issuerName, Members: members},
	}, nil
}

// AnchorOf returns the ID of the anchor holding certificate id: the batch
// of a member's certificate ID (<batch>.NNNNN), else id itself. Issuance
// refuses anchor IDs of the member form, so the two never clash.
func AnchorOf(id string) string {
	if batch, _, ok := ParseMemberID(id); ok {
		return batch
	}
	return id
}

// SetCertificateStatus suspends, reinstates (valid) or revokes a
// certificate, a whole batch, or one member of a batch (req.ID a member's
// certificate ID, c its batch's anchor). Only an officer of the issuing
// county may. Revoked is final; setting the current state again is
// refused (STATE); a reason is required. Every change is a new version of
// the anchor, so the key history holds each one with its transaction and
// time.
func SetCertificateStatus(c *Certificate, req SetCertificateStatusRequest, a Actor, tx Tx) (Change, error) {
	const action = "set certificate status"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := req.Validate(); err != nil {
		return Change{}, err
	}
	if err := requireOwner(a, c.County, action+" "+req.ID, "the certificate (issuing county)"); err != nil {
		return Change{}, err
	}
	if req.ID != c.ID {
		return setMemberStatus(c, req, a, tx)
	}
	if c.State == CertRevoked {
		return Change{}, fmt.Errorf("%s %s: the certificate is revoked, which is final: %w", action, c.ID, ErrState)
	}
	if c.State == req.Status {
		return Change{}, fmt.Errorf("%s %s: the certificate is already %s: %w", action, c.ID, c.State, ErrState)
	}
	c.State = req.Status
	c.StatusReason = req.Reason
	c.StatusChangedBy = a.ID
	return anchorUpdate(c, req.Status, c.ID, tx), nil
}

// setMemberStatus changes the status of one member of batch c
// (SetCertificateStatus with a member's certificate ID): the member's
// entry in c.Members, kept in index order. The batch's own state bounds
// it: nothing changes a member of a revoked batch, and a member cannot be
// reinstated above a suspended batch's state (reinstate the batch).
func setMemberStatus(c *Certificate, req SetCertificateStatusRequest, a Actor, tx Tx) (Change, error) {
	const action = "set certificate status"
	batch, i, ok := ParseMemberID(req.ID)
	switch {
	case !ok || batch != c.ID:
		return Change{}, fmt.Errorf("%s %s: anchor %s does not hold it: %w", action, req.ID, c.ID, ErrNotFound)
	case !c.IsBatch():
		return Change{}, invalid("id", "%s is a single certificate, not a batch; %s names no certificate", c.ID, req.ID)
	case i >= c.Count:
		return Change{}, invalid("id", "batch %s has %d members (%s to %s); %s is not one of them", c.ID, c.Count, MemberID(c.ID, 0), MemberID(c.ID, c.Count-1), req.ID)
	case c.State == CertRevoked:
		return Change{}, fmt.Errorf("%s %s: batch %s is revoked, which is final for every member: %w", action, req.ID, c.ID, ErrState)
	}
	cur := CertValid
	m := c.Member(i)
	if m != nil {
		cur = m.State
	}
	if cur == CertRevoked {
		return Change{}, fmt.Errorf("%s %s: the certificate is revoked, which is final: %w", action, req.ID, ErrState)
	}
	if cur == req.Status {
		return Change{}, fmt.Errorf("%s %s: the certificate is already %s: %w", action, req.ID, cur, ErrState)
	}
	if req.Status == CertValid && c.State == CertSuspended {
		return Change{}, fmt.Errorf("%s %s: batch %s is suspended; reinstate the batch, not one member: %w", action, req.ID, c.ID, ErrState)
	}
	entry := CertMember{ID: req.ID, Index: i, State: req.Status, Reason: req.Reason, ChangedBy: a.ID, ChangedAt: Instant(tx.Time), TxID: tx.ID}
	// A new slice: a shallow copy of the anchor shares the old one.
	j, found := slices.BinarySearchFunc(c.Members, i, func(m CertMember, i int) int { return m.Index - i })
	if found {
		c.Members = slices.Clone(c.Members)
		c.Members[j] = entry
	} else {
		c.Members = slices.Insert(slices.Clip(c.Members), j, entry)
	}
	return anchorUpdate(c, req.Status, req.ID, tx), nil
}

// anchorUpdate writes a new version of anchor c after certificate id (the
// anchor's own, or a member's) was set to status.
func anchorUpdate(c *Certificate, status, id string, tx Tx) Change {
	c.UpdatedAt = Instant(tx.Time)
	c.TxID = tx.ID
	c.DerivedState = ""
	event := "CertificateReinstated"
	switch status {
	case CertSuspended:
		event = "CertificateSuspended"
	case CertRevoked:
		event = "CertificateRevoked"
	}
	ev := certEvent(event, c, tx)
	ev.ID = id
	return Change{
		// The key-level policy set at issuance stays in force; it is not set
		// again on an update (see recordWrites).
		Puts:   []Put{{Key: CertificateKey(c.ID), Value: mustJSON(c)}},
		Event:  ev,
		Result: c,
	}
}

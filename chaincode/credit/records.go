package credit

// Enumerations (DESIGN §8). JSON values; never change one.
const (
	// Commitment kinds.
	CommitmentApproval         = "approval"          // 告知承诺 / 审批替代型
	CommitmentMissingMaterials = "missing-materials" // 容缺受理
	CommitmentVoluntary        = "voluntary"         // 主动型 / 综合信用承诺
	CommitmentIndustry         = "industry"          // 行业自律型
	CommitmentRepair           = "repair"            // 信用修复承诺

	// Commitment states; StateOverdue is derived, never stored.
	StateMade      = "made"
	StateFulfilled = "fulfilled"
	StateBreached  = "breached"
	StateOverdue   = "overdue"

	// Punishment kinds.
	PunishmentPublicity = "publicity" // 行政处罚信息公示
	PunishmentBlacklist = "blacklist" // 严重失信主体名单
	PunishmentWatchlist = "watchlist" // 重点关注名单

	// Severities.
	SeverityGeneral = "general" // 一般失信
	SeveritySerious = "serious" // 严重失信
	SeveritySpecial = "special" // 特定严重失信: never repairable

	// Punishment states; StateExpired is derived, never stored.
	StateActive   = "active"
	StateRepaired = "repaired"
	StateRevoked  = "revoked"
	StateExpired  = "expired"

	// Repair states.
	StateApplied   = "applied"
	StateAccepted  = "accepted"
	StateCompleted = "completed"
	StateRejected  = "rejected"

	// Objection states.
	StateRaised    = "raised"
	StateUpheld    = "upheld"
	StateDismissed = "dismissed"

	// StateRecorded is the only state of dishonesty and enforcement records.
	StateRecorded = "recorded"
)

// CommitmentKinds, PunishmentKinds, Severities and Measures list the allowed
// values in a fixed order (used in error messages).
var (
	CommitmentKinds = []string{CommitmentApproval, CommitmentMissingMaterials, CommitmentVoluntary, CommitmentIndustry, CommitmentRepair}
	PunishmentKinds = []string{PunishmentPublicity, PunishmentBlacklist, PunishmentWatchlist}
	Severities      = []string{SeverityGeneral, SeveritySerious, SeveritySpecial}
	// Measures are the joint punishment measure codes (联合惩戒措施, seed 004).
	Measures = []string{
		"procurement",      // 限制参与政府采购
		"bidding",          // 限制参与招标投标
		"subsidy",          // 限制申请财政资金、补贴
		"tax-preference",   // 限制享受税收优惠
		"honours",          // 限制评优评先
		"inspection",       // 提高监督检查频次
		"high-consumption", // 限制高消费
		"market-access",    // 限制市场准入、行政许可
		"financing",        // 限制融资授信
	}
)

func oneOf(v string, list []string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// Header holds the common leading fields of every record (DESIGN §8).
// County is always the owning county.
type Header struct {
	Kind       string `json:"kind"`
	ID         string `json:"id"`
	Subject    string `json:"subject"`
	County     string `json:"county"`
	Department string `json:"department"`
	State      string `json:"state"`
	CreatedAt  string `json:"createdAt"`
	CreatedBy  string `json:"createdBy"`
	UpdatedAt  string `json:"updatedAt"`
	TxID       string `json:"txId"`
}

// Record is any of the six record families.
type Record interface {
	Head() *Header
	// Derive sets DerivedState from the stored state and the date "today"
	// (the date of the transaction timestamp).
	Derive(today Date)
}

// Commitment is a credit commitment (信用承诺).
type Commitment struct {
	Header
	CommitmentKind string `json:"commitmentKind"`
	Content        string `json:"content"`
	ContentHash    string `json:"contentHash,omitempty"`
	MadeOn         Date   `json:"madeOn"`
	Deadline       Date   `json:"deadline,omitzero"`
	// DeadlineBasis says how the deadline was set: "set by the office", or
	// "7 working days (seed 004)".
	DeadlineBasis string `json:"deadlineBasis,omitempty"`
	// Calendars lists the calendars used to count working days: a year
	// ("2026") for an installed calendar, "2027:weekends-only" otherwise.
	Calendars    []string `json:"calendars,omitempty"`
	RepairID     string   `json:"repairId,omitempty"`
	ReceivedBy   string   `json:"receivedBy,omitempty"`
	ClosedAt     string   `json:"closedAt,omitempty"`
	Note         string   `json:"note,omitempty"`
	BreachReason string   `json:"breachReason,omitempty"`
	DishonestyID string   `json:"dishonestyId,omitempty"`
	DerivedState string   `json:"derivedState,omitempty"`
}

// Head returns the common fields.
func (c *Commitment) Head() *Header { return &c.Header }

// Derive: a made commitment with a deadline reads overdue from the day after
// the deadline.
func (c *Commitment) Derive(today Date) {
	c.DerivedState = c.State
	if c.State == StateMade && !c.Deadline.IsZero() && today.After(c.Deadline) {
		c.DerivedState = StateOverdue
	}
}

// Dishonesty is a dishonesty record (失信记录) created when a commitment is
// breached (违诺). Its ID is the commitment ID + ".breach".
type Dishonesty struct {
	Header
	Source         string `json:"source"` // "commitment-breach"
	CommitmentID   string `json:"commitmentId"`
	CommitmentKind string `json:"commitmentKind"`
	Reason         string `json:"reason"`
	Date           Date   `json:"date"`
	DerivedState   string `json:"derivedState,omitempty"`
}

// Head returns the common fields.
func (d *Dishonesty) Head() *Header { return &d.Header }

// Derive: a dishonesty record has no derived state.
func (d *Dishonesty) Derive(Date) { d.DerivedState = d.State }

// Punishment is a dishonesty punishment (失信惩戒): a publicity, black-list
// or watch-list entry.
type Punishment struct {
	Header
	PunishmentKind string   `json:"punishmentKind"`
	Severity       string   `json:"severity"`
	DecisionDate   Date     `json:"decisionDate"`
	DecisionNo     string   `json:"decisionNo"`
	LegalBasis     string   `json:"legalBasis"`
	Measures       []string `json:"measures"`
	DishonestyID   string   `json:"dishonestyId,omitempty"`
	Summary        string   `json:"summary,omitempty"`
	// RuleSet is the version of the rule set in force at DecisionDate;
	// Repairable, MinEnd and MaxEnd come from it.
	RuleSet    string `json:"ruleSet"`
	Repairable bool   `json:"repairable"`
	// RequiresTrainingAndReport: repair needs a training certificate and a
	// credit report (serious cases, seed 001).
	RequiresTrainingAndReport bool   `json:"requiresTrainingAndReport"`
	MinEnd                    Date   `json:"minEnd,omitzero"`
	MaxEnd                    Date   `json:"maxEnd"`
	Revision                  int    `json:"revision"`
	CorrectedBy               string `json:"correctedBy,omitempty"`
	// OpenRepairID is the applied or accepted repair of this punishment,
	// kept in the OpenRepairKey lock, not in the record: the binding loads
	// it for the repair operations. Never stored or returned.
	OpenRepairID string `json:"-"`
	RepairedBy   string `json:"repairedBy,omitempty"`
	ClosedAt     string `json:"closedAt,omitempty"`
	RevokeReason string `json:"revokeReason,omitempty"`
	RevokedBy    string `json:"revokedBy,omitempty"`
	DerivedState string `json:"derivedState,omitempty"`
}

// Head returns the common fields.
func (p *Punishment) Head() *Header { return &p.Header }

// Derive: an active punishment reads expired from MaxEnd on (DESIGN §2).
func (p *Punishment) Derive(today Date) {
	p.DerivedState = p.State
	if p.State == StateActive && !today.Before(p.MaxEnd) {
		p.DerivedState = StateExpired
	}
}

// Enforcement records that a county applied one of a punishment's measures
// (跨区域联合惩戒). The owner is the enforcing county.
type Enforcement struct {
	Header
	PunishmentID     string `json:"punishmentId"`
	PunishmentCounty string `json:"punishmentCounty"`
	Measure          string `json:"measure"`
	Date             Date   `json:"date"`
	Detail           string `json:"detail,omitempty"`
	DerivedState     string `json:"derivedState,omitempty"`
}

// Head returns the common fields.
func (e *Enforcement) Head() *Header { return &e.Header }

// Derive: an enforcement has no derived state.
func (e *Enforcement) Derive(Date) { e.DerivedState = e.State }

// Evidence holds the SHA-256 hashes (64 lower-case hex) of the documents of a
// repair application; the documents themselves never go on the ledger.
type Evidence struct {
	Identity         string `json:"identity"`
	PenaltyFulfilled string `json:"penaltyFulfilled"`
	RepairCommitment string `json:"repairCommitment"`
	Training         string `json:"training,omitempty"`
	CreditReport     string `json:"creditReport,omitempty"`
}

// Repair is a credit repair application (信用修复), owned by the county that
// imposed the punishment.
type Repair struct {
	Header
	PunishmentID string   `json:"punishmentId"`
	Severity     string   `json:"severity"`
	Evidence     Evidence `json:"evidence"`
	CommitmentID string   `json:"commitmentId"`
	ReceivedBy   string   `json:"receivedBy"`
	AcceptedAt   string   `json:"acceptedAt,omitempty"`
	ClosedAt     string   `json:"closedAt,omitempty"`
	RejectReason string   `json:"rejectReason,omitempty"`
	DerivedState string   `json:"derivedState,omitempty"`
}

// Head returns the common fields.
func (r *Repair) Head() *Header { return &r.Header }

// Derive: a repair has no derived state.
func (r *Repair) Derive(Date) { r.DerivedState = r.State }

// Correction lists the punishment fields an upheld objection corrects; only
// the fields present change.
type Correction struct {
	PunishmentKind string   `json:"punishmentKind,omitempty"`
	Severity       string   `json:"severity,omitempty"`
	DecisionDate   string   `json:"decisionDate,omitempty"`
	DecisionNo     string   `json:"decisionNo,omitempty"`
	LegalBasis     string   `json:"legalBasis,omitempty"`
	Measures       []string `json:"measures,omitempty"`
}

// Objection is a subject's dispute (异议) of a record, owned by the county
// owning the disputed record, which must answer it.
type Objection struct {
	Header
	RecordKind   string      `json:"recordKind"`
	RecordID     string      `json:"recordId"`
	Reason       string      `json:"reason"`
	ReceivedBy   string      `json:"receivedBy"`
	Answer       string      `json:"answer,omitempty"`
	Action       string      `json:"action,omitempty"`
	Correction   *Correction `json:"correction,omitempty"`
	AnsweredAt   string      `json:"answeredAt,omitempty"`
	DerivedState string      `json:"derivedState,omitempty"`
}

// Head returns the common fields.
func (o *Objection) Head() *Header { return &o.Header }

// Derive: an objection has no derived state.
func (o *Objection) Derive(Date) { o.DerivedState = o.State }

// NewRecord returns an empty record of the given kind, or nil.
func NewRecord(kind string) Record {
	switch kind {
	case TypeCommitment:
		return &Commitment{}
	case TypeDishonesty:
		return &Dishonesty{}
	case TypePunishment:
		return &Punishment{}
	case TypeEnforcement:
		return &Enforcement{}
	case TypeRepair:
		return &Repair{}
	case TypeObjection:
		return &Objection{}
	}
	return nil
}

// County is an entry of the county registry: a Fabric organisation.
type County struct {
	Kind      string `json:"kind"` // "county"
	Code      string `json:"code"`
	Name      string `json:"name"`
	MSPID     string `json:"mspId"`
	CreatedAt string `json:"createdAt"`
	CreatedBy string `json:"createdBy"`
	TxID      string `json:"txId"`
}

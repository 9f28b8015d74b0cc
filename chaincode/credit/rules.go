package credit

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
)

// SeverityRule is the publicity and repair rule of one severity.
type SeverityRule struct {
	// MinMonths is the minimum publicity period (最短公示期), counted from the
	// decision date; 0 means none (the case is not repairable).
	MinMonths int `json:"minMonths"`
	// MaxMonths is the maximum publicity period (最长公示期); the record reads
	// expired from decisionDate + MaxMonths on.
	MaxMonths  int  `json:"maxMonths"`
	Repairable bool `json:"repairable"`
	// RequiresTrainingAndReport: completing a repair needs a repair-training
	// certificate and a credit report (seed 001, serious cases).
	RequiresTrainingAndReport bool `json:"requiresTrainingAndReport"`
}

// RuleSet is a version of the publicity and repair rules, in force for
// decisions from EffectiveFrom on. Rule sets are data: installed by an admin
// with InstallRuleSet, never redefined, and each punishment keeps the version
// in force at its decision date.
type RuleSet struct {
	Version       string `json:"version"`
	EffectiveFrom string `json:"effectiveFrom"` // YYYY-MM-DD
	Title         string `json:"title"`
	Source        string `json:"source"`
	// NeedsChecking marks a rule set not yet checked against the official
	// text of its source.
	NeedsChecking bool         `json:"needsChecking"`
	Note          string       `json:"note,omitempty"`
	General       SeverityRule `json:"general"`
	Serious       SeverityRule `json:"serious"`
	Special       SeverityRule `json:"special"`
}

// DefaultRuleSetVersion is the built-in rule set, always in force from its
// effective date without installation.
const DefaultRuleSetVersion = "ndrc-2019"

//go:embed rules/ndrc-2019.json
var defaultRuleSetJSON []byte

// DefaultRuleSet returns the built-in rule set "ndrc-2019": the NDRC notice
// on repair of administrative-penalty information, effective 2019-07-01
// (seed 001). A fresh copy each call.
func DefaultRuleSet() RuleSet {
	var rs RuleSet
	if err := DecodeRequest(defaultRuleSetJSON, &rs); err != nil {
		panic("credit: default rule set: " + err.Error())
	}
	if err := rs.Validate(); err != nil {
		panic("credit: default rule set: " + err.Error())
	}
	return rs
}

// Effective returns EffectiveFrom as a Date (zero if invalid).
func (rs *RuleSet) Effective() Date {
	d, _ := ParseDate(rs.EffectiveFrom)
	return d
}

// Rule returns the rule of a severity.
func (rs *RuleSet) Rule(severity string) (SeverityRule, bool) {
	switch severity {
	case SeverityGeneral:
		return rs.General, true
	case SeveritySerious:
		return rs.Serious, true
	case SeveritySpecial:
		return rs.Special, true
	}
	return SeverityRule{}, false
}

// maxPublicityMonths bounds the periods a rule set may set (10 years).
const maxPublicityMonths = 120

// Validate checks a rule set: version like a record ID, a valid effective
// date, title and source, and per severity 0 <= min <= max, 1 <= max <= 120;
// a repairable severity needs a minimum period, and the specially serious
// one is never repairable (seed 001).
func (rs *RuleSet) Validate() error {
	if err := ValidateID("version", rs.Version); err != nil {
		return err
	}
	if _, err := validateDateField("effectiveFrom", rs.EffectiveFrom, true); err != nil {
		return err
	}
	if err := validateText("title", rs.Title, true, maxText); err != nil {
		return err
	}
	if err := validateText("source", rs.Source, true, maxText); err != nil {
		return err
	}
	if err := validateText("note", rs.Note, false, maxText); err != nil {
		return err
	}
	for _, sev := range Severities {
		r, _ := rs.Rule(sev)
		switch {
		case r.MaxMonths < 1 || r.MaxMonths > maxPublicityMonths:
			return invalid(sev+".maxMonths", "%d must be between 1 and %d", r.MaxMonths, maxPublicityMonths)
		case r.MinMonths < 0 || r.MinMonths > r.MaxMonths:
			return invalid(sev+".minMonths", "%d must be between 0 and maxMonths (%d)", r.MinMonths, r.MaxMonths)
		case r.Repairable && r.MinMonths == 0:
			return invalid(sev+".minMonths", "a repairable severity needs a minimum publicity period")
		case !r.Repairable && r.RequiresTrainingAndReport:
			return invalid(sev+".requiresTrainingAndReport", "only a repairable severity can require training and a report")
		case sev == SeveritySpecial && r.Repairable:
			return invalid("special.repairable", "specially serious cases are never repairable (seed 001)")
		}
	}
	return nil
}

// WithDefault returns the installed rule sets plus the built-in default
// (unless installed), sorted by effective date.
func WithDefault(installed []RuleSet) []RuleSet {
	out := slices.Clone(installed)
	if !slices.ContainsFunc(out, func(r RuleSet) bool { return r.Version == DefaultRuleSetVersion }) {
		out = append(out, DefaultRuleSet())
	}
	slices.SortStableFunc(out, func(a, b RuleSet) int {
		if c := a.Effective().Compare(b.Effective()); c != 0 {
			return c
		}
		return cmpString(a.Version, b.Version)
	})
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// RuleSetAt returns the rule set in force on date: the one with the latest
// effective date on or before it. A decision before the earliest effective
// date uses the earliest rule set: no older rules are known to the ledger,
// and refusing such a decision would leave old penalties unrecordable.
// sets must be non-empty and sorted as WithDefault sorts them.
func RuleSetAt(sets []RuleSet, date Date) RuleSet {
	chosen := sets[0]
	for _, rs := range sets {
		if rs.Effective().After(date) {
			break
		}
		chosen = rs
	}
	return chosen
}

// InstallRuleSet validates a new rule set version for the ledger. Only an
// admin may install one. An existing version (or the built-in default)
// cannot be redefined (EXISTS), and two versions cannot take effect on the
// same date. Punishments already recorded keep the version they stored;
// the new version applies to decisions on or after its effective date.
func InstallRuleSet(rs RuleSet, installed []RuleSet, a Actor, tx Tx) (Change, error) {
	const action = "install rule set"
	if err := requireAdmin(a, action); err != nil {
		return Change{}, err
	}
	if err := rs.Validate(); err != nil {
		return Change{}, err
	}
	for _, old := range WithDefault(installed) {
		if old.Version == rs.Version {
			return Change{}, fmt.Errorf("%s %s: version exists and cannot be redefined: %w", action, rs.Version, ErrExists)
		}
		if old.EffectiveFrom == rs.EffectiveFrom {
			return Change{}, invalid("effectiveFrom", "%s: rule set %s already takes effect on that date", rs.EffectiveFrom, old.Version)
		}
	}
	return Change{
		Puts:   []Put{{Key: RuleSetKey(rs.Version), Value: mustJSON(&rs)}},
		Event:  Event{Name: "RuleSetInstalled", Action: "RuleSetInstalled", Kind: TypeRuleSet, ID: rs.Version, County: a.County, TxTime: Instant(tx.Time)},
		Result: &rs,
	}, nil
}

// UnmarshalRuleSet decodes a stored rule set.
func UnmarshalRuleSet(b []byte) (RuleSet, error) {
	var rs RuleSet
	if err := json.Unmarshal(b, &rs); err != nil {
		return RuleSet{}, fmt.Errorf("decode rule set: %w", err)
	}
	return rs, nil
}

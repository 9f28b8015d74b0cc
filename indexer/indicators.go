package indexer

import (
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

// Ratio is a share kept as numerator and denominator, so that nothing is
// lost to rounding and an empty denominator is visible.
type Ratio struct {
	Num int64 `json:"num"`
	Den int64 `json:"den"`
}

// Value returns Num/Den, or 0 when Den is 0.
func (r Ratio) Value() float64 {
	if r.Den == 0 {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

// String formats the ratio as "num/den (pct%)", or "num/0 (-)".
func (r Ratio) String() string {
	if r.Den == 0 {
		return fmt.Sprintf("%d/0 (-)", r.Num)
	}
	return fmt.Sprintf("%d/%d (%.2f%%)", r.Num, r.Den, 100*r.Value())
}

// MarshalJSON adds the value to the numerator and denominator.
func (r Ratio) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Num   int64   `json:"num"`
		Den   int64   `json:"den"`
		Value float64 `json:"value"`
	}{r.Num, r.Den, r.Value()})
}

// Indicators are the Linyi credit-county base indicators (seed 002, item
// 10 综合失信状况量化测评 and item 26 信用修复; 5 市场主体信用承诺) and the
// Shaanxi targets (seed 004: commitment coverage 70 %, share of subjects on
// the joint-punishment list 1.3 % down to 0.5 %) for one county and one
// month. Months are UTC+8 calendar months of the transaction times. Gauges
// (ListActive, OverdueActive, SubjectsSeen, SubjectsCommitted) are values
// at the end of the month; every other count is of events within the
// month. The exact definitions, including how expiry is counted, are in
// docs/INDEXER.md.
type Indicators struct {
	County string `json:"county"` // a county code, or "*" for all counties
	Month  string `json:"month"`  // "YYYY-MM"
	// Height is the number of blocks the index had applied when read.
	Height uint64 `json:"height"`

	// ListActive: black-list and watch-list punishments in publicity.
	ListActive int64 `json:"listActive"`
	// ListShare: ListActive over ListActive of all counties (各区县黑名单及
	// 重点关注名单总量占全市的比重).
	ListShare Ratio `json:"listShare"`
	// ListEntries: list punishments imposed in the month (当月增量).
	ListEntries int64 `json:"listEntries"`
	// ListExits: list punishments that left publicity in the month, by
	// repair, revocation or expiry (当月退出量).
	ListExits         int64 `json:"listExits"`
	ListExitsRepaired int64 `json:"listExitsRepaired"`
	ListExitsRevoked  int64 `json:"listExitsRevoked"`
	ListExitsExpired  int64 `json:"listExitsExpired"`
	// ExitShare: ListExits over the entries on the list at some time in the
	// month, ListActive + ListExits (退出量占黑名单总量的比重).
	ExitShare Ratio `json:"exitShare"`
	// ListSubjectShare: ListActive over SubjectsSeen (seed 004 被列入失信联合
	// 惩戒对象名单企业占比).
	ListSubjectShare Ratio `json:"listSubjectShare"`

	// RepairsApplied: repair applications received.
	RepairsApplied int64 `json:"repairsApplied"`
	// RepairsCompleted: repairs completed (完成信用修复企业数).
	RepairsCompleted int64 `json:"repairsCompleted"`
	// RepairTraining: completed repairs of serious cases carrying a
	// repair-training certificate (参加信用修复培训企业数).
	RepairTraining int64 `json:"repairTraining"`

	CommitmentsMade      int64 `json:"commitmentsMade"`
	CommitmentsFulfilled int64 `json:"commitmentsFulfilled"`
	CommitmentsBreached  int64 `json:"commitmentsBreached"`
	// OverdueEntries: commitments that became overdue in the month.
	OverdueEntries int64 `json:"overdueEntries"`
	// OverdueActive: commitments overdue and still open at month end.
	OverdueActive int64 `json:"overdueActive"`

	// SubjectsSeen: subjects named by any record of the county, ever.
	SubjectsSeen int64 `json:"subjectsSeen"`
	// SubjectsCommitted: subjects named by a commitment of the county, ever.
	SubjectsCommitted int64 `json:"subjectsCommitted"`
	// Coverage: SubjectsCommitted over SubjectsSeen (信用承诺覆盖范围).
	Coverage Ratio `json:"coverage"`
}

// sumCounters adds up the counters of county c: gauges over every month up
// to and including m, flows of month m only.
func sumCounters(s *pebble.Snapshot, c keys.County, m keys.Month) (map[keys.Indicator]int64, error) {
	out := map[keys.Indicator]int64{}
	lower := keys.CounterPrefix(c)
	upper := keys.CounterMonthBound(c, m.Next())
	err := scan(s, lower, upper, func(k, v []byte) error {
		var ck keys.Counter
		if err := ck.Decode(k); err != nil {
			return err
		}
		n, err := decodeCount(v)
		if err != nil {
			return fmt.Errorf("%s: %w", ck, err)
		}
		if ck.Indicator.IsGauge() || ck.Month == m {
			out[ck.Indicator] += n
		}
		return nil
	})
	return out, err
}

// Indicators returns the indicators of county (a county code, or "*" for
// all counties together) for month. The values for a month that is not yet
// over, or after the last applied block, include what is already scheduled
// by the ledger: expiries on a punishment's maxEnd and commitments
// becoming overdue the day after their deadline, unless a later block
// changes the record first.
func (db *DB) Indicators(county string, month keys.Month) (*Indicators, error) {
	if county != string(keys.AllCounties) {
		if err := credit.ValidateCountyCode("county", county); err != nil {
			return nil, fmt.Errorf("indicators: %w", err)
		}
	}
	if !month.Valid() {
		return nil, fmt.Errorf("indicators: %w", invalid("month", "must be a month YYYY-MM"))
	}
	ind := &Indicators{County: county, Month: month.String()}
	err := db.view(func(s *pebble.Snapshot) error {
		var err error
		if ind.Height, err = readHeight(s); err != nil {
			return err
		}
		v, err := sumCounters(s, keys.County(county), month)
		if err != nil {
			return err
		}
		all := v
		if county != string(keys.AllCounties) {
			if all, err = sumCounters(s, keys.AllCounties, month); err != nil {
				return err
			}
		}
		ind.ListActive = v[keys.ListActive]
		ind.ListShare = Ratio{v[keys.ListActive], all[keys.ListActive]}
		ind.ListEntries = v[keys.ListEntries]
		ind.ListExitsRepaired = v[keys.ListExitsRepaired]
		ind.ListExitsRevoked = v[keys.ListExitsRevoked]
		ind.ListExitsExpired = v[keys.ListExitsExpired]
		ind.ListExits = ind.ListExitsRepaired + ind.ListExitsRevoked + ind.ListExitsExpired
		ind.ExitShare = Ratio{ind.ListExits, ind.ListActive + ind.ListExits}
		ind.ListSubjectShare = Ratio{ind.ListActive, v[keys.SubjectsSeen]}
		ind.RepairsApplied = v[keys.RepairsApplied]
		ind.RepairsCompleted = v[keys.RepairsCompleted]
		ind.RepairTraining = v[keys.RepairTraining]
		ind.CommitmentsMade = v[keys.CommitmentsMade]
		ind.CommitmentsFulfilled = v[keys.CommitmentsFulfilled]
		ind.CommitmentsBreached = v[keys.CommitmentsBreached]
		ind.OverdueEntries = v[keys.OverdueEntries]
		ind.OverdueActive = v[keys.OverdueActive]
		ind.SubjectsSeen = v[keys.SubjectsSeen]
		ind.SubjectsCommitted = v[keys.SubjectsCommitted]
		ind.Coverage = Ratio{ind.SubjectsCommitted, ind.SubjectsSeen}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("indicators of %s for %s: %w", county, month, err)
	}
	return ind, nil
}

package credit

import (
	"fmt"
	"regexp"
)

// RegisterCountyRequest is the argument of RegisterCounty.
type RegisterCountyRequest struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

var countyCodePattern = regexp.MustCompile(`^[0-9]{6}$`)

// ValidateCountyCode checks a 6-digit county division code whose first two
// digits are a province code.
func ValidateCountyCode(field, code string) error {
	if !countyCodePattern.MatchString(code) {
		return invalid(field, "%q must be a 6-digit division code", code)
	}
	if !provinceCodes[code[:2]] {
		return invalid(field, "%q does not start with a province code (GB/T 2260)", code)
	}
	return nil
}

// RegisterCounty registers the caller's MSP as the county req.Code. Only an
// admin may do it, for its own MSP. byCode is the existing registry entry
// for the code (or nil); mspTaken is the county code the caller's MSP is
// already registered as (or "").
func RegisterCounty(req RegisterCountyRequest, byCode *County, mspTaken string, a Actor, tx Tx) (Change, error) {
	const action = "register county"
	if err := requireAdmin(a, action); err != nil {
		return Change{}, err
	}
	if err := req.Validate(); err != nil {
		return Change{}, err
	}
	if a.MSPID == "" {
		return Change{}, fmt.Errorf("%s: the caller has no MSP ID: %w", action, ErrForbidden)
	}
	if byCode != nil {
		return Change{}, fmt.Errorf("%s %s: already registered to MSP %s: %w", action, req.Code, byCode.MSPID, ErrExists)
	}
	if mspTaken != "" {
		return Change{}, fmt.Errorf("%s %s: MSP %s is already registered as county %s: %w", action, req.Code, a.MSPID, mspTaken, ErrExists)
	}
	now := Instant(tx.Time)
	c := &County{Kind: TypeCounty, Code: req.Code, Name: req.Name, MSPID: a.MSPID, CreatedAt: now, CreatedBy: a.ID, TxID: tx.ID}
	return Change{
		Puts: []Put{
			{Key: CountyKey(c.Code), Value: mustJSON(c), Owner: c.Code},
			{Key: CountyMSPKey(c.MSPID), Value: []byte(c.Code)}, // index: MAJORITY only (see recordWrites)
		},
		Event:  Event{Name: "CountyRegistered", Action: "CountyRegistered", Kind: TypeCounty, ID: c.Code, County: c.Code, TxTime: now},
		Result: c,
	}, nil
}

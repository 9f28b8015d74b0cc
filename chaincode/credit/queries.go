package credit

import (
	"encoding/json"
	"fmt"
)

// Request and result types of the read functions (DESIGN §5), shared by the
// chaincode and its clients.

// RecordRequest is the argument of GetRecord and RecordHistory.
type RecordRequest struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// SubjectRequest is the argument of SubjectRecords.
type SubjectRequest struct {
	Subject string `json:"subject"`
}

// SubjectRecordsResult is the result of SubjectRecords.
type SubjectRecordsResult struct {
	Subject string  `json:"subject"`
	Records Records `json:"records"`
}

// HistoryEntry is one version of a record in RecordHistory.
type HistoryEntry struct {
	TxID      string          `json:"txId"`
	Timestamp string          `json:"timestamp"`
	IsDelete  bool            `json:"isDelete"`
	Record    json.RawMessage `json:"record"`
}

// ListByCountyRequest is the argument of ListByCounty.
type ListByCountyRequest struct {
	County   string `json:"county"`
	Kind     string `json:"kind"`
	State    string `json:"state,omitempty"`
	PageSize int    `json:"pageSize"`
	Bookmark string `json:"bookmark,omitempty"`
}

// ListByCountyResult is the result of ListByCounty.
type ListByCountyResult struct {
	Records  Records `json:"records"`
	Bookmark string  `json:"bookmark"`
}

// ListStateRequest is the argument of ListState.
type ListStateRequest struct {
	ObjectType string `json:"objectType"`
	PageSize   int    `json:"pageSize"`
	Bookmark   string `json:"bookmark,omitempty"`
}

// StateEntry is one raw world-state entry: the composite key (with its
// U+0000 separators) and the stored value, which is UTF-8 for every key of
// the schema.
type StateEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ListStateResult is the result of ListState.
type ListStateResult struct {
	Entries  []StateEntry `json:"entries"`
	Bookmark string       `json:"bookmark"`
}

// CalendarRequest is the argument of GetCalendar.
type CalendarRequest struct {
	Year int `json:"year"`
}

// Empty is the argument of GetRuleSets and ListCounties: {}.
type Empty struct{}

// Records is a list of records of mixed kinds. It decodes each element by
// its "kind" field into the matching record type (NewRecord).
type Records []Record

// UnmarshalJSON decodes a JSON array of records.
func (rs *Records) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Records, 0, len(raw))
	for i, r := range raw {
		rec, err := DecodeRecord(r)
		if err != nil {
			return fmt.Errorf("records[%d]: %w", i, err)
		}
		out = append(out, rec)
	}
	*rs = out
	return nil
}

// DecodeRecord decodes one record by its "kind" field.
func DecodeRecord(b []byte) (Record, error) {
	var k struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, err
	}
	rec := NewRecord(k.Kind)
	if rec == nil {
		return nil, fmt.Errorf("unknown record kind %q", k.Kind)
	}
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, fmt.Errorf("decode %s: %w", k.Kind, err)
	}
	return rec, nil
}

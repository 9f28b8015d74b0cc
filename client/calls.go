package client

import (
	"context"
	"encoding/json"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// Typed calls, one per chaincode transaction (docs/DESIGN.md §5). Each
// returns the record as the chaincode wrote it, the Result (transaction ID,
// block) and a *TxError on failure.

// RegisterCounty registers the caller's organisation as a county (admin).
func (c *Client) RegisterCounty(ctx context.Context, req credit.RegisterCountyRequest) (*credit.County, Result, error) {
	return submitAs[credit.County](ctx, c, "RegisterCounty", req)
}

// InstallRuleSet installs a publicity rule set (admin).
func (c *Client) InstallRuleSet(ctx context.Context, rs credit.RuleSet) (*credit.RuleSet, Result, error) {
	return submitAs[credit.RuleSet](ctx, c, "InstallRuleSet", rs)
}

// InstallCalendar installs one year's working-day calendar (admin).
func (c *Client) InstallCalendar(ctx context.Context, cal credit.Calendar) (*credit.Calendar, Result, error) {
	return submitAs[credit.Calendar](ctx, c, "InstallCalendar", cal)
}

// MakeCommitment records a credit commitment.
func (c *Client) MakeCommitment(ctx context.Context, req credit.MakeCommitmentRequest) (*credit.Commitment, Result, error) {
	return submitAs[credit.Commitment](ctx, c, "MakeCommitment", req)
}

// FulfilCommitment closes a commitment as fulfilled.
func (c *Client) FulfilCommitment(ctx context.Context, req credit.FulfilCommitmentRequest) (*credit.Commitment, Result, error) {
	return submitAs[credit.Commitment](ctx, c, "FulfilCommitment", req)
}

// BreachCommitment closes a commitment as breached; the chaincode creates
// the dishonesty record credit.DishonestyID(req.ID).
func (c *Client) BreachCommitment(ctx context.Context, req credit.BreachCommitmentRequest) (*credit.Commitment, Result, error) {
	return submitAs[credit.Commitment](ctx, c, "BreachCommitment", req)
}

// ImposePunishment records a punishment decision.
func (c *Client) ImposePunishment(ctx context.Context, req credit.ImposePunishmentRequest) (*credit.Punishment, Result, error) {
	return submitAs[credit.Punishment](ctx, c, "ImposePunishment", req)
}

// RevokePunishment revokes a punishment (imposing county only).
func (c *Client) RevokePunishment(ctx context.Context, req credit.RevokePunishmentRequest) (*credit.Punishment, Result, error) {
	return submitAs[credit.Punishment](ctx, c, "RevokePunishment", req)
}

// RecordEnforcement records that the caller's county applied a measure.
func (c *Client) RecordEnforcement(ctx context.Context, req credit.RecordEnforcementRequest) (*credit.Enforcement, Result, error) {
	return submitAs[credit.Enforcement](ctx, c, "RecordEnforcement", req)
}

// ApplyRepair records a repair application.
func (c *Client) ApplyRepair(ctx context.Context, req credit.ApplyRepairRequest) (*credit.Repair, Result, error) {
	return submitAs[credit.Repair](ctx, c, "ApplyRepair", req)
}

// AcceptRepair accepts a repair application (imposing county only).
func (c *Client) AcceptRepair(ctx context.Context, req credit.RepairRequest) (*credit.Repair, Result, error) {
	return submitAs[credit.Repair](ctx, c, "AcceptRepair", req)
}

// CompleteRepair completes a repair (imposing county only); refused with
// credit.ErrTooEarly, ErrNotRepairable, ErrEvidenceMissing, ErrForbidden
// or ErrState.
func (c *Client) CompleteRepair(ctx context.Context, req credit.CompleteRepairRequest) (*credit.Repair, Result, error) {
	return submitAs[credit.Repair](ctx, c, "CompleteRepair", req)
}

// RejectRepair rejects a repair application with a reason.
func (c *Client) RejectRepair(ctx context.Context, req credit.RejectRepairRequest) (*credit.Repair, Result, error) {
	return submitAs[credit.Repair](ctx, c, "RejectRepair", req)
}

// RaiseObjection records a subject's objection to a record.
func (c *Client) RaiseObjection(ctx context.Context, req credit.RaiseObjectionRequest) (*credit.Objection, Result, error) {
	return submitAs[credit.Objection](ctx, c, "RaiseObjection", req)
}

// AnswerObjection answers an objection (owning county only).
func (c *Client) AnswerObjection(ctx context.Context, req credit.AnswerObjectionRequest) (*credit.Objection, Result, error) {
	return submitAs[credit.Objection](ctx, c, "AnswerObjection", req)
}

func submitAs[T any](ctx context.Context, c *Client, fn string, req any) (*T, Result, error) {
	var out T
	res, err := c.Submit(ctx, fn, req, &out)
	if err != nil {
		return nil, res, err
	}
	return &out, res, nil
}

func evaluateAs[T any](ctx context.Context, c *Client, fn string, req any) (*T, Result, error) {
	var out T
	res, err := c.Evaluate(ctx, fn, req, &out)
	if err != nil {
		return nil, res, err
	}
	return &out, res, nil
}

// GetRecord returns one record, with its state derived at the proposal's
// time, decoded into its own type (*credit.Punishment, …).
func (c *Client) GetRecord(ctx context.Context, kind, id string) (credit.Record, Result, error) {
	var raw json.RawMessage
	res, err := c.Evaluate(ctx, "GetRecord", credit.RecordRequest{Kind: kind, ID: id}, &raw)
	if err != nil {
		return nil, res, err
	}
	rec, err := credit.DecodeRecord(raw)
	if err != nil {
		return nil, res, &TxError{Op: "GetRecord", Stage: StageEvaluate, TxID: res.TxID, Err: err}
	}
	return rec, res, nil
}

// SubjectRecords returns every record of a subject, sorted by kind then ID.
func (c *Client) SubjectRecords(ctx context.Context, subject string) (*credit.SubjectRecordsResult, Result, error) {
	return evaluateAs[credit.SubjectRecordsResult](ctx, c, "SubjectRecords", credit.SubjectRequest{Subject: subject})
}

// RecordHistory returns every version of a record, oldest first.
func (c *Client) RecordHistory(ctx context.Context, kind, id string) ([]credit.HistoryEntry, Result, error) {
	out, res, err := evaluateAs[[]credit.HistoryEntry](ctx, c, "RecordHistory", credit.RecordRequest{Kind: kind, ID: id})
	if err != nil {
		return nil, res, err
	}
	return *out, res, nil
}

// ListByCounty returns one page of a county's records of a kind,
// optionally in one (derived) state. Continue with the returned bookmark
// while it is not empty; a page may hold fewer than pageSize records.
func (c *Client) ListByCounty(ctx context.Context, req credit.ListByCountyRequest) (*credit.ListByCountyResult, Result, error) {
	return evaluateAs[credit.ListByCountyResult](ctx, c, "ListByCounty", req)
}

// ListAllByCounty pages through ListByCounty to the end.
func (c *Client) ListAllByCounty(ctx context.Context, req credit.ListByCountyRequest) (credit.Records, error) {
	if req.PageSize == 0 {
		req.PageSize = 200
	}
	var all credit.Records
	for {
		page, _, err := c.ListByCounty(ctx, req)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Records...)
		if page.Bookmark == "" {
			return all, nil
		}
		req.Bookmark = page.Bookmark
	}
}

// ListState returns one page of raw world state of an object type.
func (c *Client) ListState(ctx context.Context, req credit.ListStateRequest) (*credit.ListStateResult, Result, error) {
	return evaluateAs[credit.ListStateResult](ctx, c, "ListState", req)
}

// GetRuleSets returns every rule set, by effective date.
func (c *Client) GetRuleSets(ctx context.Context) ([]credit.RuleSet, Result, error) {
	out, res, err := evaluateAs[[]credit.RuleSet](ctx, c, "GetRuleSets", credit.Empty{})
	if err != nil {
		return nil, res, err
	}
	return *out, res, nil
}

// GetCalendar returns the installed calendar of a year (credit.ErrNotFound
// if none).
func (c *Client) GetCalendar(ctx context.Context, year int) (*credit.Calendar, Result, error) {
	return evaluateAs[credit.Calendar](ctx, c, "GetCalendar", credit.CalendarRequest{Year: year})
}

// ListCounties returns the registered counties by code.
func (c *Client) ListCounties(ctx context.Context) ([]credit.County, Result, error) {
	out, res, err := evaluateAs[[]credit.County](ctx, c, "ListCounties", credit.Empty{})
	if err != nil {
		return nil, res, err
	}
	return *out, res, nil
}

// Noop submits the chaincode's no-op transaction (benchmark ceiling).
func (c *Client) Noop(ctx context.Context) (Result, error) {
	return c.Submit(ctx, "Noop", credit.Empty{}, nil)
}

// BaselinePut submits the benchmark baseline write: one key, one JSON value.
func (c *Client) BaselinePut(ctx context.Context, req credit.BaselinePutRequest) (Result, error) {
	return c.Submit(ctx, "BaselinePut", req, nil)
}

package credit

// Context-free validation of requests, for clients: each Validate runs,
// in the chaincode's order, exactly the checks the chaincode (this package
// and the binding's record lookups) makes on a request before it looks at
// the caller, the ledger or the transaction time, by calling the same
// functions. A request that fails Validate is refused by the chaincode with
// the same *FieldError; one that passes may still be refused for reasons
// that need the ledger (the caller's role and county, the record's state,
// the transaction date). TestValidateAgreesWithChaincode holds the two
// together.

// Validate checks a RegisterCounty request.
func (r RegisterCountyRequest) Validate() error {
	if err := ValidateCountyCode("code", r.Code); err != nil {
		return err
	}
	return validateText("name", r.Name, true, maxShortText)
}

// Validate checks a MakeCommitment request. The deadline must also not be
// before the transaction date (checked by the chaincode).
func (r MakeCommitmentRequest) Validate() error {
	if err := ValidateID("id", r.ID); err != nil {
		return err
	}
	if r.Kind == "" {
		return invalid("kind", "is required (one of %v)", CommitmentKinds[:4])
	}
	if r.Kind == CommitmentRepair {
		return invalid("kind", "repair commitments are made by ApplyRepair, not MakeCommitment")
	}
	if !oneOf(r.Kind, CommitmentKinds) {
		return invalid("kind", "%q is not one of %v", r.Kind, CommitmentKinds[:4])
	}
	if _, err := ParseSubject("subject", r.Subject); err != nil {
		return err
	}
	if err := validateText("content", r.Content, true, maxContent); err != nil {
		return err
	}
	if err := validateHash("contentHash", r.ContentHash, false); err != nil {
		return err
	}
	deadline, err := validateDateField("deadline", r.Deadline, false)
	if err != nil {
		return err
	}
	if err := validateRequestedDept(r.Department); err != nil {
		return err
	}
	if r.Kind == CommitmentApproval && deadline.IsZero() {
		return invalid("deadline", "an approval-substitution commitment (告知承诺) needs the verification date set by the office")
	}
	return nil
}

// validateRequestedDept checks a department named in a request. The
// chaincode accepts the officer's own department (always well formed) or,
// for the credit office, another one that must match the pattern; so a
// malformed one is always refused.
func validateRequestedDept(d string) error {
	if d == "" {
		return nil
	}
	return ValidateDept("department", d)
}

// Validate checks a FulfilCommitment request.
func (r FulfilCommitmentRequest) Validate() error {
	if err := ValidateRef("id", r.ID); err != nil {
		return err
	}
	return validateText("note", r.Note, false, maxText)
}

// Validate checks a BreachCommitment request.
func (r BreachCommitmentRequest) Validate() error {
	if err := ValidateRef("id", r.ID); err != nil {
		return err
	}
	if err := ValidateRef("id", DishonestyID(r.ID)); err != nil {
		return err
	}
	return validateText("reason", r.Reason, true, maxText)
}

// Validate checks an ImposePunishment request. The decision date must also
// not be after the transaction date, and a cited dishonesty record must
// exist and be about the same subject (checked by the chaincode).
func (r ImposePunishmentRequest) Validate() error {
	if err := ValidateRef("id", r.ID); err != nil {
		return err
	}
	if r.DishonestyID != "" {
		if err := ValidateRef("dishonestyId", r.DishonestyID); err != nil {
			return err
		}
	}
	if err := ValidateID("id", r.ID); err != nil {
		return err
	}
	if _, err := ParseSubject("subject", r.Subject); err != nil {
		return err
	}
	if !oneOf(r.Kind, PunishmentKinds) {
		return invalid("kind", "%q is not one of %v", r.Kind, PunishmentKinds)
	}
	if !oneOf(r.Severity, Severities) {
		return invalid("severity", "%q is not one of %v", r.Severity, Severities)
	}
	if _, err := validateDateField("decisionDate", r.DecisionDate, true); err != nil {
		return err
	}
	if err := validateText("decisionNo", r.DecisionNo, true, maxShortText); err != nil {
		return err
	}
	if err := validateText("legalBasis", r.LegalBasis, true, maxText); err != nil {
		return err
	}
	if _, err := validateMeasures("measures", r.Measures); err != nil {
		return err
	}
	if err := validateText("summary", r.Summary, false, maxText); err != nil {
		return err
	}
	return validateRequestedDept(r.Department)
}

// Validate checks a RevokePunishment request.
func (r RevokePunishmentRequest) Validate() error {
	if err := ValidateRef("id", r.ID); err != nil {
		return err
	}
	return validateText("reason", r.Reason, true, maxText)
}

// Validate checks a RecordEnforcement request. The date must also be
// neither after the transaction date nor before the punishment's decision
// date, and the measure one of the punishment's (checked by the chaincode).
func (r RecordEnforcementRequest) Validate() error {
	if err := ValidateRef("id", r.ID); err != nil {
		return err
	}
	if err := ValidateRef("punishmentId", r.PunishmentID); err != nil {
		return err
	}
	if err := ValidateID("id", r.ID); err != nil {
		return err
	}
	if !oneOf(r.Measure, Measures) {
		return invalid("measure", "%q is not a measure code (one of %v)", r.Measure, Measures)
	}
	if _, err := validateDateField("date", r.Date, true); err != nil {
		return err
	}
	if err := validateText("detail", r.Detail, false, maxText); err != nil {
		return err
	}
	return validateRequestedDept(r.Department)
}

// Validate checks an ApplyRepair request.
func (r ApplyRepairRequest) Validate() error {
	if err := ValidateRef("id", r.ID); err != nil {
		return err
	}
	if err := ValidateRef("id", RepairCommitmentID(r.ID)); err != nil {
		return err
	}
	if err := ValidateRef("punishmentId", r.PunishmentID); err != nil {
		return err
	}
	if err := ValidateID("id", r.ID); err != nil {
		return err
	}
	return validateEvidence(r.Evidence)
}

// Validate checks an AcceptRepair request.
func (r RepairRequest) Validate() error {
	return ValidateRef("id", r.ID)
}

// Validate checks a CompleteRepair request.
func (r CompleteRepairRequest) Validate() error {
	if err := ValidateRef("id", r.ID); err != nil {
		return err
	}
	if r.Evidence != nil {
		if err := validateHash("training", r.Evidence.Training, false); err != nil {
			return prefixField("evidence", err)
		}
		if err := validateHash("creditReport", r.Evidence.CreditReport, false); err != nil {
			return prefixField("evidence", err)
		}
	}
	return nil
}

// Validate checks a RejectRepair request.
func (r RejectRepairRequest) Validate() error {
	if err := ValidateRef("id", r.ID); err != nil {
		return err
	}
	return validateText("reason", r.Reason, true, maxText)
}

// Validate checks a RaiseObjection request.
func (r RaiseObjectionRequest) Validate() error {
	if err := ValidateRef("id", r.ID); err != nil {
		return err
	}
	if !oneOf(r.RecordKind, ObjectionKinds) {
		return &FieldError{Field: "recordKind", Rule: "must be one of " + joinList(ObjectionKinds)}
	}
	if err := ValidateRef("recordId", r.RecordID); err != nil {
		return err
	}
	if err := ValidateID("id", r.ID); err != nil {
		return err
	}
	return validateText("reason", r.Reason, true, maxText)
}

func joinList(l []string) string {
	out := ""
	for i, s := range l {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

// Validate checks an AnswerObjection request, including the fields of a
// correction. Whether an action fits the disputed record (a commitment
// takes none; an upheld objection about a punishment needs one) depends
// on the record and is checked by the chaincode, as is a corrected decision
// date after the transaction date.
func (r AnswerObjectionRequest) Validate() error {
	if err := ValidateID("id", r.ID); err != nil {
		return err
	}
	if err := r.validateAnswer(); err != nil {
		return err
	}
	if r.Action == ActionCorrect {
		return r.Correction.validate()
	}
	return nil
}

// validateAnswer checks the decision, the answer and whether an action
// and a correction may be given at all.
func (r AnswerObjectionRequest) validateAnswer() error {
	if r.Decision != StateUpheld && r.Decision != StateDismissed {
		return invalid("decision", "%q is not one of [%s %s]", r.Decision, StateUpheld, StateDismissed)
	}
	if err := validateText("answer", r.Answer, true, maxText); err != nil {
		return err
	}
	if r.Decision == StateDismissed && (r.Action != "" || r.Correction != nil) {
		return invalid("action", "a dismissed objection takes no action")
	}
	if r.Action != "" && r.Action != ActionRevoke && r.Action != ActionCorrect {
		return invalid("action", "%q is not one of [%s %s]", r.Action, ActionRevoke, ActionCorrect)
	}
	if r.Action != ActionCorrect && r.Correction != nil {
		return invalid("correction", "is only allowed with action %q", ActionCorrect)
	}
	return nil
}

// validate runs validateCorrection's context-free checks: the same
// functions, on the same fields, in the same order.
func (c *Correction) validate() error {
	if c == nil {
		return invalid("correction", "is required when action is %q", ActionCorrect)
	}
	changed := false
	if c.PunishmentKind != "" {
		if !oneOf(c.PunishmentKind, PunishmentKinds) {
			return invalid("correction.punishmentKind", "%q is not one of %v", c.PunishmentKind, PunishmentKinds)
		}
		changed = true
	}
	if c.Severity != "" {
		if !oneOf(c.Severity, Severities) {
			return invalid("correction.severity", "%q is not one of %v", c.Severity, Severities)
		}
		changed = true
	}
	if c.DecisionDate != "" {
		if _, err := validateDateField("correction.decisionDate", c.DecisionDate, true); err != nil {
			return err
		}
		changed = true
	}
	if c.DecisionNo != "" {
		if err := validateText("correction.decisionNo", c.DecisionNo, true, maxShortText); err != nil {
			return err
		}
		changed = true
	}
	if c.LegalBasis != "" {
		if err := validateText("correction.legalBasis", c.LegalBasis, true, maxText); err != nil {
			return err
		}
		changed = true
	}
	if c.Measures != nil {
		if _, err := validateMeasures("correction.measures", c.Measures); err != nil {
			return err
		}
		changed = true
	}
	if !changed {
		return invalid("correction", "must change at least one of punishmentKind, severity, decisionDate, decisionNo, legalBasis, measures")
	}
	return nil
}

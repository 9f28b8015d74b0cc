package cli

import (
	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
)

func init() {
	commandAdders = append(commandAdders, NewCmdEnforcement)
}

// NewCmdEnforcement is the "enforcement" noun.
func NewCmdEnforcement(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "enforcement <record|list>",
		Short: "Cross-county enforcement (跨区域联合惩戒): record that your county applied a measure",
		Long: `Any county enforces the joint measures of any county's punishment: refusing a
government contract, a subsidy, a tender… Recording it tells the imposing
county and everyone else that the measure was applied, when, and by whom. The
enforcement belongs to your county.`,
	}
	cmd.AddCommand(
		NewCmdEnforcementRecord(f, nil),
		newCmdList(f, credit.TypeEnforcement, "recorded", `  creditctl --county 330182 enforcement list
  creditctl enforcement list --of-county 330182 -o json`, nil),
	)
	return cmd
}

// EnforcementRecordOptions are the inputs of `enforcement record`.
type EnforcementRecordOptions struct {
	Base
	File   string
	Req    credit.RecordEnforcementRequest
	Fields []string
}

var enforcementRecordFlags = flagFields{
	"id": "id", "punishment": "punishmentId", "measure": "measure", "date": "date",
	"detail": "detail", "department": "department",
}

// NewCmdEnforcementRecord builds `enforcement record`.
func NewCmdEnforcementRecord(f *Factory, runF func(*EnforcementRecordOptions) error) *cobra.Command {
	opts := &EnforcementRecordOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "record --punishment ID --measure MEASURE [--date DATE] [flags]",
		Short: "Record that your county applied one of a punishment's joint measures",
		Long: `Record an enforcement by your county of a measure the punishment carries, on
--date (default today; not after today, not before the decision date). The
punishment must be active. The ID is generated (ENF-<county>-<date>-<hex>)
unless --id is given, and printed.`,
		Example: `  creditctl --county 330182 enforcement record --punishment PUN-330782-20261123-4f9a0c \
      --measure procurement --detail "拒绝其参加建德市政府采购项目（项目编号JD2026-118）" --department finance
  creditctl --county 330182 enforcement record -f enforcement.json`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Fields = enforcementRecordFlags.changed(cmd)
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runEnforcementRecord(opts)
		},
	}
	fl := cmd.Flags()
	fileFlag(cmd, &opts.File)
	fl.StringVar(&opts.Req.ID, "id", "", "record ID (default: generated, e.g. ENF-330182-20261123-4f9a0c)")
	fl.StringVar(&opts.Req.PunishmentID, "punishment", "", "the punishment's ID (any county's)")
	fl.StringVar(&opts.Req.Measure, "measure", "", "the measure applied (one of the punishment's)")
	fl.StringVar(&opts.Req.Date, "date", "today", "when it was applied: YYYY-MM-DD or relative (-3d)")
	fl.StringVar(&opts.Req.Detail, "detail", "", "what was done")
	fl.StringVar(&opts.Req.Department, "department", "", "enforcing department (credit-office officers may name any)")
	_ = cmd.RegisterFlagCompletionFunc("measure", fixedCompletion(credit.Measures...))
	return cmd
}

func runEnforcementRecord(o *EnforcementRecordOptions) error {
	var req credit.RecordEnforcementRequest
	if err := loadRequest(o.File, o.IO.In, &req, &o.Req, o.Fields); err != nil {
		return err
	}
	if req.Date == "" {
		req.Date = "today"
	}
	var err error
	if req.Date, err = parseDateArg("date (--date)", req.Date, o.Now()); err != nil {
		return err
	}
	if err := o.checkThenID(&req.ID, prefixEnforcement, enforcementRecordFlags, func() error { return req.Validate() }); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return enforcementRecordFlags.nameFlag(err)
	}
	if err := notAfterToday("date (--date)", req.Date, o.Now()); err != nil {
		return err
	}
	return submitWrite(&o.Base, enforcementRecordFlags, req, "recording enforcement "+req.ID+" of punishment "+req.PunishmentID, Ledger.RecordEnforcement)
}

package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
)

func init() {
	commandAdders = append(commandAdders, NewCmdRules)
}

// NewCmdRules is the "rules" noun.
func NewCmdRules(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules <install|show>",
		Short: "Publicity and repair rule sets: minimum and maximum periods per severity",
		Long: `A rule set says, per severity, the minimum and maximum publicity periods and
whether a case can be repaired. A punishment keeps the version in force at its
decision date. The built-in ndrc-2019 (the NDRC notice, seed 001) is always
there; an admin installs later versions, which are never redefined.`,
	}
	cmd.AddCommand(NewCmdRulesInstall(f, nil), NewCmdRulesShow(f, nil))
	return cmd
}

// RulesInstallOptions are the inputs of `rules install`.
type RulesInstallOptions struct {
	Base
	File string
}

// NewCmdRulesInstall builds `rules install`.
func NewCmdRulesInstall(f *Factory, runF func(*RulesInstallOptions) error) *cobra.Command {
	opts := &RulesInstallOptions{Base: f.base()}
	opts.Ledger = f.AdminLedger
	cmd := &cobra.Command{
		Use:   "install -f RULESET.json",
		Short: "Install a new rule set version (admin)",
		Long: `Install a rule set from a JSON file (the RuleSet of docs/DESIGN.md §8: version,
effectiveFrom, title, source, needsChecking, general, serious, special). It is
checked here first (periods, repairability, the specially serious case never
repairable). Runs as the county's admin unless --user or --msp is given.`,
		Example: `  creditctl rules install -f chaincode/credit/rules/ndrc-2023-order58.json`,
		Args:    usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.File == "" {
				return &UsageError{Err: fmt.Errorf("rules install needs -f RULESET.json")}
			}
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runRulesInstall(opts)
		},
	}
	fileFlag(cmd, &opts.File)
	return cmd
}

// ruleSetRequest is a rule set with the pointer Validate of credit.RuleSet.
type ruleSetRequest struct{ credit.RuleSet }

func (r ruleSetRequest) Validate() error { return r.RuleSet.Validate() }

func runRulesInstall(o *RulesInstallOptions) error {
	var rs credit.RuleSet
	if err := loadRequest(o.File, o.IO.In, &rs, &credit.RuleSet{}, nil); err != nil {
		return err
	}
	return submitWrite(&o.Base, nil, ruleSetRequest{rs}, "installing rule set "+rs.Version,
		func(l Ledger, ctx context.Context, r ruleSetRequest) (*credit.RuleSet, client.Result, error) {
			return l.InstallRuleSet(ctx, r.RuleSet)
		})
}

// RulesShowOptions are the inputs of `rules show`.
type RulesShowOptions struct {
	Base
	Version string // "" = all
}

// NewCmdRulesShow builds `rules show`.
func NewCmdRulesShow(f *Factory, runF func(*RulesShowOptions) error) *cobra.Command {
	opts := &RulesShowOptions{Base: f.base()}
	return &cobra.Command{
		Use:   "show [version]",
		Short: "Show the rule sets in force, by effective date (or one version in full)",
		Example: `  creditctl rules show
  creditctl rules show ndrc-2019 -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return &UsageError{Err: fmt.Errorf("rules show takes at most one version, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Version = args[0]
			}
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runRulesShow(opts)
		},
	}
}

func runRulesShow(o *RulesShowOptions) error {
	return o.withLedger(func(ctx context.Context, l Ledger) error {
		sets, _, err := l.GetRuleSets(ctx)
		if err != nil {
			return err
		}
		p := o.Printer()
		if o.Version != "" {
			for _, rs := range sets {
				if rs.Version == o.Version {
					return p.WriteRecord(rs)
				}
			}
			return fmt.Errorf("rule set %q: %w", o.Version, credit.ErrNotFound)
		}
		if p.JSON() {
			if sets == nil {
				sets = []credit.RuleSet{}
			}
			return p.WriteJSON(sets)
		}
		headers := []string{p.Label("version"), p.Label("effectiveFrom"), p.Value("severity", "general"),
			p.Value("severity", "serious"), p.Value("severity", "special"), p.Label("needsChecking"), p.Label("title")}
		var rows [][]string
		for _, rs := range sets {
			rows = append(rows, []string{rs.Version, rs.EffectiveFrom, p.period(rs.General), p.period(rs.Serious),
				p.period(rs.Special), p.Value("needsChecking", strconv.FormatBool(rs.NeedsChecking)), rs.Title})
		}
		return p.Table(headers, rows)
	})
}

// period summarises a severity rule: "3-36 months, repairable".
func (p *Printer) period(r credit.SeverityRule) string {
	if p.Lang == "zh" {
		s := fmt.Sprintf("%d-%d个月", r.MinMonths, r.MaxMonths)
		switch {
		case r.Repairable && r.RequiresTrainingAndReport:
			return s + "，可修复(需培训和信用报告)"
		case r.Repairable:
			return s + "，可修复"
		}
		return s + "，不可修复"
	}
	s := fmt.Sprintf("%d-%d months", r.MinMonths, r.MaxMonths)
	switch {
	case r.Repairable && r.RequiresTrainingAndReport:
		return s + ", repairable with training and report"
	case r.Repairable:
		return s + ", repairable"
	}
	return s + ", not repairable"
}

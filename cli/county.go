package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
)

func init() {
	commandAdders = append(commandAdders, NewCmdCounty)
}

// NewCmdCounty is the "county" noun.
func NewCmdCounty(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "county <register|list>",
		Short: "The county registry: which organisation (MSP) is which county",
		Long: `The chaincode knows a caller's county only through the on-ledger registry,
which maps a Fabric MSP ID to a county division code. A county's admin
registers its own organisation once (creditctl network up does it for the
local network).`,
	}
	cmd.AddCommand(NewCmdCountyRegister(f, nil), NewCmdCountyList(f, nil))
	return cmd
}

// CountyRegisterOptions are the inputs of `county register`.
type CountyRegisterOptions struct {
	Base
	Req credit.RegisterCountyRequest
	// Defaults fills an empty code and name from the profile.
	Defaults func() (code, name string, err error)
}

// NewCmdCountyRegister builds `county register`.
func NewCmdCountyRegister(f *Factory, runF func(*CountyRegisterOptions) error) *cobra.Command {
	opts := &CountyRegisterOptions{Base: f.base()}
	opts.Ledger = f.AdminLedger
	opts.Defaults = func() (string, string, error) {
		c, err := f.Caller()
		if err != nil {
			return "", "", err
		}
		return c.County.Code, c.County.Name, nil
	}
	cmd := &cobra.Command{
		Use:   "register [--code CODE] [--name NAME]",
		Short: "Register your organisation as a county (admin; once)",
		Long: `Register the calling organisation as the county with the given division code
and name (default: the --county's code and name in the profile). It runs as
the county's admin (the profile's adminMsp) unless --user or --msp names
another identity with the admin role.`,
		Example: `  creditctl --county 330782 county register
  creditctl --county 330782 county register --code 330782 --name 义乌市`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCountyRegister(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Req.Code, "code", "", "6-digit division code (default: the county's in the profile)")
	cmd.Flags().StringVar(&opts.Req.Name, "name", "", "the county's name (default: the profile's)")
	return cmd
}

func runCountyRegister(o *CountyRegisterOptions) error {
	req := o.Req
	if req.Code == "" || req.Name == "" {
		code, name, err := o.Defaults()
		if err != nil {
			return err
		}
		if req.Code == "" {
			req.Code = code
		}
		if req.Name == "" {
			req.Name = name
		}
	}
	return submitWrite(&o.Base, flagFields{"code": "code", "name": "name"}, req, "registering county "+req.Code, Ledger.RegisterCounty)
}

// CountyListOptions are the inputs of `county list`.
type CountyListOptions struct{ Base }

// NewCmdCountyList builds `county list`.
func NewCmdCountyList(f *Factory, runF func(*CountyListOptions) error) *cobra.Command {
	opts := &CountyListOptions{Base: f.base()}
	return &cobra.Command{
		Use:   "list",
		Short: "List the registered counties",
		Example: `  creditctl county list
  creditctl county list -o json`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCountyList(opts)
		},
	}
}

func runCountyList(o *CountyListOptions) error {
	return o.withLedger(func(ctx context.Context, l Ledger) error {
		cs, _, err := l.ListCounties(ctx)
		if err != nil {
			return err
		}
		p := o.Printer()
		if p.JSON() {
			if cs == nil {
				cs = []credit.County{}
			}
			return p.WriteJSON(cs)
		}
		cols := []string{"code", "name", "mspId", "createdAt"}
		headers := make([]string, len(cols))
		for i, c := range cols {
			headers[i] = p.Label(c)
		}
		rows := make([][]string, 0, len(cs))
		for _, c := range cs {
			rows = append(rows, []string{c.Code, c.Name, c.MSPID, c.CreatedAt})
		}
		return p.Table(headers, rows)
	})
}

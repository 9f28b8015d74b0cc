package cli

import (
	"errors"
	"slices"
	"sort"
	"testing"

	"github.com/spf13/cobra"
)

// parse runs a command built by build on args with a capturing runF and
// returns the error; build is handed the Factory.
func parse(t *testing.T, build func(*Factory) *cobra.Command, args ...string) error {
	t.Helper()
	ios, _, _, _ := Test()
	f := &Factory{IO: ios, Getenv: func(string) string { return "" }}
	root := NewRootCmd(f)
	// Parse through the root so its persistent flags (settings) apply.
	root.ResetCommands()
	root.AddCommand(build(f))
	root.SetArgs(args)
	return root.Execute()
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func TestCommitmentMakeParsing(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		check  func(*testing.T, *CommitmentMakeOptions)
		usages bool
	}{
		{"flags fill the request and list the fields given", []string{"make", "--kind", "missing-materials", "--subject", "S",
			"--content", "补交", "--deadline", "+7d", "--department", "market", "--document", "d.pdf"}, func(t *testing.T, o *CommitmentMakeOptions) {
			if o.Req.Kind != "missing-materials" || o.Req.Subject != "S" || o.Req.Content != "补交" || o.Req.Deadline != "+7d" ||
				o.Req.Department != "market" || o.Document != "d.pdf" || o.File != "" {
				t.Errorf("opts = %+v", o)
			}
			if got := sorted(o.Fields); !slices.Equal(got, []string{"content", "deadline", "department", "kind", "subject"}) {
				t.Errorf("fields = %v", got)
			}
		}, false},
		{"file and person id", []string{"make", "-f", "c.json", "--person-id", "330782199001011234"}, func(t *testing.T, o *CommitmentMakeOptions) {
			if o.File != "c.json" || o.PersonID != "330782199001011234" || len(o.Fields) != 0 {
				t.Errorf("opts = %+v", o)
			}
		}, false},
		{"settings reach the base", []string{"--lang", "zh", "-o", "json", "make"}, func(t *testing.T, o *CommitmentMakeOptions) {
			if o.Lang != "zh" || o.Output != "json" {
				t.Errorf("base = %+v", o.Base)
			}
		}, false},
		{"positional argument", []string{"make", "extra"}, nil, true},
		{"unknown flag", []string{"make", "--colour", "red"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *CommitmentMakeOptions
			err := parse(t, func(f *Factory) *cobra.Command {
				c := &cobra.Command{Use: "commitment"}
				c.AddCommand(NewCmdCommitmentMake(f, func(o *CommitmentMakeOptions) error { got = o; return nil }))
				return c
			}, append([]string{"commitment"}, tt.args...)...)
			if tt.usages {
				// settings flags come before the noun in the table's args
				if code := ExitCode(err); code != ExitUsage {
					t.Fatalf("exit %d (%v), want %d", code, err, ExitUsage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

func TestPunishmentImposeParsing(t *testing.T) {
	var got *PunishmentImposeOptions
	err := parse(t, func(f *Factory) *cobra.Command {
		return NewCmdPunishmentImpose(f, func(o *PunishmentImposeOptions) error { got = o; return nil })
	}, "impose", "--subject", "S", "--kind", "blacklist", "--severity", "serious", "--decision-date=-4m",
		"--decision-no", "N", "--legal-basis", "L", "--measure", "bidding,financing", "--measure", "procurement",
		"--dishonesty-id", "C.breach", "--summary", "x")
	if err != nil {
		t.Fatal(err)
	}
	r := got.Req
	if r.Subject != "S" || r.Kind != "blacklist" || r.Severity != "serious" || r.DecisionDate != "-4m" || r.DecisionNo != "N" ||
		r.LegalBasis != "L" || !slices.Equal(r.Measures, []string{"bidding", "financing", "procurement"}) ||
		r.DishonestyID != "C.breach" || r.Summary != "x" {
		t.Errorf("request = %+v", r)
	}
	if len(got.Fields) != 9 {
		t.Errorf("fields = %v", got.Fields)
	}
}

func TestRecordVerbsTakeOneID(t *testing.T) {
	builders := map[string]func(*Factory) *cobra.Command{
		"commitment": NewCmdCommitment, "punishment": NewCmdPunishment, "repair": NewCmdRepair,
		"objection": NewCmdObjection,
	}
	tests := []struct {
		noun string
		args []string
	}{
		{"commitment", []string{"fulfil"}},
		{"commitment", []string{"breach", "a", "b"}},
		{"commitment", []string{"show"}},
		{"punishment", []string{"revoke"}},
		{"punishment", []string{"show", "a", "b"}},
		{"repair", []string{"accept"}},
		{"repair", []string{"complete"}},
		{"repair", []string{"reject"}},
		{"repair", []string{"show"}},
		{"objection", []string{"answer"}},
	}
	for _, tt := range tests {
		t.Run(tt.noun+" "+tt.args[0], func(t *testing.T) {
			err := parse(t, builders[tt.noun], append([]string{tt.noun}, tt.args...)...)
			if code := ExitCode(err); code != ExitUsage {
				t.Fatalf("exit %d (%v), want %d", code, err, ExitUsage)
			}
		})
	}
}

func TestRepairApplyParsingCollectsDocuments(t *testing.T) {
	var got *RepairApplyOptions
	err := parse(t, func(f *Factory) *cobra.Command {
		return NewCmdRepairApply(f, func(o *RepairApplyOptions) error { got = o; return nil })
	}, "apply", "--punishment", "P1", "--identity-doc", "a", "--penalty-doc", "b", "--commitment-doc", "c", "--credit-report-doc", "r")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"identity": "a", "penaltyFulfilled": "b", "repairCommitment": "c", "creditReport": "r"}
	if len(got.Docs) != len(want) {
		t.Fatalf("docs = %v", got.Docs)
	}
	for k, v := range want {
		if got.Docs[k] != v {
			t.Errorf("docs[%s] = %q, want %q", k, got.Docs[k], v)
		}
	}
	if got.Req.PunishmentID != "P1" {
		t.Errorf("punishment = %q", got.Req.PunishmentID)
	}
}

func TestObjectionAnswerCorrectionFlags(t *testing.T) {
	var got *ObjectionAnswerOptions
	err := parse(t, func(f *Factory) *cobra.Command {
		return NewCmdObjectionAnswer(f, func(o *ObjectionAnswerOptions) error { got = o; return nil })
	}, "answer", "OBJ-1", "--decision", "upheld", "--answer", "更正", "--correct-severity", "general", "--correct-measure", "bidding")
	if err != nil {
		t.Fatal(err)
	}
	c := got.Req.Correction
	if got.Req.ID != "OBJ-1" || c == nil || c.Severity != "general" || !slices.Equal(c.Measures, []string{"bidding"}) || c.DecisionNo != "" {
		t.Fatalf("request = %+v, correction %+v", got.Req, c)
	}
	if !slices.Contains(got.Fields, "correction") || !slices.Contains(got.Fields, "id") {
		t.Errorf("fields = %v", got.Fields)
	}
}

func TestListParsing(t *testing.T) {
	var got *ListOptions
	err := parse(t, func(f *Factory) *cobra.Command {
		return newCmdList(f, "punishment", "active", "", func(o *ListOptions) error { got = o; return nil })
	}, "list", "--state", "active", "--of-county", "330182", "--limit", "5")
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != "punishment" || got.State != "active" || got.County != "330182" || got.Limit != 5 {
		t.Errorf("opts = %+v", got)
	}
	err = parse(t, func(f *Factory) *cobra.Command {
		return newCmdList(f, "punishment", "active", "", func(*ListOptions) error { return nil })
	}, "list", "--limit", "-1")
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Errorf("negative limit: err = %v, want a usage error", err)
	}
}

// TestEveryCommandHasExamples: examples in every --help (issue 4).
func TestEveryCommandHasExamples(t *testing.T) {
	ios, _, _, _ := Test()
	root := NewRootCmd(&Factory{IO: ios})
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && !c.HasSubCommands() && c.Name() != "help" && c.Parent() != nil && c.Parent().Name() != "completion" &&
			c.Example == "" {
			t.Errorf("%s has no examples", c.CommandPath())
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

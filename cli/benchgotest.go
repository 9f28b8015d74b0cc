package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// The benchmarks of the indexer and the certificates are Go benchmarks
// (go test -bench) that report their figures and their baselines with
// b.ReportMetric. `make bench` runs them with -json; ParseGoBench reads
// that output (or the plain text one) and GoBenchRows turns the metrics
// into rows of the table, as goBenchRowSpecs says.

// GoBench is one benchmark's result line.
type GoBench struct {
	Package string `json:"package"` // import path ("" if the output did not say)
	// Name without the -GOMAXPROCS suffix, e.g. "BenchmarkIngest/disk".
	Name    string             `json:"name"`
	N       int                `json:"n"`
	Metrics map[string]float64 `json:"metrics"` // unit → value, "ns/op" included
}

type testEvent struct {
	Action  string
	Package string
	Output  string
}

var (
	reBenchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)
	reBenchName = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s*$`)
)

// ParseGoBench reads `go test -bench` output, either -json events or plain
// text, and returns every benchmark result line in order. In -json output
// the pieces of a line may come in several events (the name is printed
// before the benchmark runs), so the output is joined per package before
// it is split into lines. A name line whose result comes after log lines
// is joined with its result.
func ParseGoBench(r io.Reader) ([]GoBench, error) {
	type pkgText struct {
		name string
		text strings.Builder
	}
	var order []*pkgText
	byPkg := map[string]*pkgText{}
	text := func(pkg string) *strings.Builder {
		p, ok := byPkg[pkg]
		if !ok {
			p = &pkgText{name: pkg}
			byPkg[pkg] = p
			order = append(order, p)
		}
		return &p.text
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		line := sc.Bytes()
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] == '{' {
			var ev testEvent
			if err := json.Unmarshal(t, &ev); err != nil {
				return nil, fmt.Errorf("parse go test -json event %.80q: %w", t, err)
			}
			if ev.Action == "output" {
				text(ev.Package).WriteString(ev.Output)
			}
			continue
		}
		text("").Write(line)
		text("").WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read go test output: %w", err)
	}
	var out []GoBench
	for _, p := range order {
		pkg := p.name
		pending := "" // a benchmark name waiting for its result
		for _, line := range strings.Split(p.text.String(), "\n") {
			line = strings.TrimRight(line, "\r")
			if rest, ok := strings.CutPrefix(line, "pkg: "); ok && p.name == "" {
				pkg = strings.TrimSpace(rest)
				continue
			}
			if m := reBenchName.FindStringSubmatch(line); m != nil {
				pending = m[1]
				continue
			}
			if pending != "" && !strings.HasPrefix(line, "Benchmark") {
				if f := strings.Fields(line); len(f) > 1 && isInt(f[0]) && len(f)%2 == 1 {
					line = pending + "\t" + line
				}
			}
			m := reBenchLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			b, ok := parseMetrics(m[3])
			if !ok {
				continue
			}
			n, _ := strconv.Atoi(m[2])
			out = append(out, GoBench{Package: pkg, Name: m[1], N: n, Metrics: b})
			pending = ""
		}
	}
	return out, nil
}

func isInt(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// parseMetrics reads "123 ns/op  4.5 ingest/decode …" pairs.
func parseMetrics(s string) (map[string]float64, bool) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f)%2 != 0 {
		return nil, false
	}
	m := make(map[string]float64, len(f)/2)
	for i := 0; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil, false
		}
		m[f[i+1]] = v
	}
	return m, true
}

// metricRef names one metric of one benchmark and how to show it.
type metricRef struct {
	Metric string  // the unit b.ReportMetric used, e.g. "ingest-blocks/s"
	Unit   string  // the unit in the table
	Scale  float64 // multiplies the metric into Unit (0 = 1)
}

func (m metricRef) value(b *GoBench) (Value, bool) {
	if b == nil {
		return Missing(m.Unit), false
	}
	v, ok := b.Metrics[m.Metric]
	if !ok {
		return Missing(m.Unit), false
	}
	if m.Scale != 0 {
		v *= m.Scale
	}
	return Value{V: v, Unit: m.Unit}, true
}

// goBenchRowSpec says how a Go benchmark becomes a row.
type goBenchRowSpec struct {
	Section, Name string
	// Package is the import path's suffix after the module, Bench the
	// benchmark's name (with sub-benchmark).
	Package, Bench string
	Figure         metricRef
	BaselineName   string
	Baseline       metricRef
	// Note is a template: {metric} is replaced by that metric's value.
	Note string
}

// GoBenchSource tells where a missing benchmark comes from, for the note
// of its row.
const goBenchModule = "github.com/countycredit/creditledger/"

// find returns the benchmark's last result (the last run wins when a
// benchmark was run more than once).
func findGoBench(bs []GoBench, pkg, name string) *GoBench {
	for i := len(bs) - 1; i >= 0; i-- {
		if (bs[i].Package == goBenchModule+pkg || bs[i].Package == pkg) && bs[i].Name == name {
			return &bs[i]
		}
	}
	return nil
}

var reNoteMetric = regexp.MustCompile(`\{([^}]+)\}`)

// GoBenchRows makes the rows of specs from the results. A benchmark or a
// metric that is missing gives a row with a missing value and a note
// saying which; the caller decides whether that is a failure.
func GoBenchRows(specs []goBenchRowSpec, bs []GoBench) []Row {
	rows := make([]Row, 0, len(specs))
	for _, s := range specs {
		b := findGoBench(bs, s.Package, s.Bench)
		fig, okF := s.Figure.value(b)
		base, okB := s.Baseline.value(b)
		r := Row{Section: s.Section, Name: s.Name, Figure: fig, BaselineName: s.BaselineName, Baseline: base}
		switch {
		case b == nil:
			r.Note = fmt.Sprintf("not run: %s %s", s.Package, s.Bench)
		case !okF || !okB:
			var miss []string
			if !okF {
				miss = append(miss, s.Figure.Metric)
			}
			if !okB {
				miss = append(miss, s.Baseline.Metric)
			}
			r.Note = fmt.Sprintf("%s did not report %s", s.Bench, strings.Join(miss, ", "))
		default:
			r.Note = reNoteMetric.ReplaceAllStringFunc(s.Note, func(m string) string {
				v, ok := b.Metrics[m[1:len(m)-1]]
				if !ok || math.IsNaN(v) {
					return "?"
				}
				return sig3(v)
			})
		}
		rows = append(rows, r)
	}
	return rows
}

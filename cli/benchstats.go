package cli

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Statistics and the table of `creditctl bench` (docs/PERFORMANCE.md). A
// row is one figure, the baseline it is compared with (measured in the
// same run) and the ratio figure ÷ baseline; nothing here judges a number
// good or bad.

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of a
// sample: the smallest value with at least p% of the sample at or below
// it. It is 0 for an empty sample. d is not modified.
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// LatencySummary describes a sample of latencies, in milliseconds.
type LatencySummary struct {
	Count int     `json:"count"`
	Mean  float64 `json:"meanMs"`
	P50   float64 `json:"p50Ms"`
	P90   float64 `json:"p90Ms"`
	P99   float64 `json:"p99Ms"`
	Max   float64 `json:"maxMs"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Summarize computes the summary of a sample.
func Summarize(d []time.Duration) LatencySummary {
	if len(d) == 0 {
		return LatencySummary{}
	}
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return LatencySummary{
		Count: len(d),
		Mean:  ms(sum / time.Duration(len(d))),
		P50:   ms(Percentile(d, 50)),
		P90:   ms(Percentile(d, 90)),
		P99:   ms(Percentile(d, 99)),
		Max:   ms(Percentile(d, 100)),
	}
}

// Ratio is figure ÷ baseline; NaN when either is missing (NaN) or the
// baseline is zero.
func Ratio(figure, baseline float64) float64 {
	if math.IsNaN(figure) || math.IsNaN(baseline) || baseline == 0 {
		return math.NaN()
	}
	return figure / baseline
}

// Value is a measured number with its unit ("tx/s", "ms", "µs", "ns",
// "blocks/s"). NaN means not measured.
type Value struct {
	V    float64 `json:"value"`
	Unit string  `json:"unit"`
}

// Missing is a Value that was not measured.
func Missing(unit string) Value { return Value{V: math.NaN(), Unit: unit} }

// String formats with three significant digits (at least the integer
// part) and the unit: "312 tx/s", "84.2 ms", "0.0412 ms"; "—" if missing.
func (v Value) String() string {
	if math.IsNaN(v.V) {
		return "—"
	}
	return sig3(v.V) + " " + v.Unit
}

// sig3 formats x with three significant digits, never in exponent form,
// with thousands separated by commas.
func sig3(x float64) string {
	if x == 0 {
		return "0"
	}
	a := math.Abs(x)
	dec := 0
	if a < 100 {
		dec = 2 - int(math.Floor(math.Log10(a)))
	}
	s := strconv.FormatFloat(x, 'f', dec, 64)
	if dec == 0 {
		return commas(s)
	}
	return s
}

func commas(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatRatio prints a ratio with three significant digits and a "×";
// "—" when it cannot be computed.
func FormatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "—"
	}
	return sig3(r) + "×"
}

// Row is one line of the bench table.
type Row struct {
	// Section groups rows: "Ledger throughput", "Tuning", "Latency", …
	Section string `json:"section"`
	// Name says what the figure measures.
	Name   string `json:"name"`
	Figure Value  `json:"figure"`
	// BaselineName says what the baseline is.
	BaselineName string `json:"baselineName"`
	Baseline     Value  `json:"baseline"`
	// Note adds context (sample size, block size, a missing benchmark).
	Note string `json:"note,omitempty"`
}

// Ratio is the row's figure ÷ baseline.
func (r Row) Ratio() float64 { return Ratio(r.Figure.V, r.Baseline.V) }

// Complete reports whether both numbers were measured.
func (r Row) Complete() bool { return !math.IsNaN(r.Figure.V) && !math.IsNaN(r.Baseline.V) }

// TableHeader is the context printed above the table: when, where, how.
type TableHeader struct {
	Date    time.Time `json:"date"`
	Machine string    `json:"machine"`
	Load    string    `json:"load"`
	Command string    `json:"command"`
	Notes   []string  `json:"notes,omitempty"`
}

// WriteTable writes the header and the rows as a Markdown table, which
// reads as plain text in a terminal too. Rows keep their order; a section
// name is printed on its first row only.
func WriteTable(w io.Writer, h TableHeader, rows []Row) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Date: %s  \n", h.Date.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Machine: %s  \n", h.Machine)
	if h.Load != "" {
		fmt.Fprintf(&b, "Load: %s  \n", h.Load)
	}
	fmt.Fprintf(&b, "Command: `%s`\n", h.Command)
	for _, n := range h.Notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	b.WriteString("\n| | measurement | figure | baseline (same run) | ratio | note |\n|---|---|--:|---|--:|---|\n")
	last := ""
	for _, r := range rows {
		sec := ""
		if r.Section != last {
			sec, last = "**"+r.Section+"**", r.Section
		}
		base := r.Baseline.String()
		if r.BaselineName != "" {
			base = r.BaselineName + ": " + base
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", sec, cell(r.Name), r.Figure, cell(base), FormatRatio(r.Ratio()), cell(r.Note))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell keeps a table cell on one line and its pipes literal.
func cell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

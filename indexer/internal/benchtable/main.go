// Command benchtable turns the output of the indexer's benchmarks (go test
// -bench, read from standard input) into the table `make bench-indexer`
// prints: one row per measurement, each with the baseline measured in the
// same run and the ratio, headed by the command, the date and the machine.
// It passes the benchmark output through to standard error, and fails if
// a benchmark it expects is missing or any benchmark failed.
//
//	go test -bench … | go run ./indexer/internal/benchtable -command 'make bench-indexer'
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// The network ingest benchmark's two sets of blocks.
const (
	ingestQuiet  = "BenchmarkIndexIngestVsDelivery/blocks=quiet"
	ingestLoaded = "BenchmarkIndexIngestVsDelivery/blocks=loaded"
)

// result is one benchmark's metrics by unit.
type result map[string]float64

func main() {
	command := flag.String("command", "make bench-indexer", "the command that ran the benchmarks, for the heading")
	flag.Parse()
	results, failed, err := parse(io.TeeReader(os.Stdin, os.Stderr))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	fmt.Print(table(*command, results))
	if failed {
		fmt.Fprintln(os.Stderr, "benchtable: a benchmark failed (see above)")
		os.Exit(1)
	}
	for _, want := range []string{"BenchmarkReplay", ingestQuiet, ingestLoaded, "BenchmarkIndexSubjectProfile"} {
		if results[want] == nil {
			fmt.Fprintf(os.Stderr, "benchtable: no result for %s\n", want)
			os.Exit(1)
		}
	}
}

// parse reads benchmark lines: "BenchmarkX-2  3  123 ns/op  4.5 unit …".
func parse(r io.Reader) (map[string]result, bool, error) {
	out := map[string]result{}
	failed := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL") {
			failed = true
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i]
		}
		res := result{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			res[f[i+1]] = v
		}
		out[name] = res
	}
	return out, failed, sc.Err()
}

func num(v float64) string {
	switch {
	case v >= 100:
		return group(strconv.FormatFloat(v, 'f', 0, 64))
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// group puts thousands separators into an integer string.
func group(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = fmt.Sprintf("; load average at the end %s %s %s", f[0], f[1], f[2])
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs (%s), %s%s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), model, runtime.Version(), load)
}

func table(command string, rs map[string]result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nIndexer benchmarks: `%s`, %s, %s\n\n", command, time.Now().UTC().Format("2006-01-02 15:04 MST"), machine())
	b.WriteString("| measurement | result | baseline, same run | ratio | target |\n|---|---|---|---|---|\n")
	for _, c := range []struct{ name, what string }{
		{ingestQuiet, "a quiet network's blocks from block 0: 8 clients one transaction at a time"},
		{ingestLoaded, "the blocks cut while 100 clients ran the credit mix (`bench load --workload mix`)"},
	} {
		r := rs[c.name]
		if r == nil {
			continue
		}
		fmt.Fprintf(&b, "| ingest from the peer: Follow into an index on disk, one synced batch per block; %s (%s blocks, %s txs each, of a real 3-county network) | %s blocks/s, %s txs/s; CPU a block: %s µs here + %s µs the peer | raw delivery: the same blocks from the peer's Deliver stream, decoded, nothing indexed: %s blocks/s; CPU a block: %s µs + %s µs the peer | ingest/delivery **%s** | ≥ 0.8 |\n",
			c.what, num(r["blocks"]), num(r["txs/block"]), num(r["ingest-blocks/s"]), num(r["ingest-txs/s"]),
			num(r["ingest-cpu-µs/block"]), num(r["ingest-peer-cpu-µs/block"]), num(r["delivery-blocks/s"]),
			num(r["delivery-cpu-µs/block"]), num(r["delivery-peer-cpu-µs/block"]), num(r["ingest/delivery"]))
		if r["floor-blocks/s"] != 0 {
			fmt.Fprintf(&b, "| the storage floor: the same blocks from the peer, decoded, and as each block's one synced batch the rows ingest wrote for it (%s rows, %s bytes a block; recorded), nothing read or built | %s blocks/s; CPU a block: %s µs here + %s µs the peer | the same raw delivery | floor/delivery **%s**: the most ingest can reach here | — |\n",
				num(r["rows/block"]), num(r["row-bytes/block"]), num(r["floor-blocks/s"]), num(r["floor-cpu-µs/block"]),
				num(r["floor-peer-cpu-µs/block"]), num(r["floor/delivery"]))
			fmt.Fprintf(&b, "| the same floor for the state mirror alone (%s rows a block and the checkpoint; no history, secondary indexes, facts or indicators) | %s blocks/s; CPU a block: %s µs here | the same raw delivery | mirror-floor/delivery %s | — |\n",
				num(r["mirror-rows/block"]), num(r["mirror-floor-blocks/s"]), num(r["mirror-floor-cpu-µs/block"]), num(r["mirror-floor/delivery"]))
		}
		fmt.Fprintf(&b, "| the same from block files (`index capture`) | %s blocks/s | the files read and decoded: %s blocks/s | ingest/read %s | — |\n",
			num(r["file-ingest-blocks/s"]), num(r["file-read-blocks/s"]), num(r["file-ingest/read"]))
	}
	if r := rs["BenchmarkReplay"]; r != nil {
		fmt.Fprintf(&b, "| replay from block 0 of %s credit transactions (synthetic blocks of 50 txs built by the chaincode's own operations), on disk | %s txs/s, %s blocks/s: %s s; index %s MiB | decoding the same blocks only: %s blocks/s | replay/decode %s | — |\n",
			num(r["credit-txs"]), num(r["replay-txs/s"]), num(r["replay-blocks/s"]), num(r["replay-s"]), num(r["index-MiB"]), num(r["decode-blocks/s"]), num(r["replay/decode"]))
	}
	if r := rs["BenchmarkIngestRealBlocks"]; r != nil {
		fmt.Fprintf(&b, "| ingest of captured network blocks (%s blocks, %s txs each), in process | %s blocks/s | decoding them only: %s blocks/s | ingest/decode %s | — |\n",
			num(r["blocks"]), num(r["txs/block"]), num(r["ingest-blocks/s"]), num(r["decode-blocks/s"]), num(r["ingest/decode"]))
	}
	if r := rs["BenchmarkIndexSubjectProfile"]; r != nil {
		fmt.Fprintf(&b, "| subject profile from the index, Go API (%s subjects, %s records each on average) | p50 %s µs, p99 %s µs | the same question as a chaincode evaluate (SubjectRecords through the Gateway): p50 %s µs, p99 %s µs | **%s×** at p50, %s× at p99 | ≥ 100×, p99 ≤ 2 ms |\n",
			num(r["subjects"]), num(r["records/profile"]), num(r["index-p50-µs"]), num(r["index-p99-µs"]), num(r["evaluate-p50-µs"]), num(r["evaluate-p99-µs"]), num(r["evaluate/index-p50"]), num(r["evaluate/index-p99"]))
		fmt.Fprintf(&b, "| subject profile through the HTTP API (GET /v1/subjects/…, loopback) | p50 %s µs, p99 %s µs | the same evaluate | %s× at p50 | — |\n",
			num(r["http-p50-µs"]), num(r["http-p99-µs"]), num(r["evaluate/http-p50"]))
	}
	return b.String()
}

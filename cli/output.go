package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/countycredit/creditledger/client"
)

// Printer writes a command's data to stdout in the chosen format and its
// progress to stderr. Formats (docs/OPERATOR.md, "Output"):
//
//   - table: aligned columns with a header (records: one field per line),
//     labels and enumerations translated with --lang zh;
//   - plain: the same rows tab-separated, without header or padding, for
//     scripts; the default when stdout is not a terminal;
//   - json: the ledger's own JSON (records exactly as the chaincode returns
//     them); writes wrap the record in {"txId","block","record"}.
type Printer struct {
	IO     *IOStreams
	Format string // table, plain or json (never "")
	Lang   string // en or zh
}

// NewPrinter resolves the format: "" is table on a terminal and plain
// otherwise.
func NewPrinter(ios *IOStreams, output, lang string) *Printer {
	if output == "" {
		output = OutputPlain
		if ios.IsTerminal {
			output = OutputTable
		}
	}
	if lang == "" {
		lang = "en"
	}
	return &Printer{IO: ios, Format: output, Lang: lang}
}

// JSON reports whether the format is json.
func (p *Printer) JSON() bool { return p.Format == OutputJSON }

// Progressf writes a progress line to stderr, never stdout, so data on
// stdout stays clean for pipes and -o json. Errors are not progress: they
// go through reportError.
func (p *Printer) Progressf(format string, args ...any) {
	fmt.Fprintf(p.IO.ErrOut, format+"\n", args...)
}

// WriteJSON writes v as indented JSON and a newline.
func (p *Printer) WriteJSON(v any) error {
	enc := json.NewEncoder(p.IO.Out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// TxEnvelope is the JSON output of every write: the transaction and the
// record as the chaincode returned it. Its schema is stable (golden files
// in cli/testdata/json).
type TxEnvelope struct {
	TxID   string `json:"txId"`
	Block  uint64 `json:"block"`
	Record any    `json:"record"`
}

// WriteTx prints the result of a write: the envelope in json, else the
// record's fields followed by the block number.
func (p *Printer) WriteTx(res client.Result, rec any) error {
	if p.JSON() {
		return p.WriteJSON(TxEnvelope{TxID: res.TxID, Block: res.BlockNumber, Record: rec})
	}
	rows, err := p.fieldRows(rec)
	if err != nil {
		return err
	}
	rows = append(rows, []string{p.Label("block"), strconv.FormatUint(res.BlockNumber, 10)})
	return p.Table(nil, rows)
}

// WriteRecord prints one record (or any JSON object): its fields one per
// line in the ledger's field order, or its JSON.
func (p *Printer) WriteRecord(rec any) error {
	if p.JSON() {
		return p.WriteJSON(rec)
	}
	rows, err := p.fieldRows(rec)
	if err != nil {
		return err
	}
	return p.Table(nil, rows)
}

// fieldRows flattens a JSON object into label/value rows: nested objects
// become "parent.child", lists are joined with ", ", enumerations and
// labels are translated for --lang zh.
func (p *Printer) fieldRows(v any) ([][]string, error) {
	fields, err := flattenJSON(v)
	if err != nil {
		return nil, err
	}
	rows := make([][]string, 0, len(fields))
	for _, f := range fields {
		v := p.Value(f.key, f.value)
		if f.key == "createdBy" {
			v = readableIdentity(f.value)
		}
		rows = append(rows, []string{p.Label(f.key), v})
	}
	return rows, nil
}

// readableIdentity turns a Fabric client identity ID (base64 of
// "x509::<subject DN>::<issuer DN>", what the chaincode records as
// createdBy) into "officer1 (County330782MSP)"; anything else is shown as
// it is.
func readableIdentity(id string) string {
	b, err := base64.StdEncoding.DecodeString(id)
	if err != nil {
		return id
	}
	parts := strings.Split(string(b), "::")
	if len(parts) != 3 || parts[0] != "x509" {
		return id
	}
	var cn, org string
	for _, rdn := range strings.Split(parts[1], ",") {
		k, v, _ := strings.Cut(rdn, "=")
		switch k {
		case "CN":
			cn = v
		case "O":
			org = v
		}
	}
	if cn == "" {
		return id
	}
	if org != "" {
		return cn + " (" + org + ")"
	}
	return cn
}

// Table writes rows under headers (nil: no header). In table format the
// columns are aligned by display width (a Chinese character is two columns
// wide); in plain format cells are tab-separated and the header is left
// out. Tabs and newlines inside cells are replaced by spaces.
func (p *Printer) Table(headers []string, rows [][]string) error {
	w := p.IO.Out
	clean := func(s string) string {
		return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
	}
	if p.Format == OutputPlain {
		var b bytes.Buffer
		for _, r := range rows {
			for i, c := range r {
				if i > 0 {
					b.WriteByte('\t')
				}
				b.WriteString(clean(c))
			}
			b.WriteByte('\n')
		}
		_, err := w.Write(b.Bytes())
		return err
	}
	all := rows
	if headers != nil {
		hs := make([]string, len(headers))
		for i, h := range headers {
			hs[i] = strings.ToUpper(h)
			if p.Lang == "zh" {
				hs[i] = h
			}
		}
		all = append([][]string{hs}, rows...)
	}
	var widths []int
	for _, r := range all {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(clean(c)))
		}
	}
	var b bytes.Buffer
	for _, r := range all {
		for i, c := range r {
			c = clean(c)
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := w.Write(b.Bytes())
	return err
}

// displayWidth is the number of terminal columns s takes: East Asian wide
// and full-width characters take two.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n++
		if isWide(r) {
			n++
		}
	}
	return n
}

func isWide(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r <= 0x115F, // Hangul Jamo
		r >= 0x2E80 && r <= 0x303E, // CJK radicals, punctuation
		r >= 0x3041 && r <= 0x33FF, // kana, CJK symbols
		r >= 0x3400 && r <= 0x4DBF, // CJK extension A
		r >= 0x4E00 && r <= 0x9FFF, // CJK unified ideographs
		r >= 0xA000 && r <= 0xA4CF, // Yi
		r >= 0xAC00 && r <= 0xD7A3, // Hangul syllables
		r >= 0xF900 && r <= 0xFAFF, // CJK compatibility ideographs
		r >= 0xFE30 && r <= 0xFE4F, // CJK compatibility forms
		r >= 0xFF00 && r <= 0xFF60, // full-width forms
		r >= 0xFFE0 && r <= 0xFFE6,
		r >= 0x20000 && r <= 0x3FFFD: // CJK extensions B-G
		return true
	}
	return false
}

// field is one flattened JSON field.
type field struct {
	key   string
	value string
}

// flattenJSON marshals v and lists its fields in document order.
func flattenJSON(v any) ([]field, error) {
	var raw []byte
	switch x := v.(type) {
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("encode for display: %w", err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out []field
	if err := flattenValue(dec, "", &out); err != nil {
		return nil, fmt.Errorf("display %s: %w", abbreviate(string(raw), 40), err)
	}
	return out, nil
}

func flattenValue(dec *json.Decoder, prefix string, out *[]field) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				key := kt.(string)
				if prefix != "" {
					key = prefix + "." + key
				}
				if err := flattenValue(dec, key, out); err != nil {
					return err
				}
			}
			_, err := dec.Token() // '}'
			return err
		case '[':
			var items []string
			for dec.More() {
				var sub []field
				if err := flattenValue(dec, "", &sub); err != nil {
					return err
				}
				parts := make([]string, len(sub))
				for i, s := range sub {
					parts[i] = s.value
					if s.key != "" {
						parts[i] = s.key + "=" + s.value
					}
				}
				items = append(items, strings.Join(parts, " "))
			}
			if _, err := dec.Token(); err != nil { // ']'
				return err
			}
			*out = append(*out, field{prefix, strings.Join(items, ", ")})
			return nil
		}
	case string:
		*out = append(*out, field{prefix, t})
	case json.Number:
		*out = append(*out, field{prefix, t.String()})
	case bool:
		*out = append(*out, field{prefix, strconv.FormatBool(t)})
	case nil:
		*out = append(*out, field{prefix, ""})
	}
	return nil
}

// abbreviate shortens s to n characters with an ellipsis.
func abbreviate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

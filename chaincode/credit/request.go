package credit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxRequestBytes bounds a request argument.
const maxRequestBytes = 1 << 20

// DecodeRequest decodes one JSON object into v, refusing unknown fields,
// trailing data, and values of the wrong type. Errors are *FieldError values
// naming the field ("request" when no field is known).
func DecodeRequest(data []byte, v any) error {
	if len(data) > maxRequestBytes {
		return invalid("request", "is %d bytes, at most %d allowed", len(data), maxRequestBytes)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return invalid("request", "must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonFieldError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("request", "must be a single JSON object with nothing after it")
	}
	return nil
}

func jsonFieldError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		f := te.Field
		if f == "" || strings.HasSuffix(f, ".") {
			f = "request"
		}
		return invalid(f, "must be a JSON %s, got %s", jsonTypeName(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return invalid("request", "is not valid JSON (offset %d): %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return invalid("request", "is truncated JSON")
	}
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		if name := strings.Trim(rest, `"`); name != "" {
			return invalid(name, "is not a known field")
		}
		return invalid("request", "has an unknown field %s", rest)
	}
	return invalid("request", "%s", strings.TrimPrefix(msg, "json: "))
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	case "bool":
		return "boolean"
	}
	return "number"
}

// EncodeResult marshals a result as the JSON string a transaction returns.
func EncodeResult(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode result: %w", err)
	}
	return string(b), nil
}

package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

const (
	// MaxRules is how many rules one file may hold.
	MaxRules = 1024
	// maxFileSize bounds what a reload reads; 1024 generous rules fit in a
	// fraction of it.
	maxFileSize = 4 << 20
)

// fileFormat is the rules file as written: {"$schema": "...", "rules": [...]}.
type fileFormat struct {
	Schema string
	Rules  []json.RawMessage
}

func (f *fileFormat) fields() []namedField {
	return []namedField{{"$schema", &f.Schema}, {"rules", &f.Rules}}
}

// ruleFormat is one rule as written. A nil field is not set by the rule.
type ruleFormat struct {
	Comment     string
	Bucket      *string
	Key         *string
	GetTTL      *string
	HeadTTL     *string
	PutTTL      *string
	ReadCache   *bool
	WriteCache  *bool
	Compression *bool
	RAMCache    *bool
	Hedging     *bool
	HedgeAfter  *string
}

// fields lists a rule's JSON keys, case-sensitive, with where each one goes.
// rules.schema.json lists the same keys (a test keeps them in step).
func (r *ruleFormat) fields() []namedField {
	return []namedField{
		{"comment", &r.Comment},
		{"bucket", &r.Bucket},
		{"key", &r.Key},
		{"get_ttl", &r.GetTTL},
		{"head_ttl", &r.HeadTTL},
		{"put_ttl", &r.PutTTL},
		{"read_cache", &r.ReadCache},
		{"write_cache", &r.WriteCache},
		{"compression", &r.Compression},
		{"ram_cache", &r.RAMCache},
		{"hedging", &r.Hedging},
		{"hedge_after", &r.HedgeAfter},
	}
}

type namedField struct {
	name string
	dst  any
}

// Parse reads a rules file's contents and compiles it. Any flaw rejects the
// whole file: unknown or duplicate keys (keys are case-sensitive), a bad
// glob, a duration that does not parse or is out of range, a rule that sets
// nothing, more than MaxRules rules, or text after the JSON object.
func Parse(data []byte) (*Table, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("rules file is %d bytes, over the %d-byte limit", len(data), maxFileSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("rules file is empty (write {\"rules\": []} for no rules)")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var file fileFormat
	if err := decodeObject(dec, "rules file", file.fields()); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("rules file: text after the closing brace")
	}
	if len(file.Rules) > MaxRules {
		return nil, fmt.Errorf("rules file has %d rules, more than the limit of %d", len(file.Rules), MaxRules)
	}
	compiled := make([]rule, 0, len(file.Rules))
	for i, raw := range file.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		var rf ruleFormat
		if err := decodeObject(json.NewDecoder(bytes.NewReader(raw)), where, rf.fields()); err != nil {
			return nil, err
		}
		r, err := compileRule(&rf)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		compiled = append(compiled, r)
	}
	return newTable(compiled), nil
}

// decodeObject reads one JSON object from dec into fields. Unlike
// encoding/json's struct decoding it rejects unknown and repeated keys and
// matches keys case-sensitively, so a typo never silently does nothing.
func decodeObject(dec *json.Decoder, where string, fields []namedField) error {
	if tok, err := dec.Token(); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	} else if tok != json.Delim('{') {
		return fmt.Errorf("%s: want a JSON object", where)
	}
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return fmt.Errorf("%s: %q appears twice", where, name)
		}
		seen[name] = true
		dst := fieldDestination(fields, name)
		if dst == nil {
			return fmt.Errorf("%s: unknown field %q", where, name)
		}
		if err := dec.Decode(dst); err != nil {
			return fmt.Errorf("%s.%s: %w", where, name, err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

func fieldDestination(fields []namedField, name string) any {
	for _, f := range fields {
		if f.name == name {
			return f.dst
		}
	}
	return nil
}

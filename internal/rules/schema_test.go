package rules

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSchemaListsTheParsedFields keeps rules.schema.json in step with the
// keys Parse accepts.
func TestSchemaListsTheParsedFields(t *testing.T) {
	data, err := os.ReadFile("rules.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]json.RawMessage
		Defs       struct {
			Rule struct {
				Properties map[string]json.RawMessage
			}
		} `json:"$defs"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	compare := func(what string, schemaProps map[string]json.RawMessage, fields []namedField) {
		var inSchema, parsed []string
		for name := range schemaProps {
			inSchema = append(inSchema, name)
		}
		for _, f := range fields {
			parsed = append(parsed, f.name)
		}
		slices.Sort(inSchema)
		slices.Sort(parsed)
		if !slices.Equal(inSchema, parsed) {
			t.Errorf("%s: schema lists %v, Parse accepts %v", what, inSchema, parsed)
		}
	}
	compare("top level", schema.Properties, (&fileFormat{}).fields())
	compare("rule", schema.Defs.Rule.Properties, (&ruleFormat{}).fields())
}

// TestReadmeExample parses the README's example and checks what it says
// the example means.
func TestReadmeExample(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README has no json example")
	}
	table := mustParse(t, example)
	r := table.Resolve("acme-data", "private/x")
	if r.GetTTL != (Field[time.Duration]{0, true}) || r.RAMCache != (Field[bool]{false, true}) {
		t.Errorf("acme-data/private/x resolves to %+v, README says get_ttl 0s and ram_cache false", r)
	}
}

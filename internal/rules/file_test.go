package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseAcceptsAFullFile(t *testing.T) {
	table, err := Parse([]byte(`{
	  "$schema": "./rules.schema.json",
	  "rules": [
	    {"comment": "all fields", "bucket": "b-*", "key": "k/**",
	     "get_ttl": "0s", "head_ttl": "60s", "put_ttl": "1h", "read_cache": true,
	     "write_cache": true, "compression": false, "ram_cache": true,
	     "hedging": true, "hedge_after": "250ms"},
	    {"get_ttl": "5m"}
	  ]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if table.Len() != 2 {
		t.Fatalf("Len = %d, want 2", table.Len())
	}
	got := table.Resolve("b-1", "k/x")
	want := Resolved{
		GetTTL:      Field[time.Duration]{0, true},
		HeadTTL:     Field[time.Duration]{time.Minute, true},
		PutTTL:      Field[time.Duration]{time.Hour, true},
		ReadCache:   Field[bool]{true, true},
		WriteCache:  Field[bool]{true, true},
		Compression: Field[bool]{false, true},
		RAMCache:    Field[bool]{true, true},
		Hedging:     Field[bool]{true, true},
		HedgeAfter:  Field[time.Duration]{250 * time.Millisecond, true},
	}
	if got != want {
		t.Errorf("Resolve = %+v\nwant %+v", got, want)
	}
}

func TestParseAcceptsNoRules(t *testing.T) {
	for _, doc := range []string{`{}`, `{"rules": []}`, `{"rules": null}`, " {\"rules\":[]}\n"} {
		table, err := Parse([]byte(doc))
		if err != nil {
			t.Errorf("%q: %v", doc, err)
		} else if table.Len() != 0 {
			t.Errorf("%q: %d rules", doc, table.Len())
		}
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]string{
		"empty file":                       ``,
		"only spaces":                      "  \n",
		"not an object":                    `[]`,
		"truncated":                        `{"rules": [{"get_ttl": "1s"}`,
		"trailing text":                    `{"rules": []} {}`,
		"unknown top-level field":          `{"rulez": []}`,
		"unknown rule field":               `{"rules": [{"get_ttl": "1s", "gte_ttl": "1s"}]}`,
		"field in other case":              `{"rules": [{"GET_TTL": "1s"}]}`,
		"repeated field":                   `{"rules": [{"get_ttl": "1s", "get_ttl": "2s"}]}`,
		"rule sets nothing":                `{"rules": [{"bucket": "b"}]}`,
		"rule sets nothing (comment only)": `{"rules": [{"comment": "x"}]}`,
		"negative ttl":                     `{"rules": [{"get_ttl": "-1s"}]}`,
		"ttl over ten years":               `{"rules": [{"head_ttl": "87601h"}]}`,
		"duration as a number":             `{"rules": [{"get_ttl": 60}]}`,
		"duration without unit":            `{"rules": [{"put_ttl": "60"}]}`,
		"bad duration":                     `{"rules": [{"get_ttl": "soon"}]}`,
		"zero hedge_after":                 `{"rules": [{"hedge_after": "0s"}]}`,
		"bool as a string":                 `{"rules": [{"read_cache": "false"}]}`,
		"empty key pattern":                `{"rules": [{"key": "", "get_ttl": "1s"}]}`,
		"three stars":                      `{"rules": [{"key": "a/***", "get_ttl": "1s"}]}`,
		"lone backslash":                   `{"rules": [{"key": "a\\", "get_ttl": "1s"}]}`,
		"globstar in bucket":               `{"rules": [{"bucket": "**", "get_ttl": "1s"}]}`,
		"rule not an object":               `{"rules": ["get_ttl"]}`,
	}
	for name, doc := range cases {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted %s", name, doc)
		}
	}
}

func TestParseErrorNamesTheRule(t *testing.T) {
	_, err := Parse([]byte(`{"rules": [{"get_ttl": "1s"}, {"key": "x", "head_ttl": "-5s"}]}`))
	if err == nil || !strings.Contains(err.Error(), "rules[1]") || !strings.Contains(err.Error(), "head_ttl") {
		t.Fatalf("error %v should name rules[1] and head_ttl", err)
	}
}

func TestParseLimitsTheRuleCount(t *testing.T) {
	file := func(n int) []byte {
		rules := make([]string, n)
		for i := range rules {
			rules[i] = fmt.Sprintf(`{"key": "p%d/**", "get_ttl": "%ds"}`, i, i)
		}
		return []byte(`{"rules": [` + strings.Join(rules, ",") + `]}`)
	}
	if _, err := Parse(file(MaxRules)); err != nil {
		t.Fatalf("%d rules: %v", MaxRules, err)
	}
	if _, err := Parse(file(MaxRules + 1)); err == nil {
		t.Fatalf("%d rules accepted", MaxRules+1)
	}
}

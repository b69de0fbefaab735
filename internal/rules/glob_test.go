package rules

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestKeyPatternMatrix(t *testing.T) {
	cases := []struct {
		pattern string
		key     string
		want    bool
	}{
		// Exact text: anchored at both ends, case-sensitive.
		{"a/b.txt", "a/b.txt", true},
		{"a/b.txt", "a/b.txt2", false},
		{"a/b.txt", "xa/b.txt", false},
		{"a/b.txt", "A/b.txt", false},
		{"a/b.txt", "", false},

		// * stays within one segment.
		{"*", "", true},
		{"*", "file", true},
		{"*", "dir/file", false},
		{"logs/*", "logs/", true},
		{"logs/*", "logs/a", true},
		{"logs/*", "logs/a/b", false},
		{"logs/*", "logs", false},
		{"*.gz", "a.gz", true},
		{"*.gz", "d/a.gz", false},
		{"a/*/c", "a/b/c", true},
		{"a/*/c", "a//c", true},
		{"a/*/c", "a/b/x/c", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXb/c", false},
		{"*x*", "aaxaa", true},
		{"*x*", "a/x", false},

		// ** crosses '/'.
		{"**", "", true},
		{"**", "a/b/c", true},
		{"logs/**", "logs/", true},
		{"logs/**", "logs/a/b/c.gz", true},
		{"logs/**", "logs", false},
		{"logs/**", "Logs/a", false},
		{"**.gz", "a/b/c.gz", true},
		{"**.gz", ".gz", true},
		{"**.gz", "a/b/c.gzip", false},
		{"**/a.txt", "a.txt", false},
		{"**/a.txt", "x/a.txt", true},
		{"**/a.txt", "x/y/a.txt", true},
		{"data/**/part-*.parquet", "data/2024/01/part-7.parquet", true},
		{"data/**/part-*.parquet", "data/2024/part-7/x.parquet", false},
		{"data/**/part-*.parquet", "data/part-7.parquet", false},
		{"a/**b/*", "a/x/yb/z", true},
		{"a/**b/*", "a/x/yb/z/w", false},
		{"**a**", "xxaxx", true},
		{"**a**", "xxbxx", false},
		{"a**", "a", true},
		{"a**z", "az", true},
		{"a**z", "a", false},
		{"ab**ba", "aba", false},
		{"ab**ba", "abba", true},

		// ? is one character, never '/'.
		{"?", "", false},
		{"?", "a", true},
		{"?", "ab", false},
		{"?", "/", false},
		{"?", "é", true},
		{"a?c", "abc", true},
		{"a?c", "a/c", false},
		{"??/*", "ab/c", true},
		{"v?/**", "v1/x/y", true},
		{"v?/**", "v10/x", false},

		// Escapes make wildcard characters literal.
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{`what\?`, "what?", true},
		{`what\?`, "whatx", false},
		{`back\\slash`, `back\slash`, true},

		// The empty key (a bucket-level request) only meets patterns that allow it.
		{"*", "", true},
		{"**", "", true},
		{"?", "", false},
		{"a", "", false},
	}
	for _, c := range cases {
		p, err := compilePattern(c.pattern, true)
		if err != nil {
			t.Fatalf("compile %q: %v", c.pattern, err)
		}
		if got := p.match(c.key); got != c.want {
			t.Errorf("%q matching %q = %v, want %v", c.pattern, c.key, got, c.want)
		}
	}
}

func TestBucketPattern(t *testing.T) {
	cases := []struct {
		pattern, bucket string
		want            bool
	}{
		{"acme-data", "acme-data", true},
		{"acme-data", "acme-data2", false},
		{"acme-*", "acme-logs", true},
		{"acme-*", "other", false},
		{"*", "anything", true},
		{"*-logs", "a-logs", true},
		{"log?", "logs", true},
		{"log?", "log", false},
	}
	for _, c := range cases {
		p, err := compilePattern(c.pattern, false)
		if err != nil {
			t.Fatalf("compile %q: %v", c.pattern, err)
		}
		if got := p.match(c.bucket); got != c.want {
			t.Errorf("bucket %q matching %q = %v, want %v", c.pattern, c.bucket, got, c.want)
		}
	}
}

func TestBadPatterns(t *testing.T) {
	for _, c := range []struct {
		pattern  string
		isBucket bool
	}{
		{"", false},
		{"a***", false},
		{"****", false},
		{`a\`, false},
		{`a\b`, false},
		{"**", true},
		{"a**", true},
	} {
		if _, err := compilePattern(c.pattern, !c.isBucket); err == nil {
			t.Errorf("pattern %q (bucket %v) accepted, want an error", c.pattern, c.isBucket)
		}
	}
}

// TestMatcherAgreesWithRegexp compares the matcher with a regexp
// translation of the same glob on random patterns and keys over a small
// alphabet, where every tricky overlap shows up quickly.
func TestMatcherAgreesWithRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	patternParts := []string{"a", "b", "/", "*", "**", "?", "ab", "é"}
	keyParts := []string{"a", "b", "/", "é"}
	for range 20000 {
		var pb strings.Builder
		for range rng.IntN(7) + 1 {
			part := patternParts[rng.IntN(len(patternParts))]
			if strings.HasSuffix(pb.String(), "*") && strings.HasPrefix(part, "*") {
				continue // would be *** or a different star run
			}
			pb.WriteString(part)
		}
		src := pb.String()
		p, err := compilePattern(src, true)
		if err != nil {
			t.Fatalf("compile %q: %v", src, err)
		}
		ref := referenceRegexp(src)
		for range 8 {
			var kb strings.Builder
			for range rng.IntN(9) {
				kb.WriteString(keyParts[rng.IntN(len(keyParts))])
			}
			key := kb.String()
			if got, want := p.match(key), ref.MatchString(key); got != want {
				t.Fatalf("%q matching %q = %v, regexp %s says %v", src, key, got, ref, want)
			}
		}
	}
}

// referenceRegexp translates an escape-free glob into the regexp it means.
func referenceRegexp(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(glob); {
		switch {
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(`.*`)
			i += 2
		case glob[i] == '*':
			b.WriteString(`[^/]*`)
			i++
		case glob[i] == '?':
			b.WriteString(`[^/]`)
			i++
		default:
			b.WriteString(regexp.QuoteMeta(glob[i : i+1]))
			i++
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// FuzzGlob checks compiled globs against their regexp meaning on any
// pattern without escapes, and that compiling never panics.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{{"logs/**", "logs/a/b"}, {"*.csv", "x.csv"}, {"a?c/**/d", "abc/x/d"}, {"**", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, glob, key string) {
		p, err := compilePattern(glob, true)
		if err != nil || strings.ContainsAny(glob, `\`) || strings.Contains(glob, "***") || !utf8.ValidString(glob) || !utf8.ValidString(key) {
			return
		}
		if got, want := p.match(key), referenceRegexp(glob).MatchString(key); got != want {
			t.Fatalf("%q matching %q = %v, regexp says %v", glob, key, got, want)
		}
	})
}

package rules

import (
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/cache"
)

func mustParse(t testing.TB, doc string) *Table {
	t.Helper()
	table, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return table
}

func TestFirstMatchingRuleWinsPerField(t *testing.T) {
	table := mustParse(t, `{"rules": [
	  {"bucket": "data", "key": "private/**", "get_ttl": "0s"},
	  {"bucket": "data", "key": "private/**", "get_ttl": "1h", "head_ttl": "5s"},
	  {"bucket": "data", "read_cache": false, "get_ttl": "2h"},
	  {"key": "**.log", "read_cache": true, "compression": false},
	  {"bucket": "d*", "ram_cache": false}
	]}`)
	cases := []struct {
		bucket, key string
		want        Resolved
	}{
		{"data", "private/a", Resolved{
			GetTTL:    Field[time.Duration]{0, true},               // rule 0, not rule 1's 1h
			HeadTTL:   Field[time.Duration]{5 * time.Second, true}, // rule 1: rule 0 does not set it
			ReadCache: Field[bool]{false, true},                    // rule 2
			RAMCache:  Field[bool]{false, true},                    // rule 4
		}},
		{"data", "public/x.log", Resolved{
			GetTTL:      Field[time.Duration]{2 * time.Hour, true},
			ReadCache:   Field[bool]{false, true}, // rule 2 comes before rule 3
			Compression: Field[bool]{false, true},
			RAMCache:    Field[bool]{false, true},
		}},
		{"other", "x.log", Resolved{
			ReadCache:   Field[bool]{true, true},
			Compression: Field[bool]{false, true},
		}},
		{"dog", "x", Resolved{RAMCache: Field[bool]{false, true}}},
		{"other", "x", Resolved{}},
		{"Data", "private/a", Resolved{}}, // bucket names are case-sensitive
	}
	for _, c := range cases {
		if got := table.Resolve(c.bucket, c.key); got != c.want {
			t.Errorf("Resolve(%q, %q) = %+v\nwant %+v", c.bucket, c.key, got, c.want)
		}
	}
}

func TestSettingsOverridesOnlyWhatRulesSet(t *testing.T) {
	set := NewSet(mustParse(t, `{"rules": [
	  {"bucket": "b", "key": "fresh/**", "get_ttl": "0s"},
	  {"bucket": "b", "key": "raw/**", "read_cache": false},
	  {"bucket": "b", "key": "cached/**", "read_cache": true, "head_ttl": "1s"}
	]}`))
	var _ cache.Rules = set
	defaults := cache.Settings{GetTTL: time.Hour, HeadTTL: time.Minute}
	check := func(key string, defaults, want cache.Settings) {
		t.Helper()
		if got := set.Settings("b", key, defaults); got != want {
			t.Errorf("Settings(%q) = %+v, want %+v", key, got, want)
		}
	}
	check("fresh/a", defaults, cache.Settings{GetTTL: 0, HeadTTL: time.Minute})
	check("raw/a", defaults, cache.Settings{GetTTL: time.Hour, HeadTTL: time.Minute, NoReadCache: true})
	check("other", defaults, defaults)
	noRead := defaults
	noRead.NoReadCache = true
	check("cached/a", noRead, cache.Settings{GetTTL: time.Hour, HeadTTL: time.Second})
}

// Every field a rule can set reaches the settings, over any default.
func TestSettingsCarriesEveryField(t *testing.T) {
	set := NewSet(mustParse(t, `{"rules": [
	  {"bucket": "b", "key": "cold/**", "ram_cache": false, "compression": false, "write_cache": false, "put_ttl": "5s"},
	  {"bucket": "b", "key": "slow/**", "hedge_after": "250ms"},
	  {"bucket": "b", "key": "calm/**", "hedging": false, "hedge_after": "1s"},
	  {"bucket": "b", "key": "eager/**", "hedging": true}
	]}`))
	defaults := cache.Settings{GetTTL: time.Hour, HeadTTL: time.Minute, PutTTL: time.Minute, Compression: true, WriteCache: true}
	hedged := defaults
	hedged.HedgeAfter = 2 * time.Second
	for _, c := range []struct {
		key            string
		defaults, want cache.Settings
	}{
		{"cold/x", defaults, cache.Settings{GetTTL: time.Hour, HeadTTL: time.Minute, PutTTL: 5 * time.Second, NoRAMCache: true}},
		{"slow/x", defaults, func() cache.Settings { s := defaults; s.HedgeAfter = 250 * time.Millisecond; return s }()},
		{"calm/x", hedged, defaults},
		{"eager/x", defaults, func() cache.Settings { s := defaults; s.HedgeAfter = FallbackHedgeAfter; return s }()},
		{"eager/x", hedged, hedged},
		{"other", hedged, hedged},
	} {
		if got := set.Settings("b", c.key, c.defaults); got != c.want {
			t.Errorf("Settings(%q) over %+v = %+v, want %+v", c.key, c.defaults, got, c.want)
		}
	}
}

func TestEmptyAndNilSets(t *testing.T) {
	defaults := cache.Settings{GetTTL: time.Hour, HeadTTL: time.Minute, NoReadCache: true}
	var nilSet *Set
	for name, s := range map[string]*Set{"nil": nilSet, "empty": NewSet(nil)} {
		if got := s.Settings("b", "k", defaults); got != defaults {
			t.Errorf("%s set: Settings = %+v", name, got)
		}
		if got := s.Resolve("b", "k"); got != (Resolved{}) {
			t.Errorf("%s set: Resolve = %+v", name, got)
		}
		_ = s.Stats()
	}
}

func TestFieldOr(t *testing.T) {
	if got := (Field[time.Duration]{}).Or(time.Hour); got != time.Hour {
		t.Errorf("unset Or = %v", got)
	}
	if got := (Field[time.Duration]{Value: 0, Set: true}).Or(time.Hour); got != 0 {
		t.Errorf("set-to-zero Or = %v", got)
	}
}

func TestLookupsDoNotAllocate(t *testing.T) {
	set := NewSet(benchmarkTable(t, 100))
	defaults := cache.Settings{GetTTL: time.Hour, HeadTTL: time.Minute}
	allocs := testing.AllocsPerRun(200, func() {
		set.Resolve("bucket-7", "logs/2024/01/02/app-17.log.gz")
		set.Settings("data", "datasets/imagenet/train/n01440764/img_0001.jpeg", defaults)
		set.Resolve("other", "a/b/c")
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per lookup", allocs)
	}
}

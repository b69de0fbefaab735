package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/cache"
)

// benchmarkTable builds n rules of the shapes operators write: exact
// buckets with prefix rules, bucket globs with suffix rules, and a few
// general patterns, with the catch-all rules last.
func benchmarkTable(t testing.TB, n int) *Table {
	rules := make([]string, 0, n)
	for i := 0; len(rules) < n-2; i++ {
		switch i % 5 {
		case 0:
			rules = append(rules, fmt.Sprintf(`{"bucket": "bucket-%d", "key": "prefix-%d/**", "get_ttl": "%ds"}`, i, i, i))
		case 1:
			rules = append(rules, fmt.Sprintf(`{"bucket": "team-%d-*", "key": "**.tmp%d", "read_cache": false}`, i, i))
		case 2:
			rules = append(rules, fmt.Sprintf(`{"key": "datasets/*/shard-%d/*.parquet", "ram_cache": false}`, i))
		case 3:
			rules = append(rules, fmt.Sprintf(`{"bucket": "data", "key": "private-%d/**", "get_ttl": "0s", "head_ttl": "0s"}`, i))
		case 4:
			rules = append(rules, fmt.Sprintf(`{"key": "v?/build-%d/**/*.log", "compression": false}`, i))
		}
	}
	rules = append(rules,
		`{"key": "**.gz", "compression": false}`,
		`{"get_ttl": "24h", "head_ttl": "60s", "read_cache": true}`)
	return mustParse(t, `{"rules": [`+strings.Join(rules, ",\n")+`]}`)
}

var benchmarkLookups = []struct{ bucket, key string }{
	{"bucket-7", "logs/2024/01/02/app-17.log.gz"},
	{"data", "datasets/imagenet/train/n01440764/img_0001.jpeg"},
	{"team-41-scratch", "jobs/8812/out.tmp41"},
	{"data", "private-93/reports/q3.pdf"},
}

func BenchmarkResolve(b *testing.B) {
	set := NewSet(benchmarkTable(b, 100))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l := benchmarkLookups[i%len(benchmarkLookups)]
		set.Resolve(l.bucket, l.key)
	}
}

func BenchmarkSettings(b *testing.B) {
	set := NewSet(benchmarkTable(b, 100))
	defaults := cache.Settings{GetTTL: time.Hour, HeadTTL: time.Minute}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l := benchmarkLookups[i%len(benchmarkLookups)]
		set.Settings(l.bucket, l.key, defaults)
	}
}

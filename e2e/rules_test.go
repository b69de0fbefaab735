package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3cache/s3cache/e2e/harness"
)

// A rules file edited while s3cache runs: a prefix switched to TTL 0 takes
// effect within 2 s without a restart; a broken edit is refused with a log
// line and the last good rules keep working.
func TestRulesFileHotReload(t *testing.T) {
	rulesPath := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(rulesPath, []byte(`{"rules": [{"bucket": "*", "key": "other/**", "get_ttl": "0s"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{"--rules-file", rulesPath}})
	putPattern(t, e, e.Direct, "secure/report.csv", 130, 20000)
	wantBody(t, "first GET", get(t, e, e.Client, "secure/report.csv"), 130, 20000)
	wantXCache(t, "GET before the edit", get(t, e, e.Client, "secure/report.csv"), "HIT")

	// Switch secure/** to TTL 0: every read authorized by S3 from now on.
	edit := func(content string) {
		tmp := rulesPath + ".tmp"
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, rulesPath); err != nil { // as editors do
			t.Fatal(err)
		}
	}
	edit(`{"rules": [{"bucket": "*", "key": "secure/**", "get_ttl": "0s"}]}`)
	waitXCache(t, e, "secure/report.csv", "REVALIDATED", 2*time.Second)

	// A broken edit: refused, logged, the last good rules stay.
	edit(`{"rules": [{"bucket": "*", "key": "secure/**", "get_ttl": "soon"}]}`)
	time.Sleep(1500 * time.Millisecond)
	r := get(t, e, e.Client, "secure/report.csv")
	wantXCache(t, "GET after a broken edit", r, "REVALIDATED")
	log, _ := os.ReadFile(e.Cache.Proc().Log)
	if !strings.Contains(string(log), "rules") || !strings.Contains(string(log), "soon") {
		t.Errorf("the broken rules file was not logged")
	}
}

// waitXCache polls GETs of key until X-Cache says want, for at most within.
func waitXCache(t *testing.T, e *harness.Env, key, want string, within time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		r := get(t, e, e.Client, key)
		if r.xcache() == want {
			t.Logf("%s took effect after %v", want, time.Since(start).Round(10*time.Millisecond))
			return
		}
		if time.Since(start) > within {
			t.Fatalf("X-Cache still %q after %v, want %q", r.xcache(), within, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Per-prefix write_cache and compression rules: an upload under a prefix
// with write_cache false is not cached (the next GET is a MISS), one
// elsewhere is (a HIT); compressible text under a prefix with compression
// false is stored raw, elsewhere as LZ4.
func TestRulesWriteCacheAndCompression(t *testing.T) {
	rulesPath := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(rulesPath, []byte(`{"rules": [
	  {"key": "nowrite/**", "write_cache": false},
	  {"key": "raw/**", "compression": false}
	]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{"--rules-file", rulesPath}})

	for key, want := range map[string]string{"nowrite/a": "MISS", "written/a": "HIT"} {
		putPattern(t, e, e.Client, key, 131, 300000)
		r := get(t, e, e.Client, key)
		wantBody(t, "GET after PUT "+key, r, 131, 300000)
		wantXCache(t, "GET after PUT "+key, r, want)
	}

	text := textObject(2 * MiB)
	for key, wantLZ4 := range map[string]bool{"raw/t.txt": false, "packed/t.txt": true} {
		_, err := e.Direct.PutObject(e.Ctx(), &s3.PutObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String(key),
			Body: bytes.NewReader(text), ContentLength: aws.Int64(int64(len(text))), ContentType: aws.String("text/plain")})
		if err != nil {
			t.Fatal(err)
		}
		segs := func() int { return len(cachedFiles(t, e.Cache.Dir, ".lz4", ".crc", ".seg")) }
		before, beforeLZ4 := segs(), len(cachedFiles(t, e.Cache.Dir, ".lz4"))
		if r := get(t, e, e.Client, key); r.err != nil || r.sha != sha(text) {
			t.Fatalf("GET %s: %v, sha %s", key, r.err, r.sha)
		}
		// The fill commits just after the client has its bytes.
		for deadline := time.Now().Add(5 * time.Second); segs() == before && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		if lz4 := len(cachedFiles(t, e.Cache.Dir, ".lz4")) - beforeLZ4; (lz4 == 1) != wantLZ4 {
			t.Errorf("%s: %d new LZ4 segments (%d segments in all), want LZ4: %v", key, lz4, segs()-before, wantLZ4)
		}
	}
}

package rules

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pickupDeadline is how soon a change must be in force.
const pickupDeadline = 2 * time.Second

const (
	rulesTTL0   = `{"rules": [{"bucket": "b", "key": "private/**", "get_ttl": "0s"}]}`
	rulesTTL5m  = `{"rules": [{"bucket": "b", "key": "private/**", "get_ttl": "5m"}]}`
	rulesTTL1h  = `{"rules": [{"bucket": "b", "key": "private/**", "get_ttl": "1h"}, {"key": "x", "ram_cache": false}]}`
	rulesBroken = `{"rules": [{"bucket": "b", "key": "private/**", "get_ttl": "-1s"}]}`
)

// logBuffer collects log output from the watcher goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) count(substr string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), substr)
}

// startWatch writes content (unless empty) to a rules file in a fresh temp
// dir and watches it; the watcher is stopped, and checked stopped, at the
// end of the test.
func startWatch(t *testing.T, content string, opts ...Option) (*Set, string, *logBuffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	if content != "" {
		writeFile(t, path, content)
	}
	logs := &logBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	set, err := Watch(ctx, path, slog.New(slog.NewTextHandler(logs, nil)), opts...)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-set.Done():
		case <-time.After(5 * time.Second):
			t.Error("watcher did not stop after cancel")
		}
	})
	return set, path, logs
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// replaceFile writes content the way editors and config tools do: a new
// file, renamed over the old one.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func getTTL(set *Set) (time.Duration, bool) {
	f := set.Resolve("b", "private/report.pdf").GetTTL
	return f.Value, f.Set
}

// waitFor polls cond until it holds or within has passed.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func wantTTL(t *testing.T, set *Set, want time.Duration) {
	t.Helper()
	waitFor(t, pickupDeadline, "get_ttl "+want.String(), func() bool {
		ttl, ok := getTTL(set)
		return ok && ttl == want
	})
}

func TestWatchSeesAnEditThroughFSNotify(t *testing.T) {
	t.Parallel()
	// With polling an hour apart, only inotify can deliver the edit.
	set, path, _ := startWatch(t, rulesTTL1h, WithPollInterval(time.Hour))
	wantTTL(t, set, time.Hour)
	writeFile(t, path, rulesTTL0)
	wantTTL(t, set, 0)
	if s := set.Stats(); s.Reloads != 2 || s.Failures != 0 || s.Rules != 1 {
		t.Errorf("stats %+v, want 2 reloads, no failures, 1 rule", s)
	}
}

func TestWatchSeesAnEditThroughThePeriodicStat(t *testing.T) {
	t.Parallel()
	// Without inotify, as for an edit made on another NFS client.
	set, path, _ := startWatch(t, rulesTTL1h, WithoutFSNotify())
	writeFile(t, path, rulesTTL0)
	wantTTL(t, set, 0)
	replaceFile(t, path, rulesTTL5m)
	wantTTL(t, set, 5*time.Minute)
}

func TestWatchSeesRenameReplaceEdits(t *testing.T) {
	t.Parallel()
	set, path, _ := startWatch(t, rulesTTL1h, WithPollInterval(time.Hour))
	// Twice: the watch must survive the first file being replaced.
	replaceFile(t, path, rulesTTL0)
	wantTTL(t, set, 0)
	replaceFile(t, path, rulesTTL5m)
	wantTTL(t, set, 5*time.Minute)
}

func TestWatchKeepsTheLastGoodRulesOnABrokenEdit(t *testing.T) {
	t.Parallel()
	set, path, logs := startWatch(t, rulesTTL0)
	writeFile(t, path, rulesBroken)
	waitFor(t, pickupDeadline, "rejection counted", func() bool { return set.Stats().Failures == 1 })
	if ttl, ok := getTTL(set); !ok || ttl != 0 {
		t.Fatalf("after a broken edit get_ttl = %v (set %v), want the old 0s", ttl, ok)
	}
	if s := set.Stats(); !strings.Contains(s.LastError, "negative TTL") {
		t.Errorf("LastError %q should say why", s.LastError)
	}
	// The same broken version again (a touch, a rewrite) is not news.
	time.Sleep(50 * time.Millisecond)
	replaceFile(t, path, rulesBroken)
	time.Sleep(1500 * time.Millisecond) // one settle and at least one poll
	if n := logs.count("rules file rejected"); n != 1 {
		t.Errorf("%d rejection log lines for one bad version, want 1", n)
	}
	if s := set.Stats(); s.Failures != 1 {
		t.Errorf("failures %d, want 1", s.Failures)
	}
	// A fixed file loads and clears the error.
	writeFile(t, path, rulesTTL5m)
	wantTTL(t, set, 5*time.Minute)
	if s := set.Stats(); s.LastError != "" || s.Reloads != 2 {
		t.Errorf("stats after the fix %+v, want no error and 2 reloads", s)
	}
}

func TestWatchTreatsAMissingFileAsNoRules(t *testing.T) {
	t.Parallel()
	set, path, _ := startWatch(t, "")
	if _, ok := getTTL(set); ok || set.Stats().Rules != 0 {
		t.Fatal("rules in force without a file")
	}
	writeFile(t, path, rulesTTL0)
	wantTTL(t, set, 0)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	// Dropped after the removal grace, so allow it on top.
	waitFor(t, pickupDeadline+removalGrace, "rules dropped", func() bool { return set.Stats().Rules == 0 })
	if _, ok := getTTL(set); ok {
		t.Fatal("rule still applies after the file was removed")
	}
}

func TestWatchKeepsRulesThroughDeleteThenWrite(t *testing.T) {
	t.Parallel()
	set, path, _ := startWatch(t, rulesTTL0)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // longer than the settle delay
	if _, ok := getTTL(set); !ok {
		t.Fatal("rules dropped at once when the file disappeared")
	}
	writeFile(t, path, rulesTTL5m)
	wantTTL(t, set, 5*time.Minute)
	time.Sleep(removalGrace)
	if s := set.Stats(); s.Rules != 1 {
		t.Fatalf("rules %d after the rewrite, want 1", s.Rules)
	}
}

func TestWatchRefusesAnInvalidFileAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	writeFile(t, path, rulesBroken)
	if _, err := Watch(context.Background(), path, nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Watch error = %v, want one naming %s", err, path)
	}
}

func TestWatchStopsWhenTheContextEnds(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	ctx, cancel := context.WithCancel(context.Background())
	set, err := Watch(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-set.Done():
		t.Fatal("stopped before the context ended")
	default:
	}
	cancel()
	select {
	case <-set.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("watcher still running after cancel")
	}
}

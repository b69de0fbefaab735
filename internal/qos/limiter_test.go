package qos

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const (
	ceiling = 16 << 20 // bytes/s
	window  = 600 * time.Millisecond
	warmUp  = 100 * time.Millisecond
)

// Two classes under contention get equal shares, however many readers
// each has.
func TestTwoClassesShareTheCeilingEqually(t *testing.T) {
	l := runLimiter(t, fastConfig(ceiling), t.TempDir(), "a")
	ld := startLoad(l, map[string]int{"bkt:big": 3, "bkt:small": 1})
	got := ld.measure(warmUp, window)
	ld.stop()
	a, b := got["bkt:big"], got["bkt:small"]
	t.Logf("in %v: big (3 readers) %d bytes, small (1 reader) %d bytes", window, a, b)
	mean := (a + b) / 2
	if !within(a, mean, 0.9, 1.1) || !within(b, mean, 0.9, 1.1) {
		t.Errorf("shares differ by more than 10%%: big %d, small %d bytes", a, b)
	}
	if want := int64(ceiling * window.Seconds()); !within(a+b, want, 0.5, 1.3) {
		t.Errorf("together %d bytes in %v, want about %d", a+b, window, want)
	}
}

// A class alone gets the whole ceiling.
func TestOneClassAloneGetsTheWholeCeiling(t *testing.T) {
	l := runLimiter(t, fastConfig(ceiling), t.TempDir(), "a")
	ld := startLoad(l, map[string]int{"ua:spark": 2})
	got := ld.measure(warmUp, window)
	ld.stop()
	t.Logf("alone: %d bytes in %v", got["ua:spark"], window)
	if want := int64(ceiling * window.Seconds()); !within(got["ua:spark"], want, 0.7, 1.3) {
		t.Errorf("alone: %d bytes in %v, want about %d", got["ua:spark"], window, want)
	}
}

// touchHeartbeat makes a heartbeat file of another instance, age old.
func touchHeartbeat(t *testing.T, cacheDir, id string, age time.Duration) string {
	t.Helper()
	dir := filepath.Join(cacheDir, "v1", "qos")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, id+heartbeatSuffix)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(-age)
	if err := os.Chtimes(path, when, when); err != nil {
		t.Fatal(err)
	}
	return path
}

// The instance's ceiling is the fleet's divided by the live heartbeats;
// stale ones do not count and long-dead ones are removed.
func TestInstanceCeilingDividesByLiveHeartbeats(t *testing.T) {
	cacheDir := t.TempDir()
	touchHeartbeat(t, cacheDir, "peer-1", time.Second)
	touchHeartbeat(t, cacheDir, "peer-2", 20*time.Second)
	stale := touchHeartbeat(t, cacheDir, "peer-stale", time.Minute)
	dead := touchHeartbeat(t, cacheDir, "peer-dead", 11*time.Minute)
	l := runLimiter(t, fastConfig(ceiling), cacheDir, "self")
	st := l.Stats()
	if st.LiveInstances != 3 || st.InstanceBytesPerSec != ceiling/3 || !st.HeartbeatOK {
		t.Fatalf("stats %+v, want 3 live instances and a third of the ceiling", st)
	}
	if _, err := os.Stat(stale); err != nil {
		t.Errorf("a stale heartbeat younger than the reap age was removed: %v", err)
	}
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a heartbeat older than the reap age is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, "v1", "qos", "self.hb")); err != nil {
		t.Errorf("own heartbeat missing: %v", err)
	}
}

// With one other live instance, a class alone gets half the ceiling.
func TestTwoLiveInstancesHalveTheRate(t *testing.T) {
	cacheDir := t.TempDir()
	touchHeartbeat(t, cacheDir, "peer", 0)
	l := runLimiter(t, fastConfig(ceiling), cacheDir, "self")
	ld := startLoad(l, map[string]int{"bkt:b": 2})
	got := ld.measure(warmUp, window)
	ld.stop()
	if want := int64(ceiling / 2 * window.Seconds()); !within(got["bkt:b"], want, 0.7, 1.3) {
		t.Errorf("%d bytes in %v, want about %d (half the ceiling)", got["bkt:b"], window, want)
	}
}

// An unusable heartbeat directory falls back to the local ceiling, and
// reads go on.
func TestFailsOpenWhenTheHeartbeatDirIsUnusable(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l := runLimiter(t, fastConfig(ceiling), notADir, "self")
	st := l.Stats()
	if st.HeartbeatOK || st.LiveInstances != 1 || st.InstanceBytesPerSec != ceiling {
		t.Fatalf("stats %+v, want the fallback count 1 and the whole ceiling", st)
	}
	n, err := io.Copy(io.Discard, l.Reader(context.Background(), io.LimitReader(zeros{}, 1<<20), "bkt:b"))
	if err != nil || n != 1<<20 {
		t.Fatalf("read %d bytes, err %v", n, err)
	}
}

// A missing cache directory is made.
func TestMissingHeartbeatDirIsCreated(t *testing.T) {
	cacheDir := filepath.Join(t.TempDir(), "not", "yet")
	l := runLimiter(t, fastConfig(ceiling), cacheDir, "self")
	if st := l.Stats(); !st.HeartbeatOK || st.LiveInstances != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// A read that waits longer than MaxWait goes ahead.
func TestWaitLongerThanMaxWaitGoesAhead(t *testing.T) {
	cfg := fastConfig(1 << 10)
	cfg.MaxWait = 30 * time.Millisecond
	l := runLimiter(t, cfg, t.TempDir(), "self")
	start := time.Now()
	n, err := io.Copy(io.Discard, l.Reader(context.Background(), io.LimitReader(zeros{}, 256<<10), "bkt:b"))
	if err != nil || n != 256<<10 {
		t.Fatalf("read %d bytes, err %v", n, err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("took %v at 1 KiB/s with MaxWait %v", took, cfg.MaxWait)
	}
	if st := l.Stats(); st.FailOpen == 0 {
		t.Fatalf("no read was let go: %+v", st)
	}
}

// A waiting read returns when its context ends.
func TestWaitingReadReturnsWhenContextEnds(t *testing.T) {
	l := runLimiter(t, fastConfig(1<<10), t.TempDir(), "self")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r := l.Reader(ctx, zeros{}, "bkt:b")
	buf := make([]byte, 32<<10)
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = r.Read(buf)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's", err)
	}
}

// Off, nil or not running: no throttling at all.
func TestOffNilOrStoppedDoesNotThrottle(t *testing.T) {
	src := io.LimitReader(zeros{}, 1)
	if r := New(Config{}, t.TempDir(), "x", nil).Reader(context.Background(), src, "c"); r != src {
		t.Error("a limiter with no ceiling wrapped the body")
	}
	var nilLimiter *Limiter
	if r := nilLimiter.Reader(context.Background(), src, "c"); r != src || nilLimiter.Stats().Enabled {
		t.Error("a nil limiter wrapped the body")
	}
	stopped := New(fastConfig(1<<10), t.TempDir(), "x", nil)
	start := time.Now()
	if n, _ := io.Copy(io.Discard, stopped.Reader(context.Background(), io.LimitReader(zeros{}, 8<<20), "c")); n != 8<<20 {
		t.Fatalf("read %d", n)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("a limiter that is not running throttled: %v", took)
	}
}

// Stopping Run lets waiting reads go and removes the heartbeat.
func TestStopReleasesWaitersAndLeaves(t *testing.T) {
	cacheDir := t.TempDir()
	l := New(fastConfig(1<<10), cacheDir, "self", nil)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		l.Run(ctx)
	}()
	for !l.running.Load() {
		time.Sleep(time.Millisecond)
	}
	read := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, l.Reader(context.Background(), io.LimitReader(zeros{}, 1<<20), "c"))
		read <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-ran
	select {
	case err := <-read:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting read was not released when Run stopped")
	}
	if _, err := os.Stat(filepath.Join(cacheDir, "v1", "qos", "self.hb")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("heartbeat left behind: %v", err)
	}
}

func TestClass(t *testing.T) {
	for _, c := range []struct{ fairness, bucket, ua, want string }{
		{FairByBucket, "logs", "aws-cli/2.15", "bkt:logs"},
		{"", "logs", "", "bkt:logs"},
		{FairByUserAgent, "logs", "aws-sdk-go-v2/1.30.0 os/linux lang/go#1.26 app/etl-nightly", "ua:etl-nightly"},
		{FairByUserAgent, "logs", "Boto3/1.34.0 md/Botocore#1.34.0", "ua:Boto3"},
		{FairByUserAgent, "logs", "", "ua:unknown"},
	} {
		if got := Class(c.fairness, c.bucket, c.ua); got != c.want {
			t.Errorf("Class(%q, %q, %q) = %q, want %q", c.fairness, c.bucket, c.ua, got, c.want)
		}
	}
	if got := Class(FairByUserAgent, "", "app/"+string(make([]byte, 200))); len(got) > maxClassLen {
		t.Errorf("class of %d bytes", len(got))
	}
}

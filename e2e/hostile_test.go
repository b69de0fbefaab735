package e2e

// Hostile clients: slowloris headers, huge headers, invalid Host headers,
// path traversal in keys, version ids and upload ids, thousands of idle
// connections, a body longer than its Content-Length. s3cache must answer
// with clear 4xx errors, keep serving everyone else, create no file outside
// its cache directory, and give back its file descriptors.
//
// Most of these run against the in-process fake origin of faults_test.go
// (it writes no files, so every file that appears is s3cache's); the
// service checks use versitygw and the SDK as a real client would.

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3cache/s3cache/e2e/harness"
)

// rawRequest sends raw bytes on a new connection and reads one response
// (nil if the server closed the connection without one).
func rawRequest(t *testing.T, addr, raw string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Logf("writing the request: %v", err)
	}
	method, _, _ := strings.Cut(raw, " ")
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		return nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// quickGET is a normal client's read through s3cache; it fails the test
// unless it gets the object within budget.
func quickGET(t *testing.T, e *harness.Env, key string, seed, size int64, budget time.Duration) {
	t.Helper()
	start := time.Now()
	r := get(t, e, e.Client, key)
	wantBody(t, "a normal GET meanwhile", r, seed, size)
	if d := time.Since(start); d > budget {
		t.Errorf("a normal GET meanwhile took %v (budget %v)", d.Round(time.Millisecond), budget)
	}
}

// fdCount is the number of open file descriptors of a process.
func fdCount(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("counting fds of %d: %v", pid, err)
	}
	return len(ents)
}

// rssMiB is the resident memory of a process.
func rssMiB(t *testing.T, pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb / 1024
		}
	}
	return -1
}

// TestHostileSlowloris: 300 connections that dribble their request headers
// one byte at a time do not slow down anyone else.
func TestHostileSlowloris(t *testing.T) {
	e := harness.NewEnv(t)
	putPattern(t, e, e.Direct, "obj", 1, 100_000)
	wantBody(t, "GET", get(t, e, e.Client, "obj"), 1, 100_000)

	const n = 300
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var dialErrs int
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", e.Front, 5*time.Second)
			if err != nil {
				mu.Lock()
				dialErrs++
				mu.Unlock()
				return
			}
			defer c.Close()
			msg := "GET /" + e.Bucket + "/obj HTTP/1.1\r\nHost: " + e.Front + "\r\nX-Slow: "
			for j := 0; ; j++ {
				if _, err := c.Write([]byte{msg[j%len(msg)]}); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
			}
		}()
	}
	t.Cleanup(func() { close(stop); wg.Wait() })
	time.Sleep(time.Second) // let them all connect and start dribbling
	for i := 0; i < 10; i++ {
		quickGET(t, e, "obj", 1, 100_000, 2*time.Second)
		time.Sleep(200 * time.Millisecond)
	}
	if dialErrs > 0 {
		t.Errorf("%d of %d slow connections could not even connect", dialErrs, n)
	}
}

// TestHostileHugeHeaders: more than 64 KiB of request headers get 431, in
// one header or in many, and the server goes on serving.
func TestHostileHugeHeaders(t *testing.T) {
	e := harness.NewEnv(t)
	putPattern(t, e, e.Direct, "obj", 2, 1000)
	start := "GET /" + e.Bucket + "/obj HTTP/1.1\r\nHost: " + e.Front + "\r\n"
	var many strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&many, "X-Hdr-%d: %s\r\n", i, strings.Repeat("v", 30))
	}
	for name, hdrs := range map[string]string{
		"one 100 KiB header":   "X-Big: " + strings.Repeat("a", 100<<10) + "\r\n",
		"3000 small headers":   many.String(),
		"a 100 KiB cookie":     "Cookie: " + strings.Repeat("c=d; ", 20<<10) + "\r\n",
		"a 100 KiB URL":        "",
		"a 1 MiB header block": "X-Huge: " + strings.Repeat("h", 1<<20) + "\r\n",
	} {
		raw := start + hdrs + "\r\n"
		if name == "a 100 KiB URL" {
			raw = "GET /" + e.Bucket + "/" + strings.Repeat("k", 100<<10) + " HTTP/1.1\r\nHost: " + e.Front + "\r\n\r\n"
		}
		resp, _ := rawRequest(t, e.Front, raw)
		switch {
		case resp == nil:
			t.Errorf("%s: connection closed without an answer, want 431", name)
		case resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge:
			t.Errorf("%s: status %d, want 431", name, resp.StatusCode)
		}
	}
	quickGET(t, e, "obj", 2, 1000, 2*time.Second)
}

// TestHostileInvalidHost: malformed or foreign Host headers get a 4xx, and
// nothing they ask for is served from another request's cache entry.
func TestHostileInvalidHost(t *testing.T) {
	e := harness.NewEnv(t, virtualHostOptions)
	putPattern(t, e, e.Direct, "obj", 3, 1000)
	// Cache it the honest way first.
	wantBody(t, "GET", get(t, e, e.Client, "obj"), 3, 1000)
	for _, host := range []string{
		"",                      // HTTP/1.1 without a Host value
		"bad host",              // space
		"127.0.0.1:99999",       // port out of range
		"[::1",                  // broken IPv6
		"evil.example.com",      // someone else's name
		"user@evil.example.com", // userinfo
		strings.Repeat("a", 300) + ".s3.local.test", // label too long
		"e2e-bucket.s3.local.test.evil.example",     // suffix trick
		"..s3.local.test",                           // empty bucket label
		"e2e-bucket..s3.local.test",                 // double dot
		"%65%32e-bucket.s3.local.test",              // percent-encoded bucket
	} {
		raw := "GET /obj HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
		resp, body := rawRequest(t, e.Front, raw)
		if resp == nil {
			t.Errorf("Host %q: connection closed without an answer", host)
			continue
		}
		// The answer is a 4xx: s3cache's own, or the origin's to the
		// forwarded request. A 5xx is acceptable only from the origin
		// (versitygw answers 500 to some of these); s3cache itself must
		// not fail on them.
		msg := string(body)
		switch {
		case resp.StatusCode >= 500 && strings.Contains(msg, "s3cache"):
			t.Errorf("Host %q (anonymous GET /obj): s3cache answered %d %.200q: want a 4xx", host, resp.StatusCode, body)
		case resp.StatusCode >= 500:
			t.Logf("Host %q: the origin answered %d %s to the forwarded request (X-Cache %s)", host, resp.StatusCode, xmlCode(body), resp.Header.Get("X-Cache"))
		case resp.StatusCode < 400:
			t.Errorf("Host %q (anonymous GET /obj): status %d X-Cache %q: want a 4xx", host, resp.StatusCode, resp.Header.Get("X-Cache"))
		}
	}
	quickGET(t, e, "obj", 3, 1000, 2*time.Second)
}

// snapshot lists every path under dir (relative), skipping skip.
func snapshot(t *testing.T, dir, skip string) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if p == skip {
			return filepath.SkipDir
		}
		m[p] = true
		return nil
	})
	return m
}

// TestHostilePathTraversal: keys, version ids, part numbers and upload ids
// made of "..", encoded slashes, backslashes and NUL bytes create no file
// outside the cache directory, and inside it no file named after them.
func TestHostilePathTraversal(t *testing.T) {
	fe := newFaultEnv(t)
	const mark = "s3cache-escape"
	obj := newFakeObject(9, 5000)
	fe.fake.mu.Lock()
	fe.fake.anyKey = &obj
	fe.fake.uploadID = "../../../../" + mark + "-upload"
	fe.fake.mu.Unlock()

	tmpRoot := filepath.Dir(fe.cache.Dir) // this test's temp dirs; the cache dir is one of them
	outsideBefore := snapshot(t, tmpRoot, fe.cache.Dir)
	tmpBefore, _ := os.ReadDir(os.TempDir())

	b := "/" + fe.bucket
	targets := []string{
		b + "/../../" + mark + "-1",
		b + "/..%2F..%2F" + mark + "-2",
		b + "/%2e%2e/%2e%2e/%2e%2e/" + mark + "-3",
		b + "/%2E%2E%2F%2E%2E%2F" + mark + "-4",
		"/../../../" + mark + "-5",
		"/..%2f..%2f" + mark + "-6/key",
		b + "/a%00b/" + mark + "-7",
		b + "/..\\..\\" + mark + "-8",
		b + "/" + strings.Repeat("../", 40) + mark + "-9",
		b + "/key?versionId=../../../" + mark + "-10",
		b + "/key?versionId=..%2F..%2F" + mark + "-11",
		b + "/key?versionId=%00" + mark + "-12",
		b + "/key?partNumber=../" + mark + "-13",
		b + "/" + mark + "-14/" + strings.Repeat("x", 1000),
	}
	send := func(method, target, body string) {
		t.Helper()
		raw := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s", method, target, fe.cache.Addr, len(body), body)
		resp, rb := rawRequest(t, fe.cache.Addr, raw)
		switch {
		case resp == nil:
			t.Logf("%s %s: connection closed without an answer", method, target)
		case resp.StatusCode >= 500:
			t.Errorf("%s %.120s: status %d %q: want the origin's answer or a 4xx, not a server error", method, target, resp.StatusCode, xmlCode(rb))
		default:
			t.Logf("%s %.120s: %d %s X-Cache %s", method, target, resp.StatusCode, xmlCode(rb), resp.Header.Get("X-Cache"))
		}
	}
	for _, target := range targets {
		for i := 0; i < 2; i++ { // the second read comes from the cache, if anywhere
			send(http.MethodGet, target, "")
		}
		send(http.MethodHead, target, "")
		send(http.MethodPut, target, "put body")
		send(http.MethodGet, target, "")
		send(http.MethodDelete, target, "")
	}
	// Multipart: hostile upload ids from the client, and from the origin.
	complete := "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part></CompleteMultipartUpload>"
	send(http.MethodPost, b+"/mpu?uploads", "")
	for _, id := range []string{
		"../../../../" + mark + "-upload", "..%2F..%2F" + mark + "-u2", "%00" + mark + "-u3", "..\\..\\" + mark + "-u4",
		"%2e%2e%2f%2e%2e%2f" + mark + "-u5", "/" + mark + "-u6", strings.Repeat("A", 5000) + mark,
	} {
		send(http.MethodPut, b+"/mpu?partNumber=1&uploadId="+id, strings.Repeat("p", 10000))
		send(http.MethodPut, b+"/mpu?partNumber=../../2&uploadId="+id, "p")
		send(http.MethodPost, b+"/mpu?uploadId="+id, complete)
		send(http.MethodGet, b+"/mpu?uploadId="+id, "")
		send(http.MethodDelete, b+"/mpu?uploadId="+id, "")
	}
	send(http.MethodGet, b+"/mpu", "")

	// Outside the cache directory: nothing new.
	time.Sleep(500 * time.Millisecond) // background commits
	for p := range snapshot(t, tmpRoot, fe.cache.Dir) {
		if !outsideBefore[p] {
			t.Errorf("a file appeared outside the cache directory: %s", p)
		}
	}
	tmpAfter, _ := os.ReadDir(os.TempDir())
	seen := map[string]bool{}
	for _, d := range tmpBefore {
		seen[d.Name()] = true
	}
	for _, d := range tmpAfter {
		if !seen[d.Name()] && strings.Contains(d.Name(), mark) {
			t.Errorf("a file named after a hostile key appeared in %s: %s", os.TempDir(), d.Name())
		}
	}
	root, _ := harness.RepoRoot()
	for _, dir := range []string{root, filepath.Dir(root), "/"} {
		ents, _ := os.ReadDir(dir)
		for _, d := range ents {
			if strings.Contains(d.Name(), mark) {
				t.Errorf("a file named after a hostile key appeared in %s: %s", dir, d.Name())
			}
		}
	}
	// Inside: nothing named after a key or an upload id; every path is
	// under v1/ or a known top-level file.
	var files int
	_ = filepath.WalkDir(fe.cache.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == fe.cache.Dir {
			return nil
		}
		rel, _ := filepath.Rel(fe.cache.Dir, p)
		if strings.Contains(rel, mark) || strings.Contains(rel, "..") || strings.ContainsRune(rel, 0) {
			t.Errorf("cache directory has a path made from request input: %s", rel)
		}
		if top := strings.SplitN(rel, string(filepath.Separator), 2)[0]; top != "v1" && top != "rules.json" && top != "instances" {
			t.Errorf("unexpected entry at the top of the cache directory: %s", rel)
		}
		if !d.IsDir() {
			files++
		}
		return nil
	})
	t.Logf("%d files in the cache directory; the origin saw %d requests", files, len(fe.fake.requests()))
}

// TestHostileIdleConnections: 10 000 concurrent idle connections, 9 000
// that send nothing and 1 000 kept alive after one request, leave normal
// requests unaffected and memory bounded, and once
// they close s3cache's file descriptors return to about where they were.
func TestHostileIdleConnections(t *testing.T) {
	e := harness.NewEnv(t)
	putPattern(t, e, e.Direct, "obj", 4, 200_000)
	wantBody(t, "GET", get(t, e, e.Client, "obj"), 4, 200_000)
	pid := e.Cache.Proc().PID()
	base, baseRSS := fdCount(t, pid), rssMiB(t, pid)

	const idle, keptAlive = 9000, 1000
	var conns []net.Conn
	closeAll := func() {
		for _, c := range conns {
			_ = c.Close()
		}
		conns = nil
	}
	t.Cleanup(closeAll)
	for i := 0; i < idle; i++ {
		c, err := net.DialTimeout("tcp", e.Front, 5*time.Second)
		if err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	req := "HEAD /" + e.Bucket + "/obj HTTP/1.1\r\nHost: " + e.Front + "\r\n\r\n"
	for i := 0; i < keptAlive; i++ {
		c, err := net.DialTimeout("tcp", e.Front, 5*time.Second)
		if err != nil {
			t.Fatalf("keep-alive connection %d: %v", i, err)
		}
		conns = append(conns, c)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodHead})
		if err != nil {
			t.Fatalf("keep-alive connection %d: %v", i, err)
		}
		resp.Body.Close()
	}
	busy := fdCount(t, pid)
	t.Logf("s3cache fds: %d before, %d with %d idle connections; RSS %d MiB before, %d MiB with them", base, busy, idle+keptAlive, baseRSS, rssMiB(t, pid))
	for i := 0; i < 5; i++ {
		quickGET(t, e, "obj", 4, 200_000, 2*time.Second)
	}
	if rss := rssMiB(t, pid); rss > baseRSS+256 {
		t.Errorf("s3cache RSS grew from %d MiB to %d MiB for %d idle connections", baseRSS, rss, idle+keptAlive)
	}

	closeAll()
	deadline := time.Now().Add(15 * time.Second)
	n := fdCount(t, pid)
	for n > base+20 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		n = fdCount(t, pid)
	}
	if n > base+20 {
		t.Errorf("s3cache holds %d fds 15 s after %d idle connections closed; it had %d before", n, idle+keptAlive, base)
	}
	quickGET(t, e, "obj", 4, 200_000, 2*time.Second)
}

// TestHostileBodyLongerThanDeclared: a PUT whose body runs past its
// Content-Length. S3 gets exactly the declared bytes; what follows is read
// as the next request on the connection, answered to this client, and
// nothing is forwarded that the client did not get an answer for.
func TestHostileBodyLongerThanDeclared(t *testing.T) {
	fe := newFaultEnv(t)
	declared := strings.Repeat("d", 100)
	smuggled := "GET /" + fe.bucket + "/smuggled HTTP/1.1\r\nHost: " + fe.cache.Addr + "\r\n\r\n"
	raw := fmt.Sprintf("PUT /%s/long HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s%s", fe.bucket, fe.cache.Addr, len(declared), declared, smuggled)

	c, err := net.DialTimeout("tcp", fe.cache.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var answers []int
	for i := 0; i < 2; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answers = append(answers, resp.StatusCode)
		if resp.Header.Get("X-Cache") == "" {
			t.Errorf("answer %d (status %d) has no X-Cache", i+1, resp.StatusCode)
		}
	}
	t.Logf("answers on the connection: %v; origin saw: %s", answers, strings.Join(fe.fake.requests(), "; "))
	if len(answers) == 0 || answers[0] != http.StatusOK {
		t.Fatalf("PUT with a body longer than declared: answers %v, want 200 first", answers)
	}
	fe.fake.mu.Lock()
	stored, ok := fe.fake.objects["/"+fe.bucket+"/long"]
	fe.fake.mu.Unlock()
	if !ok || string(stored.body) != declared {
		t.Errorf("origin stored %d bytes %.40q, want exactly the %d declared", len(stored.body), stored.body, len(declared))
	}
	var forwarded int
	for _, r := range fe.fake.requests() {
		if strings.Contains(r, "/smuggled") {
			forwarded++
		}
	}
	if forwarded > len(answers)-1 {
		t.Errorf("the origin saw the trailing bytes as %d request(s), but the client got answers for only %d: requests forwarded behind the client's back", forwarded, len(answers)-1)
	}
	got := fe.do(http.MethodGet, "long")
	if got.status != http.StatusOK || string(got.body) != declared {
		t.Errorf("GET of the object after the PUT: status %d, %d bytes %.40q, want the %d declared bytes", got.status, len(got.body), got.body, len(declared))
	}
}

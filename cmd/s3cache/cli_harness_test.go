package main

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binaryPath is the s3cache binary built once for the tests that run it.
type builtBinary struct {
	once sync.Once
	path string
	err  error
}

var testBinary builtBinary

// s3cacheBinary builds ./cmd/s3cache once per test run.
func s3cacheBinary(t *testing.T) string {
	t.Helper()
	testBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "s3cache-cli-test-")
		if err != nil {
			testBinary.err = err
			return
		}
		testBinary.path = filepath.Join(dir, "s3cache")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", testBinary.path, ".").CombinedOutput()
		if err != nil {
			testBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if testBinary.err != nil {
		t.Fatal(testBinary.err)
	}
	return testBinary.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testBinary.path != "" {
		os.RemoveAll(filepath.Dir(testBinary.path))
	}
	os.Exit(code)
}

// fakeObject is an object the fake origin serves.
type fakeObject struct {
	size int64
	etag string
}

// fakeOrigin is a minimal S3: ListObjectsV2, GET/HEAD with ranges and
// conditionals (http.ServeContent), optionally throttled. It counts GETs.
type fakeOrigin struct {
	*httptest.Server
	bucket string

	mu      sync.Mutex
	objects map[string]fakeObject
	gets    map[string]int
	// bytesPerSecond throttles each object body; 0 is unthrottled.
	bytesPerSecond int64
}

func newFakeOrigin(t *testing.T, bucket string) *fakeOrigin {
	t.Helper()
	o := &fakeOrigin{bucket: bucket, objects: map[string]fakeObject{}, gets: map[string]int{}}
	o.Server = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.Close)
	return o
}

// put adds an object whose bytes are a pattern derived from its key.
func (o *fakeOrigin) put(key string, size int64) {
	sum := md5.Sum([]byte(key + strconv.FormatInt(size, 10)))
	o.mu.Lock()
	defer o.mu.Unlock()
	// A multipart-style ETag: the bytes are a pattern, not what the MD5
	// would vouch for (s3cache checks plain MD5 ETags against the bytes).
	o.objects[key] = fakeObject{size: size, etag: `"` + hex.EncodeToString(sum[:]) + `-1"`}
}

func (o *fakeOrigin) getCount(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.gets[key]
}

func (o *fakeOrigin) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	if bucket != o.bucket {
		http.Error(w, "NoSuchBucket", http.StatusNotFound)
		return
	}
	if key == "" && r.Method == http.MethodGet {
		o.list(w, r.URL.Query().Get("prefix"))
		return
	}
	o.mu.Lock()
	obj, ok := o.objects[key]
	if r.Method == http.MethodGet {
		o.gets[key]++
	}
	rate := o.bytesPerSecond
	o.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<Error><Code>NoSuchKey</Code></Error>")
		return
	}
	w.Header().Set("ETag", obj.etag)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Amz-Request-Id", "FAKE0001")
	modified := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	http.ServeContent(w, r, "", modified, io.NewSectionReader(&patternReader{seed: obj.etag, rate: rate, start: time.Now()}, 0, obj.size))
}

func (o *fakeOrigin) list(w http.ResponseWriter, prefix string) {
	type content struct {
		Key          string
		Size         int64
		ETag         string
		LastModified string
	}
	type result struct {
		XMLName     xml.Name `xml:"ListBucketResult"`
		Name        string
		Prefix      string
		KeyCount    int
		MaxKeys     int
		IsTruncated bool
		Contents    []content
	}
	res := result{Name: o.bucket, Prefix: prefix, MaxKeys: 1000}
	o.mu.Lock()
	for k, obj := range o.objects {
		if strings.HasPrefix(k, prefix) {
			res.Contents = append(res.Contents, content{Key: k, Size: obj.size, ETag: obj.etag, LastModified: "2024-01-02T03:04:05.000Z"})
		}
	}
	o.mu.Unlock()
	sort.Slice(res.Contents, func(i, j int) bool { return res.Contents[i].Key < res.Contents[j].Key })
	res.KeyCount = len(res.Contents)
	w.Header().Set("Content-Type", "application/xml")
	io.WriteString(w, xml.Header)
	xml.NewEncoder(w).Encode(res)
}

// patternReader serves deterministic bytes at any offset, optionally
// no faster than rate bytes per second.
type patternReader struct {
	seed  string
	rate  int64
	start time.Time
	mu    sync.Mutex
	sent  int64
}

func (p *patternReader) ReadAt(b []byte, off int64) (int, error) {
	if len(b) > 64<<10 {
		b = b[:64<<10]
	}
	for i := range b {
		pos := off + int64(i)
		b[i] = byte(pos*31+pos>>11) ^ p.seed[1+int(pos%8)]
	}
	if p.rate > 0 {
		p.mu.Lock()
		p.sent += int64(len(b))
		due := p.start.Add(time.Duration(float64(p.sent) / float64(p.rate) * float64(time.Second)))
		p.mu.Unlock()
		time.Sleep(time.Until(due))
	}
	return len(b), nil
}

// s3cacheProcess is a running s3cache binary.
type s3cacheProcess struct {
	cmd    *exec.Cmd
	addrs  map[string]string // listener name → address
	mu     sync.Mutex
	log    strings.Builder
	lines  chan string
	exited chan struct{}
}

// startS3cache runs the binary with args and waits until it has started.
func startS3cache(t *testing.T, args ...string) *s3cacheProcess {
	t.Helper()
	cmd := exec.Command(s3cacheBinary(t), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &s3cacheProcess{cmd: cmd, addrs: map[string]string{}, lines: make(chan string, 1024), exited: make(chan struct{})}
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("s3cache log:\n%s", p.logText())
		}
	})
	listening := regexp.MustCompile(`msg=listening listener="?([a-z0-9 ]+?)"? addr=(\S+)`)
	started := make(chan struct{})
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				p.addrs[m[1]] = m[2]
			}
			p.mu.Unlock()
			if strings.Contains(line, "msg=\"s3cache started\"") {
				once.Do(func() { close(started) })
			}
			select {
			case p.lines <- line:
			default:
			}
		}
		cmd.Wait()
	}()
	select {
	case <-started:
	case <-p.exited:
		t.Fatalf("s3cache exited at start:\n%s", p.logText())
	case <-time.After(60 * time.Second):
		t.Fatalf("s3cache did not start:\n%s", p.logText())
	}
	return p
}

func (p *s3cacheProcess) addr(name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addrs[name]
}

func (p *s3cacheProcess) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// waitLog waits for a log line containing want.
func (p *s3cacheProcess) waitLog(t *testing.T, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line := <-p.lines:
			if strings.Contains(line, want) {
				return line
			}
		case <-deadline:
			t.Fatalf("no log line with %q within %v", want, timeout)
		}
	}
}

// stop sends sig and returns the exit code.
func (p *s3cacheProcess) stop(t *testing.T, sig syscall.Signal, timeout time.Duration) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.exited
		t.Fatalf("s3cache did not exit within %v of %v", timeout, sig)
	}
	return p.cmd.ProcessState.ExitCode()
}

// proxyArgs are the flags for an s3cache on loopback in front of origin.
func proxyArgs(t *testing.T, origin, cacheDir string, extra ...string) []string {
	return append([]string{"--listen", "127.0.0.1:0", "--listen-tls", "", "--health", "", "--metrics", "127.0.0.1:0",
		"--dashboard", "", "--cache-dir", cacheDir, "--origin", origin}, extra...)
}

// metricValue sums the samples of name whose label set contains labels.
func metricValue(t *testing.T, metricsAddr, name, labels string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		if labels != "" && !strings.Contains(line, labels) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

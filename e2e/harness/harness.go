// Package harness runs s3cache black-box against a real S3 server:
//
//	SDK client ──▶ s3cache (built from ./cmd/s3cache) ──▶ Counter ──▶ versitygw (scripts/s3server.sh run)
//
// NewEnv starts all three on free 127.0.0.1 ports for one test, creates a
// bucket, and stops everything in t.Cleanup. The Counter is a transparent
// counting reverse proxy: it is how a test proves that a hit reached no origin.
//
// Environment:
//
//	S3CACHE_E2E_REQUIRE=1  a missing versitygw fails the tests instead of skipping them (make test sets it)
//	S3CACHE_BIN=path       use this s3cache binary instead of building ./cmd/s3cache
//	S3CACHE_E2E_RACE=1     build s3cache with -race
//	VERSITYGW=path         versitygw binary (default .tools/bin/versitygw, installed by scripts/s3server.sh install)
//
// Each test's process logs go to e2e/artifacts/<TestName>/ (git-ignored) and
// their tails are printed when the test fails. A test also fails if s3cache
// dies during it, does not exit cleanly within 10 s of SIGTERM, panics, or
// (built with -race) reports a data race.
package harness

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Credentials of the local server's root user.
const (
	AccessKey = "AKIAS3CACHEE2ETEST"
	SecretKey = "s3cache-e2e-secret-key"
)

// Options adjust NewEnv.
type Options struct {
	TLSOrigin bool     // versitygw and the Counter speak HTTPS; s3cache gets --origin https://… --origin-ca cert.pem
	CacheArgs []string // extra s3cache flags
	Bucket    string   // default "e2e-bucket"
	// NoCache starts no s3cache: Client talks to the Counter directly. For
	// checking the harness itself (the Counter must be transparent).
	NoCache bool
}

// Env is one test's running system.
type Env struct {
	T       testing.TB
	Root    string // repository root
	Art     string // this test's artifacts directory
	Bucket  string
	Origin  *Origin
	Counter *Counter
	Cache   *Cache
	Front   string     // host:port clients talk to: s3cache, or the Counter with NoCache
	Client  *s3.Client // path-style, through s3cache
	Direct  *s3.Client // path-style, straight to versitygw (behind the cache's back)
	RootCAs *x509.CertPool
}

// Origin is a running versitygw.
type Origin struct {
	URL    string // http(s)://127.0.0.1:port
	Dir    string // state: data/, iam/, versions/, tls/
	CACert string // tls/cert.pem when HTTPS
	proc   *Proc
}

// Cache is a running s3cache.
type Cache struct {
	Addr       string // caching listener host:port
	URL        string // http://Addr
	HealthAddr string
	Dir        string // --cache-dir
	Args       []string
	proc       *Proc
}

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error

	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

// Main wraps testing.M: it removes the s3cache binary built for the run.
func Main(m *testing.M) int {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	return code
}

// RepoRoot finds the module root (the directory with go.mod) above the
// working directory.
func RepoRoot() (string, error) {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/s3cache/s3cache") {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = errors.New("repository root (go.mod of github.com/s3cache/s3cache) not found above the working directory")
				return
			}
			dir = parent
		}
	})
	return rootDir, rootErr
}

// S3CacheBinary builds ./cmd/s3cache once per test binary (or returns $S3CACHE_BIN).
func S3CacheBinary() (string, error) {
	buildOnce.Do(func() {
		if b := os.Getenv("S3CACHE_BIN"); b != "" {
			builtBin = b
			return
		}
		root, err := RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		buildDir, err = os.MkdirTemp("", "s3cache-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(buildDir, "s3cache")
		args := []string{"build", "-o", builtBin}
		if os.Getenv("S3CACHE_E2E_RACE") != "" {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "./cmd/s3cache")...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/s3cache: %v\n%s", err, out)
		}
	})
	return builtBin, buildErr
}

// VersitygwPath is where scripts/s3server.sh installs (or finds) versitygw.
func VersitygwPath(root string) string {
	if p := os.Getenv("VERSITYGW"); p != "" {
		return p
	}
	return filepath.Join(root, ".tools", "bin", "versitygw")
}

// RequireServer skips the test if versitygw is not installed, or fails it
// when S3CACHE_E2E_REQUIRE is set. It returns the repository root.
func RequireServer(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(VersitygwPath(root)); err != nil {
		msg := fmt.Sprintf("local S3 server not installed (%v): run scripts/s3server.sh install, or make test", err)
		if os.Getenv("S3CACHE_E2E_REQUIRE") != "" {
			t.Fatal(msg + " [S3CACHE_E2E_REQUIRE is set]")
		}
		t.Skip(msg + " [set S3CACHE_E2E_REQUIRE=1 to fail instead]")
	}
	return root
}

// NewEnv starts versitygw, the Counter and s3cache for this test.
func NewEnv(t testing.TB, opts ...Options) *Env {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Bucket == "" {
		o.Bucket = "e2e-bucket"
	}
	root := RequireServer(t)
	var bin string
	var err error
	if !o.NoCache {
		if bin, err = S3CacheBinary(); err != nil {
			t.Fatalf("s3cache binary: %v", err)
		}
	}
	e := &Env{T: t, Root: root, Bucket: o.Bucket, Art: artifactsDir(t, root)}
	t.Cleanup(e.dumpLogsOnFailure)

	e.Origin = StartOrigin(t, root, e.Art, o.TLSOrigin)
	var upstreamTLS *tls.Certificate
	if o.TLSOrigin {
		if e.RootCAs, err = CertPool(e.Origin.CACert); err != nil {
			t.Fatal(err)
		}
		kp, err := tls.LoadX509KeyPair(e.Origin.CACert, filepath.Join(e.Origin.Dir, "tls", "key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		upstreamTLS = &kp
	}
	e.Direct = NewClient(ClientConfig{Endpoint: e.Origin.URL, AccessKey: AccessKey, SecretKey: SecretKey, PathStyle: true, RootCAs: e.RootCAs})
	if _, err := e.Direct.CreateBucket(e.Ctx(), &s3.CreateBucketInput{Bucket: aws.String(e.Bucket)}); err != nil {
		t.Fatalf("create bucket %s on versitygw: %v", e.Bucket, err)
	}

	tr := NewHTTPClient("", e.RootCAs).Transport.(*http.Transport)
	counterLog, err := os.OpenFile(filepath.Join(e.Art, "counter.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = counterLog.Close() })
	if e.Counter, err = StartCounter(e.Origin.URL, upstreamTLS, tr, counterLog); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Counter.Close)

	if o.NoCache {
		e.Front = strings.TrimPrefix(strings.TrimPrefix(e.Counter.URL, "http://"), "https://")
	} else {
		args := append([]string{"--origin", e.Counter.URL}, o.CacheArgs...)
		if o.TLSOrigin {
			args = append(args, "--origin-ca", e.Origin.CACert)
		}
		e.Cache = StartCache(t, bin, e.Art, args...)
		e.Front = e.Cache.Addr
	}
	e.Client = e.NewClient(AccessKey, SecretKey)
	return e
}

// scheme is how clients reach Front.
func (e *Env) scheme() string {
	if e.Cache == nil && strings.HasPrefix(e.Counter.URL, "https://") {
		return "https"
	}
	return "http"
}

// FrontURL is the endpoint URL clients use (s3cache, or the Counter with NoCache).
func (e *Env) FrontURL() string { return e.scheme() + "://" + e.Front }

// NewClient returns a path-style client to Front with the given keys.
func (e *Env) NewClient(access, secret string) *s3.Client {
	return NewClient(ClientConfig{Endpoint: e.FrontURL(), AccessKey: access, SecretKey: secret, PathStyle: true, RootCAs: e.RootCAs})
}

// VirtualClient returns a virtual-hosted-style client: requests go to
// BUCKET.s3.local.test:PORT, dialed to Front's address.
func (e *Env) VirtualClient() *s3.Client {
	_, port, _ := net.SplitHostPort(e.Front)
	return NewClient(ClientConfig{
		Endpoint:  e.scheme() + "://" + VirtualDomain + ":" + port,
		AccessKey: AccessKey, SecretKey: SecretKey,
		PathStyle: false,
		DialAddr:  e.Front,
		RootCAs:   e.RootCAs,
	})
}

// HTTP returns a plain HTTP client dialing Front whatever the URL's host.
func (e *Env) HTTP() *http.Client { return NewHTTPClient(e.Front, e.RootCAs) }

// Ctx returns a context that ends with the test or after two minutes.
func (e *Env) Ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	e.T.Cleanup(cancel)
	return ctx
}

// ---- processes ----

// Proc is a child process whose output goes to a log file.
type Proc struct {
	Name string
	Log  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // valid after done
	// CleanExit makes Stop report a non-zero exit status after SIGTERM.
	CleanExit bool
	killed    bool // by Kill: its death is no failure
}

// StartProc starts argv with stdout and stderr appended to logPath.
func StartProc(name, logPath string, env []string, argv ...string) (*Proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "=== %s: %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, err
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	return p, nil
}

// Exited reports whether the process has ended, and how.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM to the process group, then SIGKILL after 10 s. It
// returns an error if the process had already died on its own.
func (p *Proc) Stop() error {
	if done, err := p.Exited(); done {
		if p.killed {
			return nil // the test killed it on purpose
		}
		return fmt.Errorf("%s had exited by itself: %v", p.Name, err)
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s did not stop within 10s of SIGTERM; killed", p.Name)
	}
	if p.CleanExit && p.err != nil {
		return fmt.Errorf("%s exited with %v after SIGTERM, want a clean exit (status 66 = the race detector found a race)", p.Name, p.err)
	}
	return nil
}

// LogContains reports whether the process's log has the string.
func (p *Proc) LogContains(s string) bool {
	b, err := os.ReadFile(p.Log)
	return err == nil && strings.Contains(string(b), s)
}

// Kill sends SIGKILL to the process group and waits.
func (p *Proc) Kill() {
	p.killed = true
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Proc returns the s3cache process.
func (c *Cache) Proc() *Proc { return c.proc }

// FreePort returns a port on 127.0.0.1 that was free a moment ago, for a
// server about to be started.
func FreePort() (string, error) {
	for range 500 {
		port := freePortLow + rand.IntN(freePortHigh-freePortLow)
		givenPorts.Lock()
		taken := givenPorts.m[port]
		givenPorts.m[port] = true
		givenPorts.Unlock()
		if taken {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		ln.Close()
		return strconv.Itoa(port), nil
	}
	return "", errors.New("no free port on 127.0.0.1")
}

// Ports FreePort hands out lie below the kernel's ephemeral range
// (32768-60999 by default), so the kernel never gives one to a listen on
// port 0 or an outgoing connection between FreePort and the server's bind
// (an e2e flake: a port freed by FreePort was handed out again to another
// test's listener); givenPorts keeps this process from handing one out
// twice. Test-harness state, hence package level.
const freePortLow, freePortHigh = 20000, 32000

var givenPorts = struct {
	sync.Mutex
	m map[int]bool
}{m: map[int]bool{}}

// waitHTTP polls url until it answers 200, the process dies, or the deadline.
func waitHTTP(client *http.Client, url string, p *Proc, within time.Duration) error {
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		if done, err := p.Exited(); done {
			return fmt.Errorf("%s exited before it was ready: %v", p.Name, err)
		}
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready within %v: %v", p.Name, within, last)
}

// StartOrigin starts versitygw through scripts/s3server.sh run.
func StartOrigin(t testing.TB, root, art string, useTLS bool) *Origin {
	t.Helper()
	o := &Origin{Dir: t.TempDir()}
	script := filepath.Join(root, "scripts", "s3server.sh")
	mode, scheme := "--http", "http"
	client := NewHTTPClient("", nil)
	if useTLS {
		mode, scheme = "--https", "https"
		certDir := filepath.Join(o.Dir, "tls")
		if out, err := exec.Command(script, "cert", certDir).CombinedOutput(); err != nil {
			t.Fatalf("s3server.sh cert: %v\n%s", err, out)
		}
		o.CACert = filepath.Join(certDir, "cert.pem")
		pool, err := CertPool(o.CACert)
		if err != nil {
			t.Fatal(err)
		}
		client = NewHTTPClient("", pool)
	}
	env := []string{"S3SERVER_ACCESS_KEY=" + AccessKey, "S3SERVER_SECRET_KEY=" + SecretKey, "S3SERVER_VIRTUAL_DOMAIN=" + VirtualDomain, "VERSITYGW=" + VersitygwPath(root)}
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		p, err := StartProc("versitygw", filepath.Join(art, "versitygw.log"), env, script, "run", mode, port, "--dir", o.Dir)
		if err != nil {
			t.Fatal(err)
		}
		o.URL = scheme + "://127.0.0.1:" + port
		if last = waitHTTP(client, o.URL+"/health", p, 30*time.Second); last == nil {
			o.proc = p
			t.Cleanup(func() {
				if err := p.Stop(); err != nil {
					t.Errorf("versitygw: %v", err)
				}
			})
			return o
		}
		p.Kill()
	}
	t.Fatalf("versitygw did not start: %v (log %s)", last, filepath.Join(art, "versitygw.log"))
	return nil
}

// StartCache starts s3cache with its listeners on free 127.0.0.1 ports, a
// fresh cache directory, debug logging, and args (which must include --origin).
func StartCache(t testing.TB, bin, art string, args ...string) *Cache {
	t.Helper()
	c := &Cache{Dir: t.TempDir()}
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		lp, err1 := FreePort()
		hp, err2 := FreePort()
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		c.Addr, c.HealthAddr = "127.0.0.1:"+lp, "127.0.0.1:"+hp
		c.URL = "http://" + c.Addr
		c.Args = append([]string{
			"--listen", c.Addr, "--listen-tls=", "--health", c.HealthAddr, "--metrics=", "--dashboard=",
			"--cache-dir", c.Dir, "--log-level", "debug",
		}, args...)
		p, err := StartProc("s3cache", filepath.Join(art, "s3cache.log"), nil, append([]string{bin}, c.Args...)...)
		if err != nil {
			t.Fatal(err)
		}
		if last = waitHTTP(NewHTTPClient("", nil), "http://"+c.HealthAddr+"/health", p, 30*time.Second); last == nil {
			c.proc = p
			p.CleanExit = true
			t.Cleanup(func() {
				if err := p.Stop(); err != nil {
					t.Errorf("s3cache: %v", err)
				}
				if p.LogContains("WARNING: DATA RACE") {
					t.Errorf("s3cache: the race detector reported a data race (see %s)", p.Log)
				}
				if p.LogContains("\npanic: ") || p.LogContains("http: panic serving") {
					t.Errorf("s3cache: panicked (see %s)", p.Log)
				}
			})
			return c
		}
		p.Kill()
	}
	t.Fatalf("s3cache did not start: %v (log %s)", last, filepath.Join(art, "s3cache.log"))
	return nil
}

// ---- artifacts ----

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func artifactsDir(t testing.TB, root string) string {
	dir := filepath.Join(root, "e2e", "artifacts", unsafeName.ReplaceAllString(t.Name(), "_"))
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (e *Env) dumpLogsOnFailure() {
	if !e.T.Failed() {
		return
	}
	if e.Counter != nil {
		e.T.Logf("counting proxy: %s", e.Counter.Summary())
	}
	for _, name := range []string{"s3cache.log", "versitygw.log", "counter.log"} {
		e.T.Logf("---- %s (last 40 lines; full log in %s) ----\n%s", name, e.Art, tail(filepath.Join(e.Art, name), 40))
	}
}

func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// PID is the process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

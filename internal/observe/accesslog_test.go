package observe

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/s3req"
)

// logFields splits an access-log line into fields, keeping quoted ones whole.
func logFields(line string) []string {
	return regexp.MustCompile(`"[^"]*"|\[[^\]]*\]|\S+`).FindAllString(line, -1)
}

func serveLogged(t *testing.T, r *http.Request, h http.HandlerFunc) string {
	t.Helper()
	var line string
	sink := sinkFunc(func(rec *Record) { line = string(FormatAccessLog(rec)) })
	Wrap(h, s3req.Options{}, sink).ServeHTTP(httptest.NewRecorder(), r)
	return line
}

type sinkFunc func(*Record)

func (f sinkFunc) Started(*Record)      {}
func (f sinkFunc) Finished(rec *Record) { f(rec) }

func TestAccessLogRedactsCredentials(t *testing.T) {
	secrets := []string{"AKIAEXAMPLEKEY", "c2lnbmF0dXJlMTIz", "FQoGZXIvYXdzEXAMPLETOKEN", "authsignature0123", "v2signature"}
	presigned := "/bucket/dir/my%20file.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=AKIAEXAMPLEKEY%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z" +
		"&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&x-amz-security-token=FQoGZXIvYXdzEXAMPLETOKEN" +
		"&X-Amz-Signature=c2lnbmF0dXJlMTIz&Signature=v2signature&versionId=v1"
	r := httptest.NewRequest(http.MethodGet, presigned, nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEKEY/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=authsignature0123")
	r.Header.Set("X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLETOKEN")
	r.Header.Set("User-Agent", `aws-cli/2 "quoted"`)
	line := serveLogged(t, r, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Cache", "HIT")
		w.Header().Set("X-Amz-Request-Id", "REQ123")
		w.Header().Set("Content-Length", "5")
		io.WriteString(w, "hello")
	})
	for _, s := range secrets {
		if strings.Contains(line, s) {
			t.Errorf("access log line leaks %q:\n%s", s, line)
		}
	}
	if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
		t.Errorf("not exactly one line: %q", line)
	}
	f := logFields(strings.TrimSpace(line))
	if len(f) != 27 {
		t.Fatalf("%d fields, want S3's 26 plus the cache outcome:\n%s\n%q", len(f), line, f)
	}
	want := map[int]string{
		1: "bucket", 4: "-", 5: "REQ123", 6: "REST.GET.OBJECT", 7: "dir/my%20file.txt",
		9: "200", 11: "5", 12: "5", 17: "v1", 19: "SigV4", 21: "QueryString", 26: "HIT",
	}
	for i, v := range want {
		if f[i] != v {
			t.Errorf("field %d = %q, want %q", i, f[i], v)
		}
	}
	if !strings.Contains(f[8], "X-Amz-Signature=REDACTED") || !strings.Contains(f[8], "X-Amz-Credential=REDACTED") ||
		!strings.Contains(f[8], "x-amz-security-token=REDACTED") || !strings.Contains(f[8], "X-Amz-Expires=3600") {
		t.Errorf("request URI not redacted as expected: %s", f[8])
	}
	if strings.Contains(f[16], `"quoted"`) || !strings.Contains(f[16], `\x22quoted\x22`) {
		t.Errorf("quotes in the user agent not escaped: %s", f[16])
	}
}

func TestAccessLogRecordsErrorsAndRanges(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/b/k", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAX/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;range, Signature=abc")
	line := serveLogged(t, r, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Cache", "PARTIAL")
		w.Header().Set("Content-Range", "bytes 0-1/1000")
		w.WriteHeader(http.StatusPartialContent)
		io.WriteString(w, "ab")
	})
	f := logFields(strings.TrimSpace(line))
	if f[9] != "206" || f[12] != "1000" || f[21] != "AuthHeader" || f[26] != "PARTIAL" {
		t.Errorf("range line fields: %q", f)
	}
	line = serveLogged(t, httptest.NewRequest(http.MethodPut, "/b/k", strings.NewReader("x")), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code></Error>")
	})
	f = logFields(strings.TrimSpace(line))
	if f[6] != "REST.PUT.OBJECT" || f[9] != "503" || f[10] != "SlowDown" || f[26] != "-" {
		t.Errorf("error line fields: %q", f)
	}
}

func TestRotatingFileRotatesAndPrunes(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	rf, err := openRotating(RotateConfig{Dir: dir, Name: "access", MaxSize: 100, Every: time.Hour, MaxFiles: 2}, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	line := []byte(strings.Repeat("x", 59) + "\n")
	write := func() {
		t.Helper()
		if _, err := rf.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	write()
	write() // 120 bytes > 100: the second line starts a new file
	now = now.Add(time.Second)
	write() // size rotation again
	now = now.Add(time.Hour)
	write() // new hour
	if err := rf.Flush(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var rotated []string
	for _, e := range entries {
		if e.Name() != "access.log" {
			rotated = append(rotated, e.Name())
		}
	}
	if len(rotated) != 2 {
		t.Errorf("rotated files = %v, want the newest 2 kept", rotated)
	}
	live, _ := os.ReadFile(filepath.Join(dir, "access.log"))
	if string(live) != string(line) {
		t.Errorf("live file = %q, want just the last line", live)
	}
}

func TestAccessLogFlushesOnClose(t *testing.T) {
	dir := t.TempDir()
	al, err := OpenAccessLog(AccessLogConfig{RotateConfig: RotateConfig{Dir: dir}, FlushEvery: time.Hour}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	Wrap(http.NotFoundHandler(), s3req.Options{}, al).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/b/k", nil))
	if err := al.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "access.log"))
	if err != nil || !strings.Contains(string(data), "REST.GET.OBJECT") {
		t.Errorf("after Close the log holds %q (%v)", data, err)
	}
	if off, err := OpenAccessLog(AccessLogConfig{}, nil); off != nil || err != nil {
		t.Errorf("no dir: %v %v, want off", off, err)
	}
}

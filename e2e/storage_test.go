package e2e

// Storage faults under a running s3cache: the cache directory turned
// read-only, filled up, and its files deleted or corrupted behind its back.
// s3cache must keep serving (passing through when it must), never serve
// wrong bytes, and recover by itself once the disk is usable again.
//
// As root, chmod does not stop writes, so the read-only and full-disk tests
// put the cache directory on a small tmpfs of their own (mount -t tmpfs,
// remount ro); where mounting is not permitted they skip.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3cache/s3cache/e2e/harness"
)

// mountTmpfs mounts a tmpfs of the given size (e.g. "8m") for this test
// and unmounts it at the end; it skips the test where mounting is refused.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs for the cache directory (needs root or CAP_SYS_ADMIN; as root chmod cannot make a directory read-only or full): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v %s; lazy unmount", dir, err, out)
			_ = exec.Command("umount", "-l", dir).Run()
		}
	})
	return dir
}

func remount(t *testing.T, dir, mode string) {
	t.Helper()
	// A read-only remount is refused while a file is open for writing (a
	// fill still committing in the background): try again for a while.
	var out []byte
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		if out, err = exec.Command("mount", "-o", "remount,"+mode, dir).CombinedOutput(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("remount %s %s: %v %s", dir, mode, err, out)
}

// cachedFiles lists the files under the cache's objects/ tree whose names
// end in one of the suffixes.
func cachedFiles(t *testing.T, cacheDir string, suffixes ...string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(cacheDir, "v1", "objects")
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		for _, s := range suffixes {
			if strings.HasSuffix(p, s) {
				out = append(out, p)
			}
		}
		return nil
	})
	return out
}

// settle reads key until a read is a HIT with no origin request (bounded),
// failing on any wrong byte on the way.
func settle(t *testing.T, e *harness.Env, what, key string, seed, size int64) {
	t.Helper()
	for i := 0; i < 5; i++ {
		e.Counter.Reset()
		r := get(t, e, e.Client, key)
		wantBody(t, fmt.Sprintf("%s: GET #%d", what, i+1), r, seed, size)
		if r.xcache() == "HIT" && e.Counter.Total() == 0 {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Errorf("%s: not a HIT again after 5 reads: s3cache does not recover by itself (%s)", what, e.Counter.Summary())
}

// TestStorageReadOnly: the cache directory becomes read-only under a running
// s3cache. Cached objects are still served, new ones are passed through, a
// write through the proxy is never followed by the old bytes, and once the
// directory is writable again caching resumes without a restart.
func TestStorageReadOnly(t *testing.T) {
	dir := mountTmpfs(t, "256m")
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{"--cache-dir", dir}})
	const size = 2*MiB + 3
	putPattern(t, e, e.Direct, "cached", 1, size)
	putPattern(t, e, e.Direct, "overwritten", 2, size)
	for _, k := range []string{"cached", "overwritten"} {
		wantBody(t, "GET "+k, get(t, e, e.Client, k), map[string]int64{"cached": 1, "overwritten": 2}[k], size)
	}
	if len(cachedFiles(t, dir, ".seg", ".crc", ".lz4")) == 0 {
		t.Fatalf("nothing cached under %s: is --cache-dir taken?", dir)
	}

	remount(t, dir, "ro")
	e.Counter.Reset()
	r := get(t, e, e.Client, "cached")
	wantBody(t, "GET of a cached object, directory read-only", r, 1, size)
	wantXCache(t, "GET of a cached object, directory read-only", r, "HIT")

	for i := 0; i < 10; i++ {
		key := fmt.Sprintf("new-%d", i)
		putPattern(t, e, e.Direct, key, int64(10+i), size)
		r := get(t, e, e.Client, key)
		wantBody(t, "GET of a new object, directory read-only", r, int64(10+i), size)
		wantNotHit(t, "GET of a new object, directory read-only", r)
	}
	r = head(t, e, e.Client, "new-0")
	if r.err != nil || r.header.Get("Content-Length") != fmt.Sprint(size) {
		t.Errorf("HEAD of a new object, directory read-only: %v, Content-Length %q", r.err, r.header.Get("Content-Length"))
	}

	// A write through the proxy while nothing can be written to disk: the
	// old bytes must not be served afterwards.
	putPattern(t, e, e.Client, "overwritten", 3, size+1)
	r = get(t, e, e.Client, "overwritten")
	checkBody(t, "GET after a PUT through s3cache, directory read-only", r, 3, size+1)
	if _, err := e.Client.DeleteObject(e.Ctx(), &s3.DeleteObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String("cached")}); err != nil {
		t.Fatalf("DELETE through s3cache, directory read-only: %v", err)
	}
	if r := get(t, e, e.Client, "cached"); r.status != 404 {
		t.Errorf("GET after a DELETE through s3cache, directory read-only: status %d (X-Cache %q, %d bytes), want 404 NoSuchKey: a deleted object is still served", r.status, r.xcache(), r.n)
	}

	logPath := e.Cache.Proc().Log
	b, _ := os.ReadFile(logPath)
	var noisy int
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "read-only file system") && (strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR")) {
			noisy++
		}
	}
	t.Logf("%d warning/error lines about the read-only directory for 10 misses, a PUT and a DELETE", noisy)
	if noisy > 5 {
		t.Errorf("s3cache logged %d warnings/errors about the read-only directory for 12 requests: want about one per condition, not one per request", noisy)
	}

	remount(t, dir, "rw")
	settle(t, e, "read-only, then writable again: new object", "new-9", 19, size)
	settle(t, e, "read-only, then writable again: object written meanwhile", "overwritten", 3, size+1)
	wantErr(t, "GET of the deleted object once writable", get(t, e, e.Client, "cached"), 404, "NoSuchKey")
}

// TestStorageFull: the cache directory (an 8 MiB tmpfs) fills up. Every
// read still gets the whole object; an object larger than the disk too;
// once space is freed caching resumes by itself.
func TestStorageFull(t *testing.T) {
	dir := mountTmpfs(t, "8m")
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{"--cache-dir", dir, "--max-ram-cache-size", "0"}})
	const size = 3 * MiB
	for i := 0; i < 5; i++ {
		key := fmt.Sprintf("fill-%d", i)
		putPattern(t, e, e.Direct, key, int64(20+i), size)
		for j := 1; j <= 2; j++ {
			checkBody(t, fmt.Sprintf("GET #%d of %s (disk filling up)", j, key), get(t, e, e.Client, key), int64(20+i), size)
		}
	}
	putPattern(t, e, e.Direct, "huge", 30, 12*MiB)
	for j := 1; j <= 2; j++ {
		checkBody(t, fmt.Sprintf("GET #%d of an object larger than the disk", j), get(t, e, e.Client, "huge"), 30, 12*MiB)
	}
	rg := getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("huge"), Range: aws.String("bytes=5000000-5000999")})
	if rg.err != nil || !bytes.Equal(rg.body, harness.PatternRange(30, 12*MiB, 5000000, 5000999)) {
		t.Errorf("range GET with the disk full: %v, %d bytes", rg.err, len(rg.body))
	}
	out, _ := exec.Command("df", "-k", dir).CombinedOutput()
	t.Logf("cache directory after the reads:\n%s", out)

	// Free the space the way an operator would (remove cached objects),
	// then a new object is cached again without a restart.
	if err := os.RemoveAll(filepath.Join(dir, "v1", "objects")); err != nil {
		t.Fatal(err)
	}
	checkBody(t, "GET after the cache was emptied underneath", get(t, e, e.Client, "fill-0"), 20, size)
	putPattern(t, e, e.Direct, "after", 31, MiB)
	wantBody(t, "GET of a new object once space is free", get(t, e, e.Client, "after"), 31, MiB)
	settle(t, e, "disk full, then space freed: new object", "after", 31, MiB)
	settle(t, e, "disk full, then space freed: object read while full", "fill-0", 20, size)
}

// checkBody is wantBody that lets the test go on: every read of a full
// disk is reported, not just the first.
func checkBody(t *testing.T, what string, r result, seed, size int64) {
	t.Helper()
	switch {
	case r.err != nil:
		t.Errorf("%s: %v after %d of %d bytes (status %d, X-Cache %q): the client's read failed", what, r.err, r.n, size, r.status, r.xcache())
	case r.n != size || r.sha != harness.PatternSHA256(seed, size):
		t.Errorf("%s: %d bytes that are not the object (X-Cache %q)", what, r.n, r.xcache())
	}
}

// textObject is compressible content, stored as LZ4 by s3cache.
func textObject(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "line %07d: the quick brown fox jumps over the lazy dog, s3cache e2e storage test\n", i)
	}
	return b.Bytes()[:n]
}

// TestStorageCorruption: files of a cached object are deleted, truncated or
// overwritten behind a running s3cache. The next reads get the object's
// bytes (or a visible abort), never wrong bytes, and the entry heals.
func TestStorageCorruption(t *testing.T) {
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{"--max-ram-cache-size", "0"}})
	const size = 3*MiB + 5
	text := textObject(size)

	type object struct {
		key  string
		body []byte
	}
	putText := func(key string) object {
		_, err := e.Direct.PutObject(e.Ctx(), &s3.PutObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String(key),
			Body: bytes.NewReader(text), ContentLength: aws.Int64(int64(len(text))), ContentType: aws.String("text/plain")})
		if err != nil {
			t.Fatal(err)
		}
		return object{key, text}
	}
	putRaw := func(key string) object {
		putPattern(t, e, e.Direct, key, 40, size)
		return object{key, harness.PatternBytes(40, size)}
	}
	// readBack checks a read after the damage: the object, or an abort.
	readBack := func(t *testing.T, what string, o object) {
		t.Helper()
		r := get(t, e, e.Client, o.key)
		if r.err != nil {
			t.Logf("%s: aborted: %v (X-Cache %q)", what, r.err, r.xcache())
			return
		}
		if r.n != int64(len(o.body)) || r.sha != sha(o.body) {
			t.Errorf("%s: %d bytes that are not the object (X-Cache %q): wrong bytes served", what, r.n, r.xcache())
		} else {
			t.Logf("%s: the object (X-Cache %s)", what, r.xcache())
		}
	}
	// objectFiles caches o and returns its directory's files.
	objectFiles := func(t *testing.T, o object) (dir string, segs []string) {
		t.Helper()
		for i := 0; i < 2; i++ {
			if r := get(t, e, e.Client, o.key); r.err != nil || r.sha != sha(o.body) {
				t.Fatalf("GET %s: %v", o.key, r.err)
			}
		}
		// The fill commits in the background: wait for its files.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			dir, segs = "", nil
			for _, p := range cachedFiles(t, e.Cache.Dir, "meta.json") {
				if b, _ := os.ReadFile(p); strings.Contains(string(b), `"key":"`+o.key+`"`) {
					dir = filepath.Dir(p)
				}
			}
			if dir == "" {
				continue
			}
			ents, _ := os.ReadDir(dir)
			for _, en := range ents {
				if n := en.Name(); strings.HasSuffix(n, ".seg") || strings.HasSuffix(n, ".crc") || strings.HasSuffix(n, ".lz4") {
					segs = append(segs, filepath.Join(dir, n))
				}
			}
			if len(segs) > 0 {
				return dir, segs
			}
		}
		t.Fatalf("no meta.json naming %q with a segment beside it under %s", o.key, e.Cache.Dir)
		return dir, segs
	}
	healed := func(t *testing.T, what string, o object) {
		t.Helper()
		for i := 0; i < 5; i++ {
			e.Counter.Reset()
			r := get(t, e, e.Client, o.key)
			if r.err != nil || r.sha != sha(o.body) {
				t.Fatalf("%s: GET #%d: %v, %d bytes, X-Cache %q: want the object", what, i+1, r.err, r.n, r.xcache())
			}
			if r.xcache() == "HIT" && e.Counter.Total() == 0 {
				return
			}
			time.Sleep(300 * time.Millisecond)
		}
		t.Errorf("%s: not a HIT again after 5 reads (%s)", what, e.Counter.Summary())
	}

	cases := []struct {
		name   string
		object func(key string) object
		suffix string // the segment kind the damage needs
		damage func(t *testing.T, dir string, segs []string)
	}{
		{"truncate raw segment", putRaw, ".crc", func(t *testing.T, _ string, segs []string) {
			must(t, "truncate", os.Truncate(segs[0], MiB))
		}},
		{"flip bytes in raw segment", putRaw, ".crc", func(t *testing.T, _ string, segs []string) {
			flipBytes(t, segs[0], 0.5)
		}},
		{"flip bytes near the start of raw segment", putRaw, ".crc", func(t *testing.T, _ string, segs []string) {
			flipBytes(t, segs[0], 0.001)
		}},
		{"flip bytes near the end of raw segment", putRaw, ".crc", func(t *testing.T, _ string, segs []string) {
			flipBytes(t, segs[0], 0.9999)
		}},
		{"truncate compressed segment", putText, ".lz4", func(t *testing.T, _ string, segs []string) {
			st, _ := os.Stat(segs[0])
			must(t, "truncate", os.Truncate(segs[0], st.Size()/2))
		}},
		{"flip bytes in compressed segment", putText, ".lz4", func(t *testing.T, _ string, segs []string) {
			flipBytes(t, segs[0], 0.5)
		}},
		{"flip bytes near the start of compressed segment", putText, ".lz4", func(t *testing.T, _ string, segs []string) {
			flipBytes(t, segs[0], 0.01)
		}},
		{"flip bytes near the end of compressed segment", putText, ".lz4", func(t *testing.T, _ string, segs []string) {
			flipBytes(t, segs[0], 0.99)
		}},
		{"delete meta.json", putRaw, ".crc", func(t *testing.T, dir string, _ []string) {
			must(t, "remove meta.json", os.Remove(filepath.Join(dir, "meta.json")))
		}},
		{"garbage meta.json", putText, ".lz4", func(t *testing.T, dir string, _ []string) {
			must(t, "overwrite meta.json", os.WriteFile(filepath.Join(dir, "meta.json"), []byte("{\"format\":1,\"etag\":"), 0o644))
		}},
		{"delete segment", putText, ".lz4", func(t *testing.T, _ string, segs []string) {
			must(t, "remove segment", os.Remove(segs[0]))
		}},
		{"delete object directory", putRaw, ".crc", func(t *testing.T, dir string, _ []string) {
			must(t, "remove directory", os.RemoveAll(dir))
		}},
		{"empty segment", putRaw, ".crc", func(t *testing.T, _ string, segs []string) {
			must(t, "truncate", os.Truncate(segs[0], 0))
		}},
	}
	for i, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "-"), func(t *testing.T) {
			o := c.object(fmt.Sprintf("obj-%d", i))
			dir, segs := objectFiles(t, o)
			if !strings.HasSuffix(segs[0], c.suffix) {
				t.Fatalf("%s is stored as %s, want a %s segment: the test's premise is wrong", o.key, filepath.Base(segs[0]), c.suffix)
			}
			c.damage(t, dir, segs)
			readBack(t, "first GET after: "+c.name, o)
			readBack(t, "second GET after: "+c.name, o)
			// Reads that start mid-object (frame index, gap planning).
			rg := getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String(o.key), Range: aws.String("bytes=2000000-2000999")})
			if rg.err == nil && !bytes.Equal(rg.body, o.body[2000000:2001000]) {
				t.Errorf("range GET after %s: wrong bytes (X-Cache %q)", c.name, rg.xcache())
			}
			healed(t, "after "+c.name, o)
		})
	}
}

// TestStorageWiped: an operator empties the cache directory (rm -rf
// DIR/*) under a running s3cache. Reads go on, and caching resumes by
// itself.
func TestStorageWiped(t *testing.T) {
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{"--max-ram-cache-size", "0"}})
	const size = MiB + 1
	putPattern(t, e, e.Direct, "before", 50, size)
	settle(t, e, "before the wipe", "before", 50, size)
	ents, err := os.ReadDir(e.Cache.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range ents {
		must(t, "wipe", os.RemoveAll(filepath.Join(e.Cache.Dir, en.Name())))
	}
	checkBody(t, "GET of a formerly cached object after the wipe", get(t, e, e.Client, "before"), 50, size)
	putPattern(t, e, e.Direct, "after", 51, size)
	checkBody(t, "GET of a new object after the wipe", get(t, e, e.Client, "after"), 51, size)
	settle(t, e, "formerly cached object after the wipe", "before", 50, size)
	settle(t, e, "new object after the wipe", "after", 51, size)
}

// flipBytes inverts 16 bytes of the file at a fraction of its length, in
// place (same size, so only a checksum can tell).
func flipBytes(t *testing.T, path string, at float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off := int(float64(len(b)) * at)
	for i := off; i < off+16 && i < len(b); i++ {
		b[i] ^= 0xff
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b[off:min(off+16, len(b))], int64(off)); err != nil {
		t.Fatal(err)
	}
}

func sha(b []byte) string {
	s, _, _ := harness.SHA256(bytes.NewReader(b))
	return s
}

// restartCache kills s3cache with SIGKILL and starts a new one on the same
// cache directory and origin; it returns a path-style client to it.
func restartCache(t *testing.T, e *harness.Env) (*harness.Cache, *s3.Client) {
	t.Helper()
	e.Cache.Proc().Kill()
	bin, err := harness.S3CacheBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := harness.StartCache(t, bin, e.Art, "--origin", e.Counter.URL, "--cache-dir", e.Cache.Dir)
	return c, harness.NewClient(harness.ClientConfig{Endpoint: c.URL, AccessKey: harness.AccessKey, SecretKey: harness.SecretKey, PathStyle: true})
}

// slowReader gives its bytes in 64 KiB steps, one step per tick, and
// reports when it has given n bytes.
type slowReader struct {
	r       *harness.Pattern
	given   int64
	n       int64
	reached chan struct{}
	once    sync.Once
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.given >= s.n {
		s.once.Do(func() { close(s.reached) })
		time.Sleep(50 * time.Millisecond)
	}
	k, err := s.r.Read(p[:min(len(p), 64<<10)])
	s.given += int64(k)
	return k, err
}

// TestStorageKillDuringFillAndWrite: s3cache is killed with SIGKILL in the
// middle of a fill, of a PUT and of a multipart upload. A new instance on
// the same directory serves exactly what S3 has: no half-filled segment, no
// staged upload the origin never completed.
func TestStorageKillDuringFillAndWrite(t *testing.T) {
	e := harness.NewEnv(t)
	const size = 24 * MiB
	putPattern(t, e, e.Direct, "filled", 60, size)
	putPattern(t, e, e.Direct, "overwritten", 61, MiB)
	wantBody(t, "GET before the overwrite", get(t, e, e.Client, "overwritten"), 61, MiB)

	// A fill: the client has read 2 MiB of 24 when s3cache dies.
	ps, err := s3.NewPresignClient(e.Client).PresignGetObject(e.Ctx(), &s3.GetObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String("filled")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.HTTP().Get(ps.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.CopyN(io.Discard, resp.Body, 2*MiB); err != nil {
		t.Fatal(err)
	}

	// A PUT of a new version whose body is half sent (a presigned PUT:
	// the payload is unsigned, so the body streams as it is read).
	pp, err := s3.NewPresignClient(e.Client).PresignPutObject(e.Ctx(), &s3.PutObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String("overwritten")})
	if err != nil {
		t.Fatal(err)
	}
	body := &slowReader{r: harness.NewPattern(62, size), n: 4 * MiB, reached: make(chan struct{})}
	putDone := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, pp.URL, body)
		req.ContentLength = size
		resp, err := e.HTTP().Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("PUT: %s", resp.Status)
			}
		}
		putDone <- err
	}()
	select {
	case <-body.reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the PUT body never got going")
	}

	// A multipart upload with one part sent, not completed.
	up, err := e.Client.CreateMultipartUpload(e.Ctx(), &s3.CreateMultipartUploadInput{Bucket: aws.String(e.Bucket), Key: aws.String("mpu")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client.UploadPart(e.Ctx(), &s3.UploadPartInput{Bucket: aws.String(e.Bucket), Key: aws.String("mpu"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: harness.NewPattern(63, 5*MiB), ContentLength: aws.Int64(5 * MiB)}); err != nil {
		t.Fatal(err)
	}

	_, client := restartCache(t, e)
	select {
	case err := <-putDone:
		t.Logf("the PUT under way at the kill: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the PUT under way at the kill did not end within 30 s")
	}
	_, _ = io.Copy(io.Discard, resp.Body)

	// What S3 has now, and what the new instance must serve.
	d := head(t, e, e.Direct, "overwritten")
	wantSeed, wantSize := int64(61), int64(MiB)
	if d.header.Get("Content-Length") == fmt.Sprint(size) {
		wantSeed, wantSize = 62, size
	}
	for i := 1; i <= 2; i++ {
		r := get(t, e, client, "filled")
		wantBody(t, fmt.Sprintf("GET #%d of the object being filled at the kill", i), r, 60, size)
		r = get(t, e, client, "overwritten")
		wantBody(t, fmt.Sprintf("GET #%d of the object being overwritten at the kill", i), r, wantSeed, wantSize)
		if r := get(t, e, client, "mpu"); r.status != 404 {
			t.Errorf("GET #%d of an upload never completed: status %d, %d bytes, X-Cache %q: want S3's 404", i, r.status, r.n, r.xcache())
		}
	}

	// The interrupted multipart upload can still be completed through the
	// new instance, and reads back whole.
	if _, err := client.UploadPart(e.Ctx(), &s3.UploadPartInput{Bucket: aws.String(e.Bucket), Key: aws.String("mpu"), UploadId: up.UploadId,
		PartNumber: aws.Int32(2), Body: harness.NewPattern(64, MiB), ContentLength: aws.Int64(MiB)}); err != nil {
		t.Fatal(err)
	}
	parts, err := client.ListParts(e.Ctx(), &s3.ListPartsInput{Bucket: aws.String(e.Bucket), Key: aws.String("mpu"), UploadId: up.UploadId})
	if err != nil {
		t.Fatal(err)
	}
	var done []types.CompletedPart
	for _, p := range parts.Parts {
		done = append(done, types.CompletedPart{PartNumber: p.PartNumber, ETag: p.ETag})
	}
	if _, err := client.CompleteMultipartUpload(e.Ctx(), &s3.CompleteMultipartUploadInput{Bucket: aws.String(e.Bucket), Key: aws.String("mpu"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
		t.Fatal(err)
	}
	want := append(harness.PatternBytes(63, 5*MiB), harness.PatternBytes(64, MiB)...)
	for i := 1; i <= 2; i++ {
		r := get(t, e, client, "mpu")
		if r.err != nil || r.sha != sha(want) {
			t.Errorf("GET #%d of the multipart object completed after the kill: %v, %d bytes, X-Cache %q: want the two parts", i, r.err, r.n, r.xcache())
		}
	}
}

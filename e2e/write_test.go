package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3cache/s3cache/e2e/harness"
)

// cache makes key a cached entry (GET miss then HIT) of pattern (seed, size).
func cache(t *testing.T, e *harness.Env, key string, seed, size int64) {
	t.Helper()
	wantBody(t, "GET "+key, get(t, e, e.Client, key), seed, size)
	r := get(t, e, e.Client, key)
	wantBody(t, "GET "+key+" again", r, seed, size)
	wantXCache(t, "GET "+key+" again", r, "HIT")
	if hr := head(t, e, e.Client, key); hr.xcache() != "HIT" {
		t.Errorf("HEAD %s after GET: X-Cache %q, want HIT", key, hr.xcache())
	}
}

// TestOverwriteAndDeleteThroughProxy: a PUT or DELETE through the proxy is
// seen at once by GET and HEAD.
func TestOverwriteAndDeleteThroughProxy(t *testing.T) {
	e := harness.NewEnv(t)
	out := putPattern(t, e, e.Client, "ow", 20, 3000)
	cache(t, e, "ow", 20, 3000)

	out2 := putPattern(t, e, e.Client, "ow", 21, 4500)
	if aws.ToString(out.ETag) == aws.ToString(out2.ETag) {
		t.Fatal("both versions have the same ETag: the test's premise is wrong")
	}
	r := get(t, e, e.Client, "ow")
	// The new bytes, from S3 or from the write-through cache.
	wantBody(t, "GET after overwrite", r, 21, 4500)
	if got := r.header.Get("ETag"); got != aws.ToString(out2.ETag) {
		t.Errorf("GET after overwrite: ETag %s, want %s", got, aws.ToString(out2.ETag))
	}
	hr := head(t, e, e.Client, "ow")
	if got := hr.header.Get("ETag"); got != aws.ToString(out2.ETag) || hr.header.Get("Content-Length") != "4500" {
		t.Errorf("HEAD after overwrite: ETag %s Content-Length %s, want %s 4500", got, hr.header.Get("Content-Length"), aws.ToString(out2.ETag))
	}

	cache(t, e, "ow", 21, 4500)
	if _, err := e.Client.DeleteObject(e.Ctx(), &s3.DeleteObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String("ow")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	wantErr(t, "GET after delete", get(t, e, e.Client, "ow"), 404, "NoSuchKey")
	wantErr(t, "HEAD after delete", head(t, e, e.Client, "ow"), 404, "")
}

// TestPutResponseHasXCache: write responses carry X-Cache too.
func TestPutResponseHasXCache(t *testing.T) {
	e := harness.NewEnv(t)
	out := putPattern(t, e, e.Client, "px", 22, 10)
	if x := harness.XCache(out.ResultMetadata); x == "" || x == "HIT" {
		t.Errorf("PUT: X-Cache %q, want BYPASS or similar", x)
	}
}

// TestBatchDeleteInvalidates: POST ?delete through the proxy invalidates every key.
func TestBatchDeleteInvalidates(t *testing.T) {
	e := harness.NewEnv(t)
	keys := []string{"bd/a", "bd/b", "bd/c d"}
	for i, k := range keys {
		putPattern(t, e, e.Direct, k, int64(30+i), int64(100+i))
		cache(t, e, k, int64(30+i), int64(100+i))
	}
	var ids []types.ObjectIdentifier
	for _, k := range keys[:2] {
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
	}
	ids = append(ids, types.ObjectIdentifier{Key: aws.String(keys[2])})
	out, err := e.Client.DeleteObjects(e.Ctx(), &s3.DeleteObjectsInput{Bucket: aws.String(e.Bucket), Delete: &types.Delete{Objects: ids}})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}
	if len(out.Errors) > 0 || len(out.Deleted) != len(keys) {
		t.Fatalf("DeleteObjects: deleted %d, errors %v", len(out.Deleted), out.Errors)
	}
	for _, k := range keys {
		wantErr(t, "GET after batch delete "+k, get(t, e, e.Client, k), 404, "NoSuchKey")
		wantErr(t, "HEAD after batch delete "+k, head(t, e, e.Client, k), 404, "")
	}
}

// TestCopyObjectInvalidatesDestination: CopyObject through the proxy
// invalidates the destination; the source stays cached.
func TestCopyObjectInvalidatesDestination(t *testing.T) {
	e := harness.NewEnv(t)
	putPattern(t, e, e.Direct, "cp/src", 40, 7000)
	putPattern(t, e, e.Direct, "cp/dst", 41, 900)
	cache(t, e, "cp/src", 40, 7000)
	cache(t, e, "cp/dst", 41, 900)
	if _, err := e.Client.CopyObject(e.Ctx(), &s3.CopyObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String("cp/dst"),
		CopySource: aws.String(e.Bucket + "/cp/src")}); err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	r := get(t, e, e.Client, "cp/dst")
	wantBody(t, "GET destination after copy", r, 40, 7000)
	wantNotHit(t, "GET destination after copy", r)
	if h := head(t, e, e.Client, "cp/dst"); h.header.Get("Content-Length") != "7000" {
		t.Errorf("HEAD destination after copy: Content-Length %q, want 7000", h.header.Get("Content-Length"))
	}
	e.Counter.Reset()
	r = get(t, e, e.Client, "cp/src")
	wantBody(t, "GET source after copy", r, 40, 7000)
	wantXCache(t, "GET source after copy", r, "HIT")
}

// TestMultipartUploadThroughProxy: Create/UploadPart/Complete through the
// proxy; the object reads back whole, and an older cached copy of the key
// is not served after Complete.
func TestMultipartUploadThroughProxy(t *testing.T) {
	e := harness.NewEnv(t)
	const key = "mp/object"
	putPattern(t, e, e.Direct, key, 50, 1234)
	cache(t, e, key, 50, 1234)

	// Parts cut from one pattern so the result is that pattern.
	const seed, size = 51, 5*MiB + MiB + 3
	bounds := [][2]int64{{0, 5 * MiB}, {5 * MiB, size}}
	cr, err := e.Client.CreateMultipartUpload(e.Ctx(), &s3.CreateMultipartUploadInput{Bucket: aws.String(e.Bucket), Key: aws.String(key), ContentType: aws.String("application/x-mp")})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	var parts []types.CompletedPart
	for i, b := range bounds {
		body := harness.PatternRange(seed, size, b[0], b[1]-1)
		up, err := e.Client.UploadPart(e.Ctx(), &s3.UploadPartInput{Bucket: aws.String(e.Bucket), Key: aws.String(key), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		parts = append(parts, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	// Before Complete the old object is still the object.
	wantBody(t, "GET before Complete", get(t, e, e.Client, key), 50, 1234)
	if _, err := e.Client.CompleteMultipartUpload(e.Ctx(), &s3.CompleteMultipartUploadInput{Bucket: aws.String(e.Bucket), Key: aws.String(key), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	r := get(t, e, e.Client, key)
	// The new object, from S3 or assembled from the staged parts.
	wantBody(t, "GET after Complete", r, seed, size)
	if ct := r.header.Get("Content-Type"); ct != "application/x-mp" {
		t.Errorf("GET after Complete: Content-Type %q, want application/x-mp", ct)
	}
	e.Counter.Reset()
	r = get(t, e, e.Client, key)
	wantBody(t, "second GET after Complete", r, seed, size)
	wantXCache(t, "second GET after Complete", r, "HIT")
	wantNoOrigin(t, e, "second GET after Complete")
	// The staged parts became checksummed segments, like fills do.
	if raw := cachedFiles(t, e.Cache.Dir, ".seg"); len(raw) > 0 {
		t.Errorf("segments without block checksums after a multipart write-through: %v", raw)
	}
}

// TestListObjectsBypass: ListObjectsV2 passes through, uncached.
func TestListObjectsBypass(t *testing.T) {
	e := harness.NewEnv(t)
	want := []string{"l/a", "l/b/c", "l/d e"}
	for i, k := range want {
		putPattern(t, e, e.Direct, k, int64(60+i), 10)
	}
	e.Counter.Reset()
	for i := 1; i <= 2; i++ {
		out, err := e.Client.ListObjectsV2(e.Ctx(), &s3.ListObjectsV2Input{Bucket: aws.String(e.Bucket), Prefix: aws.String("l/")})
		if err != nil {
			t.Fatalf("ListObjectsV2 #%d: %v", i, err)
		}
		if x := harness.XCache(out.ResultMetadata); x != "BYPASS" {
			t.Errorf("ListObjectsV2 #%d: X-Cache %q, want BYPASS", i, x)
		}
		var got []string
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
		}
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ListObjectsV2 #%d: keys %q, want %q", i, got, want)
		}
		if i == 1 {
			// A new key behind the cache's back shows up in the next listing.
			putPattern(t, e, e.Direct, "l/f", 70, 10)
			want = append(want, "l/f")
		}
	}
	wantOrigin(t, e, "two listings", http.MethodGet, 2)
}

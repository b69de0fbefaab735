package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3cache/s3cache/e2e/harness"
)

// Tests of write-through caching (issue 5): uploads through s3cache land in
// the cache, so reading right after writing needs no origin GET.

func TestPutThenGetIsHit(t *testing.T) {
	e := harness.NewEnv(t)
	for i, size := range []int64{0, 1, 5 * MiB, 100 * MiB} {
		seed := int64(80 + i)
		t.Run(fmt.Sprintf("size=%d", size), func(t *testing.T) {
			key := fmt.Sprintf("wt/put-%d", size)
			putPattern(t, e, e.Client, key, seed, size, func(in *s3.PutObjectInput) {
				in.ContentType = aws.String("text/plain")
				in.Metadata = map[string]string{"origin": "e2e"}
			})
			e.Counter.Reset()
			r := get(t, e, e.Client, key)
			wantBody(t, "GET after PUT", r, seed, size)
			wantXCache(t, "GET after PUT", r, "HIT")
			wantNoOrigin(t, e, "GET after PUT")
			direct := head(t, e, e.Direct, key)
			for _, h := range []string{"ETag", "Content-Type", "Content-Length", "X-Amz-Meta-Origin"} {
				if got, want := r.header.Get(h), direct.header.Get(h); got != want {
					t.Errorf("%s: %q from the cache, %q from S3", h, got, want)
				}
			}
		})
	}
}

// uploadParts runs a multipart upload through c with the given part bodies
// (re-uploading part numbers listed twice) and returns the completed parts.
func uploadParts(t *testing.T, e *harness.Env, c *s3.Client, key string, parts [][]byte, numbers []int32) (*string, []types.CompletedPart) {
	t.Helper()
	up, err := c.CreateMultipartUpload(e.Ctx(), &s3.CreateMultipartUploadInput{Bucket: aws.String(e.Bucket), Key: aws.String(key),
		ContentType: aws.String("application/x-test")})
	if err != nil {
		t.Fatal(err)
	}
	done := map[int32]types.CompletedPart{}
	var order []int32
	for i, body := range parts {
		n := numbers[i]
		out, err := c.UploadPart(e.Ctx(), &s3.UploadPartInput{Bucket: aws.String(e.Bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))})
		if err != nil {
			t.Fatal(err)
		}
		if _, seen := done[n]; !seen {
			order = append(order, n)
		}
		done[n] = types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)}
	}
	slices.Sort(order)
	var completed []types.CompletedPart
	for _, n := range order {
		completed = append(completed, done[n])
	}
	return up.UploadId, completed
}

func complete(e *harness.Env, c *s3.Client, key string, id *string, parts []types.CompletedPart) error {
	_, err := c.CompleteMultipartUpload(e.Ctx(), &s3.CompleteMultipartUploadInput{Bucket: aws.String(e.Bucket), Key: aws.String(key),
		UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	return err
}

func TestMultipartUploadIsCached(t *testing.T) {
	e := harness.NewEnv(t)
	const partSize, seed = 5 * MiB, 90
	size := int64(5*partSize - 12345)
	data := harness.PatternBytes(seed, size)
	var parts [][]byte
	var numbers []int32
	for i := int64(0); i < size; i += partSize {
		parts = append(parts, data[i:min(i+partSize, size)])
		numbers = append(numbers, int32(len(parts)))
	}
	// Part 2 is first uploaded with other bytes, then again: the cache must
	// hold what S3 assembled, i.e. the second upload.
	parts = append([][]byte{bytes.Repeat([]byte("x"), partSize)}, parts...)
	numbers = append([]int32{2}, numbers...)
	id, completed := uploadParts(t, e, e.Client, "wt/mp", parts, numbers)
	if err := complete(e, e.Client, "wt/mp", id, completed); err != nil {
		t.Fatal(err)
	}

	e.Counter.Reset()
	wantBody(t, "whole object", get(t, e, e.Client, "wt/mp"), seed, size)
	r := getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("wt/mp"), Range: aws.String(fmt.Sprintf("bytes=%d-%d", partSize-100, partSize+100))})
	wantRange(t, "range across parts 1 and 2", r, seed, size, partSize-100, partSize+100)
	wantXCache(t, "range across parts", r, "HIT")
	r = getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("wt/mp"), PartNumber: aws.Int32(4)})
	wantRange(t, "part 4", r, seed, size, 3*partSize, 4*partSize-1)
	wantXCache(t, "part 4", r, "HIT")
	wantNoOrigin(t, e, "reads after the multipart upload")

	stagingEmpty(t, e)
}

// stagingEmpty fails if multipart staging is left in the cache dir.
func stagingEmpty(t *testing.T, e *harness.Env) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(e.Cache.Dir, "v1", "uploads"))
	if len(entries) != 0 {
		t.Errorf("%d staged uploads left behind", len(entries))
	}
}

func TestRejectedCompleteCachesNothing(t *testing.T) {
	e := harness.NewEnv(t)
	part := harness.PatternBytes(91, 5*MiB)
	id, completed := uploadParts(t, e, e.Client, "wt/bad", [][]byte{part, part}, []int32{1, 2})
	completed[1].ETag = aws.String(`"00000000000000000000000000000000"`)
	err := complete(e, e.Client, "wt/bad", id, completed)
	if err == nil {
		t.Fatal("S3 accepted a Complete with a wrong part ETag")
	}
	st, code, _ := harness.ErrInfo(err)
	t.Logf("Complete refused: %d %s", st, code)
	e.Counter.Reset()
	r := get(t, e, e.Client, "wt/bad")
	wantErr(t, "GET of the never-completed object", r, http.StatusNotFound, "")
	wantNotHit(t, "GET of the never-completed object", r)
}

func TestAbortDropsStaging(t *testing.T) {
	e := harness.NewEnv(t)
	part := harness.PatternBytes(92, 5*MiB)
	id, _ := uploadParts(t, e, e.Client, "wt/abort", [][]byte{part}, []int32{1})
	if _, err := e.Client.AbortMultipartUpload(e.Ctx(), &s3.AbortMultipartUploadInput{Bucket: aws.String(e.Bucket), Key: aws.String("wt/abort"), UploadId: id}); err != nil {
		t.Fatal(err)
	}
	stagingEmpty(t, e)
}

// kill -9 in the middle of a multipart upload, restart on the same cache
// dir: completing works through the proxy and the bytes served are right.
func TestMultipartSurvivesRestart(t *testing.T) {
	e := harness.NewEnv(t)
	const partSize, seed = 5 * MiB, 93
	size := int64(2 * partSize)
	data := harness.PatternBytes(seed, size)
	id, first := uploadParts(t, e, e.Client, "wt/restart", [][]byte{data[:partSize]}, []int32{1})

	e.Cache.Proc().Kill()
	bin, err := harness.S3CacheBinary()
	if err != nil {
		t.Fatal(err)
	}
	art := filepath.Join(e.Art, "restarted")
	os.MkdirAll(art, 0o755)
	again := harness.StartCache(t, bin, art, "--origin", e.Counter.URL, "--cache-dir", e.Cache.Dir)
	c := harness.NewClient(harness.ClientConfig{Endpoint: again.URL, AccessKey: harness.AccessKey, SecretKey: harness.SecretKey, PathStyle: true})

	out, err := c.UploadPart(e.Ctx(), &s3.UploadPartInput{Bucket: aws.String(e.Bucket), Key: aws.String("wt/restart"), UploadId: id,
		PartNumber: aws.Int32(2), Body: bytes.NewReader(data[partSize:]), ContentLength: aws.Int64(partSize)})
	if err != nil {
		t.Fatal(err)
	}
	parts := append(first, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(2)})
	if err := complete(e, c, "wt/restart", id, parts); err != nil {
		t.Fatal(err)
	}
	e.Counter.Reset()
	r := get(t, e, c, "wt/restart")
	wantBody(t, "GET after restart and complete", r, seed, size)
	wantXCache(t, "GET after restart and complete", r, "HIT")
	wantNoOrigin(t, e, "GET after restart and complete")
}

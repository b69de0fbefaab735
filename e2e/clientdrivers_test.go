package e2e

// Drivers for the client matrix (clients_test.go): each external client,
// and aws-sdk-go-v2, behind the s3ops interface.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3cache/s3cache/e2e/harness"
)

// tool runs one external program with an isolated environment.
type tool struct {
	t   *testing.T
	env []string
}

// newTool builds an environment with only this test's credentials, no
// proxy (unless proxy is set), and a private HOME.
func newTool(t *testing.T, proxy string, extra ...string) *tool {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		up := strings.ToUpper(k)
		if strings.HasPrefix(up, "AWS_") || strings.HasPrefix(up, "RCLONE_") || strings.HasSuffix(up, "_PROXY") || up == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+t.TempDir(), "AWS_ACCESS_KEY_ID="+harness.AccessKey, "AWS_SECRET_ACCESS_KEY="+harness.SecretKey,
		"AWS_DEFAULT_REGION="+harness.Region, "AWS_REGION="+harness.Region)
	if proxy != "" {
		env = append(env, "HTTP_PROXY=http://"+proxy, "http_proxy=http://"+proxy)
	}
	return &tool{t: t, env: append(env, extra...)}
}

// run returns the program's stdout, or an error with its stderr.
func (x *tool) run(argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = x.env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	x.t.Logf("%s (%.1fs)", strings.Join(argv, " "), time.Since(start).Seconds())
	if err != nil {
		return stdout.String(), fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, tailString(stderr.String()+stdout.String(), 1500))
	}
	return stdout.String(), nil
}

func tailString(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// endpoints returns the endpoint URL a client uses for a style, and the
// forward proxy it must go through (virtual style without pinned DNS).
func endpoints(e *harness.Env, style, proxy string) (endpoint, via string) {
	if style == "path" {
		return e.FrontURL(), ""
	}
	_, port, _ := net.SplitHostPort(e.Front)
	return "http://" + harness.VirtualDomain + ":" + port, proxy
}

// ---- scripts: boto3 (s3ops.py) and @aws-sdk/client-s3 (s3ops.mjs) ----

// scriptClient runs e2e/clients/s3ops.{py,mjs}, which print JSON.
type scriptClient struct {
	*tool
	argv []string
}

func newScriptClient(t *testing.T, e *harness.Env, style string, argv ...string) *scriptClient {
	endpoint, _ := endpoints(e, style, "")
	extra := []string{"S3_ENDPOINT=" + endpoint, "S3_BUCKET=" + e.Bucket, "S3_STYLE=" + style}
	if style == "virtual" {
		extra = append(extra, "S3_DIAL="+e.Front)
	}
	return &scriptClient{tool: newTool(t, "", extra...), argv: argv}
}

func (c *scriptClient) call(v any, args ...string) error {
	out, err := c.run(append(slices.Clone(c.argv), args...)...)
	if err != nil || v == nil {
		return err
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("%s: output %q: %v", args[0], out, err)
	}
	return nil
}

func (c *scriptClient) Put(key, file string, multipart bool) error {
	op := "put"
	if multipart {
		op = "put-multipart"
	}
	return c.call(nil, op, key, file)
}
func (c *scriptClient) Get(key, dest string) error { return c.call(nil, "get", key, dest) }
func (c *scriptClient) GetRange(key, dest string, first, last int64) error {
	return c.call(nil, "get-range", key, dest, fmt.Sprint(first), fmt.Sprint(last))
}
func (c *scriptClient) Head(key string) (int64, error) {
	var v struct{ Size int64 }
	err := c.call(&v, "head", key)
	return v.Size, err
}
func (c *scriptClient) List(prefix string) ([]string, error) {
	var v struct{ Keys []string }
	err := c.call(&v, "list", prefix)
	return v.Keys, err
}
func (c *scriptClient) Delete(key string) error { return c.call(nil, "delete", key) }
func (c *scriptClient) Presign(key string) (string, error) {
	var v struct{ URL string }
	err := c.call(&v, "presign", key)
	return v.URL, err
}

// ---- the AWS CLI ----

type awsCLI struct {
	*tool
	endpoint, bucket string
}

func newAWSCLI(t *testing.T, e *harness.Env, style, proxy string) *awsCLI {
	endpoint, via := endpoints(e, style, proxy)
	cfg := filepath.Join(t.TempDir(), "config")
	text := fmt.Sprintf("[default]\nregion = %s\ns3 =\n  addressing_style = %s\n  signature_version = s3v4\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n", harness.Region, style)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return &awsCLI{tool: newTool(t, via, "AWS_CONFIG_FILE="+cfg, "AWS_MAX_ATTEMPTS=1", "AWS_PAGER="), endpoint: endpoint, bucket: e.Bucket}
}

func (c *awsCLI) aws(args ...string) (string, error) {
	return c.run(append([]string{"aws", "--endpoint-url", c.endpoint}, args...)...)
}
func (c *awsCLI) uri(key string) string { return "s3://" + c.bucket + "/" + key }

func (c *awsCLI) Put(key, file string, _ bool) error {
	_, err := c.aws("s3", "cp", "--no-progress", file, c.uri(key))
	return err
}
func (c *awsCLI) Get(key, dest string) error {
	_, err := c.aws("s3", "cp", "--no-progress", c.uri(key), dest)
	return err
}
func (c *awsCLI) GetRange(key, dest string, first, last int64) error {
	_, err := c.aws("s3api", "get-object", "--bucket", c.bucket, "--key", key, "--range", fmt.Sprintf("bytes=%d-%d", first, last), dest)
	return err
}
func (c *awsCLI) Head(key string) (int64, error) {
	out, err := c.aws("s3api", "head-object", "--bucket", c.bucket, "--key", key, "--output", "json")
	if err != nil {
		return 0, err
	}
	var v struct{ ContentLength int64 }
	return v.ContentLength, json.Unmarshal([]byte(out), &v)
}
func (c *awsCLI) List(prefix string) ([]string, error) {
	out, err := c.aws("s3api", "list-objects-v2", "--bucket", c.bucket, "--prefix", prefix, "--output", "json")
	if err != nil {
		return nil, err
	}
	var v struct{ Contents []struct{ Key string } }
	var keys []string
	err = json.Unmarshal([]byte(out), &v)
	for _, o := range v.Contents {
		keys = append(keys, o.Key)
	}
	return keys, err
}
func (c *awsCLI) Delete(key string) error {
	_, err := c.aws("s3", "rm", c.uri(key))
	return err
}
func (c *awsCLI) Presign(key string) (string, error) {
	return c.aws("s3", "presign", c.uri(key), "--expires-in", "600")
}

// ---- s3cmd ----

type s3cmdCLI struct {
	*tool
	cfg, bucket string
}

func newS3cmd(t *testing.T, e *harness.Env, style, proxy string) *s3cmdCLI {
	host, bucketHost, proxyHost, proxyPort := e.Front, e.Front, "", "0"
	if style == "virtual" {
		_, port, _ := net.SplitHostPort(e.Front)
		host = harness.VirtualDomain + ":" + port
		bucketHost = "%(bucket)s." + host
		proxyHost, proxyPort, _ = net.SplitHostPort(proxy)
	}
	cfg := filepath.Join(t.TempDir(), "s3cfg")
	text := fmt.Sprintf(`[default]
access_key = %s
secret_key = %s
host_base = %s
host_bucket = %s
bucket_location = %s
use_https = False
signature_v2 = False
enable_multipart = True
multipart_chunk_size_mb = 5
proxy_host = %s
proxy_port = %s
progress_meter = False
`, harness.AccessKey, harness.SecretKey, host, bucketHost, harness.Region, proxyHost, proxyPort)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return &s3cmdCLI{tool: newTool(t, ""), cfg: cfg, bucket: e.Bucket}
}

func (c *s3cmdCLI) s3cmd(args ...string) (string, error) {
	return c.run(append([]string{"s3cmd", "-c", c.cfg, "--no-check-md5"}, args...)...)
}
func (c *s3cmdCLI) uri(key string) string { return "s3://" + c.bucket + "/" + key }

func (c *s3cmdCLI) Put(key, file string, _ bool) error {
	_, err := c.s3cmd("put", file, c.uri(key))
	return err
}
func (c *s3cmdCLI) Get(key, dest string) error {
	_, err := c.s3cmd("get", "--force", c.uri(key), dest)
	return err
}

// GetRange: s3cmd has no range option, but `get --continue` resumes a
// partial file with Range: bytes=N-. Only ranges to the end are possible.
func (c *s3cmdCLI) GetRange(key, dest string, first, last int64) error {
	size, err := c.Head(key)
	if err != nil {
		return err
	}
	if last != size-1 || first == 0 {
		return errUnsupported("a range that does not run to the end (s3cmd only resumes downloads)")
	}
	part := dest + ".part"
	if err := os.WriteFile(part, make([]byte, first), 0o644); err != nil {
		return err
	}
	if _, err := c.s3cmd("get", "--continue", c.uri(key), part); err != nil {
		return err
	}
	b, err := os.ReadFile(part)
	if err != nil {
		return err
	}
	if int64(len(b)) < first {
		return fmt.Errorf("s3cmd get --continue left %d bytes", len(b))
	}
	return os.WriteFile(dest, b[first:], 0o644)
}
func (c *s3cmdCLI) Head(key string) (int64, error) {
	out, err := c.s3cmd("info", c.uri(key))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "File size:"); ok {
			var n int64
			_, err := fmt.Sscan(strings.TrimSpace(v), &n)
			return n, err
		}
	}
	return 0, fmt.Errorf("s3cmd info: no File size in %q", out)
}
func (c *s3cmdCLI) List(prefix string) ([]string, error) {
	out, err := c.s3cmd("ls", "--recursive", c.uri(prefix))
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, line := range strings.Split(out, "\n") {
		if _, u, ok := strings.Cut(line, "s3://"+c.bucket+"/"); ok {
			keys = append(keys, u)
		}
	}
	return keys, nil
}
func (c *s3cmdCLI) Delete(key string) error {
	_, err := c.s3cmd("del", c.uri(key))
	return err
}
func (c *s3cmdCLI) Presign(key string) (string, error) {
	return c.s3cmd("signurl", c.uri(key), "+600")
}

// ---- rclone ----

type rcloneCLI struct {
	*tool
	bucket string
}

func newRclone(t *testing.T, e *harness.Env, style, proxy string) *rcloneCLI {
	endpoint, via := endpoints(e, style, proxy)
	conf := filepath.Join(t.TempDir(), "rclone.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return &rcloneCLI{bucket: e.Bucket, tool: newTool(t, via,
		"RCLONE_CONFIG="+conf,
		"RCLONE_S3_PROVIDER=Other", "RCLONE_S3_ENV_AUTH=false",
		"RCLONE_S3_ACCESS_KEY_ID="+harness.AccessKey, "RCLONE_S3_SECRET_ACCESS_KEY="+harness.SecretKey,
		"RCLONE_S3_REGION="+harness.Region, "RCLONE_S3_ENDPOINT="+endpoint,
		"RCLONE_S3_FORCE_PATH_STYLE="+fmt.Sprint(style == "path"),
		"RCLONE_S3_UPLOAD_CUTOFF=5M", "RCLONE_S3_CHUNK_SIZE=5M", "RCLONE_S3_NO_CHECK_BUCKET=true",
		"RCLONE_RETRIES=1", "RCLONE_LOW_LEVEL_RETRIES=1")}
}

func (c *rcloneCLI) rclone(args ...string) (string, error) {
	return c.run(append([]string{"rclone"}, args...)...)
}
func (c *rcloneCLI) remote(key string) string { return ":s3:" + c.bucket + "/" + key }

func (c *rcloneCLI) Put(key, file string, _ bool) error {
	_, err := c.rclone("copyto", file, c.remote(key))
	return err
}
func (c *rcloneCLI) Get(key, dest string) error {
	_ = os.Remove(dest) // else rclone skips a file it deems identical
	_, err := c.rclone("copyto", c.remote(key), dest)
	return err
}
func (c *rcloneCLI) GetRange(key, dest string, first, last int64) error {
	out, err := c.rclone("cat", "--offset", fmt.Sprint(first), "--count", fmt.Sprint(last-first+1), c.remote(key))
	if err != nil {
		return err
	}
	return os.WriteFile(dest, []byte(out), 0o644)
}
func (c *rcloneCLI) Head(key string) (int64, error) {
	out, err := c.rclone("lsjson", "--stat", c.remote(key))
	if err != nil {
		return 0, err
	}
	var v struct {
		Size  int64
		IsDir bool
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return 0, err
	}
	if v.IsDir { // what rclone says of a key that is not there
		return 0, fmt.Errorf("rclone lsjson --stat: %s is not an object", key)
	}
	return v.Size, nil
}
func (c *rcloneCLI) List(prefix string) ([]string, error) {
	out, err := c.rclone("lsf", "--recursive", "--files-only", c.remote(prefix))
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, name := range strings.Split(strings.TrimSpace(out), "\n") {
		if name != "" {
			keys = append(keys, prefix+name)
		}
	}
	return keys, nil
}
func (c *rcloneCLI) Delete(key string) error {
	_, err := c.rclone("deletefile", c.remote(key))
	return err
}
func (c *rcloneCLI) Presign(key string) (string, error) {
	return c.rclone("link", "--expire", "10m", c.remote(key))
}

// ---- aws-sdk-go-v2 (in process) ----

type goSDK struct {
	e *harness.Env
	c *s3.Client
}

func (g *goSDK) ctx() context.Context { return g.e.Ctx() }

func (g *goSDK) Put(key, file string, multipart bool) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, _ := f.Stat()
	b := aws.String(g.e.Bucket)
	if !multipart {
		_, err := g.c.PutObject(g.ctx(), &s3.PutObjectInput{Bucket: b, Key: aws.String(key), Body: f, ContentLength: aws.Int64(st.Size())})
		return err
	}
	up, err := g.c.CreateMultipartUpload(g.ctx(), &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String(key)})
	if err != nil {
		return err
	}
	var parts []types.CompletedPart
	const partSize = 5 * MiB
	for n, off := int32(1), int64(0); off < st.Size(); n, off = n+1, off+partSize {
		size := min(partSize, st.Size()-off)
		out, err := g.c.UploadPart(g.ctx(), &s3.UploadPartInput{Bucket: b, Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: io.NewSectionReader(f, off, size), ContentLength: aws.Int64(size)})
		if err != nil {
			return fmt.Errorf("part %d: %w", n, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
	}
	_, err = g.c.CompleteMultipartUpload(g.ctx(), &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	return err
}

func (g *goSDK) getTo(in *s3.GetObjectInput, dest string) error {
	in.Bucket = aws.String(g.e.Bucket)
	out, err := g.c.GetObject(g.ctx(), in)
	if err != nil {
		return err
	}
	defer out.Body.Close()
	f, err := os.Create(dest)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, out.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
func (g *goSDK) Get(key, dest string) error {
	return g.getTo(&s3.GetObjectInput{Key: aws.String(key)}, dest)
}
func (g *goSDK) GetRange(key, dest string, first, last int64) error {
	return g.getTo(&s3.GetObjectInput{Key: aws.String(key), Range: aws.String(fmt.Sprintf("bytes=%d-%d", first, last))}, dest)
}
func (g *goSDK) Head(key string) (int64, error) {
	out, err := g.c.HeadObject(g.ctx(), &s3.HeadObjectInput{Bucket: aws.String(g.e.Bucket), Key: aws.String(key)})
	if err != nil {
		return 0, err
	}
	return aws.ToInt64(out.ContentLength), nil
}
func (g *goSDK) List(prefix string) ([]string, error) {
	out, err := g.c.ListObjectsV2(g.ctx(), &s3.ListObjectsV2Input{Bucket: aws.String(g.e.Bucket), Prefix: aws.String(prefix)})
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys, nil
}
func (g *goSDK) Delete(key string) error {
	_, err := g.c.DeleteObject(g.ctx(), &s3.DeleteObjectInput{Bucket: aws.String(g.e.Bucket), Key: aws.String(key)})
	return err
}
func (g *goSDK) Presign(key string) (string, error) {
	ps, err := s3.NewPresignClient(g.c).PresignGetObject(g.ctx(), &s3.GetObjectInput{Bucket: aws.String(g.e.Bucket), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	return ps.URL, nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Credentials of the origin's root user, and the region everyone signs for.
const (
	accessKey = "AKIABENCHS3CACHE"
	secretKey = "s3cache-bench-secret"
	region    = "us-east-1"
	bucket    = "bench"
)

// newHTTPClient returns a client that talks to exactly what it is told: no
// proxy from the environment, no transparent gzip, no redirects, and enough
// idle connections for the widest scenario.
func newHTTPClient() *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		DisableCompression:  true,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     30 * time.Second,
		ReadBufferSize:      64 << 10,
		WriteBufferSize:     64 << 10,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// newS3Client builds an SDK client with s3.New (the machine sets
// AWS_CA_BUNDLE, which makes config.LoadDefaultConfig refuse a custom
// HTTPClient).
func newS3Client(endpointURL string, hc *http.Client) *s3.Client {
	return s3.New(s3.Options{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		BaseEndpoint: aws.String(endpointURL),
		UsePathStyle: true,
		HTTPClient:   hc,
	})
}

// endpoint is one address clients send S3 requests to: the origin through
// the link (direct), s3cache or nginx. Every contender is driven the same
// way, with presigned URLs and plain net/http, so client overhead is equal.
type endpoint struct {
	name    string
	addr    string // 127.0.0.1:port
	http    *http.Client
	presign *s3.PresignClient
}

func newEndpoint(name, addr string) *endpoint {
	hc := newHTTPClient()
	return &endpoint{name: name, addr: addr, http: hc, presign: s3.NewPresignClient(newS3Client("http://"+addr, hc))}
}

// presignedURL signs method on key for this endpoint's host.
func (e *endpoint) presignedURL(ctx context.Context, method, key string) (string, error) {
	expiry := func(o *s3.PresignOptions) { o.Expires = 6 * time.Hour }
	var url string
	switch method {
	case http.MethodGet:
		r, err := e.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, expiry)
		if err != nil {
			return "", fmt.Errorf("presign GET %s: %w", key, err)
		}
		url = r.URL
	case http.MethodPut:
		r, err := e.presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, expiry)
		if err != nil {
			return "", fmt.Errorf("presign PUT %s: %w", key, err)
		}
		url = r.URL
	case http.MethodDelete:
		r, err := e.presign.PresignDeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, expiry)
		if err != nil {
			return "", fmt.Errorf("presign DELETE %s: %w", key, err)
		}
		url = r.URL
	default:
		return "", fmt.Errorf("presign: unsupported method %s", method)
	}
	return url, nil
}

// fetchResult is one timed GET.
type fetchResult struct {
	bytes  int64
	ttfb   time.Duration
	total  time.Duration
	xcache string // s3cache's X-Cache, or nginx's X-Cache-Status
}

// get fetches url, reads the body to the end and checks its length.
func (e *endpoint) get(ctx context.Context, url string, want int64, buf []byte) (fetchResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fetchResult{}, fmt.Errorf("get: %w", err)
	}
	start := time.Now()
	resp, err := e.http.Do(req)
	if err != nil {
		return fetchResult{}, fmt.Errorf("get via %s: %w", e.name, err)
	}
	defer resp.Body.Close()
	ttfb := time.Since(start)
	n, err := io.CopyBuffer(io.Discard, resp.Body, buf)
	total := time.Since(start)
	if err != nil {
		return fetchResult{}, fmt.Errorf("get via %s: body after %d bytes: %w", e.name, n, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fetchResult{}, fmt.Errorf("get via %s: status %d", e.name, resp.StatusCode)
	}
	if n != want {
		return fetchResult{}, fmt.Errorf("get via %s: %d bytes, want %d", e.name, n, want)
	}
	xc := resp.Header.Get("X-Cache")
	if xc == "" {
		xc = resp.Header.Get("X-Cache-Status")
	}
	return fetchResult{bytes: n, ttfb: ttfb, total: total, xcache: xc}, nil
}

// put uploads size bytes from body to url.
func (e *endpoint) put(ctx context.Context, url string, body io.Reader, size int64) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, body)
	if err != nil {
		return 0, fmt.Errorf("put: %w", err)
	}
	req.ContentLength = size
	req.Header.Set("Content-Length", strconv.FormatInt(size, 10))
	start := time.Now()
	resp, err := e.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("put via %s: %w", e.name, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("put via %s: status %d", e.name, resp.StatusCode)
	}
	return d, nil
}

// remove deletes key through this endpoint (a 204 or 404 is fine).
func (e *endpoint) remove(ctx context.Context, key string) error {
	url, err := e.presignedURL(ctx, http.MethodDelete, key)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, url, nil)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return fmt.Errorf("delete %s via %s: %w", key, e.name, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("delete %s via %s: status %d", key, e.name, resp.StatusCode)
	}
	return nil
}

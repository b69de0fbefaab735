package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// origin is the local S3 server (versitygw, started by scripts/s3server.sh)
// and an SDK client that reaches it directly, behind every contender's back,
// for setting up objects.
type origin struct {
	addr  string
	proc  *proc
	admin *s3.Client
	put   *endpoint // presigned PUTs straight to the origin, for uploads
}

// installOrigin makes sure versitygw is installed (idempotent; minutes the
// first time on a new machine).
func installOrigin(ctx context.Context, root string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "s3server.sh"), "install")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scripts/s3server.sh install: %w", err)
	}
	return nil
}

// startOrigin runs versitygw on a free port with its state in dir and
// creates the bench bucket.
func startOrigin(ctx context.Context, ps *procs, root, dir string) (*origin, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p, err := ps.start("versitygw", []string{filepath.Join(root, "scripts", "s3server.sh"), "run", "--http", fmt.Sprint(port), "--dir", dir},
		[]string{"S3SERVER_ACCESS_KEY=" + accessKey, "S3SERVER_SECRET_KEY=" + secretKey}, root)
	if err != nil {
		return nil, err
	}
	o := &origin{addr: fmt.Sprintf("127.0.0.1:%d", port), proc: p}
	hc := newHTTPClient()
	if err := waitUntil(ctx, p, 30*time.Second, httpOK(hc, "http://"+o.addr+"/health")); err != nil {
		return nil, err
	}
	o.admin = newS3Client("http://"+o.addr, hc)
	o.put = newEndpoint("origin", o.addr)
	if _, err := o.admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		var owned *types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			return nil, fmt.Errorf("create bucket: %w", err)
		}
	}
	return o, nil
}

// upload stores size bytes of material under key.
func (o *origin) upload(ctx context.Context, material randomBlock, key string, start, size int64) error {
	url, err := o.put.presignedURL(ctx, http.MethodPut, key)
	if err != nil {
		return err
	}
	if _, err := o.put.put(ctx, url, material.reader(start, size), size); err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	return nil
}

// copyObject makes dst a server-side copy of src: a fresh key nobody has
// cached, without sending the bytes again.
func (o *origin) copyObject(ctx context.Context, src, dst string) error {
	_, err := o.admin.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String(dst), CopySource: aws.String(bucket + "/" + src)})
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return nil
}

// httpOK returns a readiness check: GET url answers 200.
func httpOK(hc *http.Client, url string) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
		}
		return nil
	}
}

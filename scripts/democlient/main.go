// Command democlient is the S3 client behind `make demo` (no AWS CLI needed).
//
//	democlient put -origin URL -bucket B -key K -text T   create the bucket (if needed) and the object, straight at the origin
//	democlient presign -proxy URL -bucket B -key K        print a presigned GET URL that points at the proxy
//	democlient get URL                                    GET a URL and print the status line and the main headers (for machines without curl)
//
// Credentials come from S3SERVER_ACCESS_KEY / S3SERVER_SECRET_KEY, with the
// same defaults as scripts/s3server.sh.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3cache/s3cache/e2e/harness"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	origin := fs.String("origin", "http://127.0.0.1:7070", "S3 server URL")
	proxy := fs.String("proxy", "http://127.0.0.1:18080", "s3cache listener URL")
	bucket := fs.String("bucket", "demo", "bucket")
	key := fs.String("key", "hello.txt", "object key")
	text := fs.String("text", "Hello from s3cache!\n", "object body")
	_ = fs.Parse(os.Args[2:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var err error
	switch os.Args[1] {
	case "put":
		err = put(ctx, client(*origin), *bucket, *key, *text)
	case "presign":
		var u string
		if u, err = presign(ctx, client(*proxy), *bucket, *key); err == nil {
			fmt.Println(u)
		}
	case "get":
		if fs.NArg() != 1 {
			usage()
		}
		err = get(fs.Arg(0))
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "democlient:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: democlient put|presign [-origin URL] [-proxy URL] [-bucket B] [-key K] [-text T] | democlient get URL")
	os.Exit(2)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func client(endpoint string) *s3.Client {
	return harness.NewClient(harness.ClientConfig{
		Endpoint:  endpoint,
		AccessKey: env("S3SERVER_ACCESS_KEY", "s3cacheadmin"),
		SecretKey: env("S3SERVER_SECRET_KEY", "s3cachesecret"),
		PathStyle: true,
	})
}

func put(ctx context.Context, c *s3.Client, bucket, key, text string) error {
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader(text), ContentType: aws.String("text/plain; charset=utf-8")})
	if err != nil {
		return fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	fmt.Fprintf(os.Stderr, "democlient: put s3://%s/%s (%d bytes) straight to the origin\n", bucket, key, len(text))
	return nil
}

func presign(ctx context.Context, c *s3.Client, bucket, key string) (string, error) {
	req, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		s3.WithPresignExpires(time.Hour))
	if err != nil {
		return "", err
	}
	return req.URL, nil
}

func get(url string) error {
	resp, err := harness.NewHTTPClient("", nil).Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	fmt.Printf("%s %s\n", resp.Proto, resp.Status)
	for _, h := range []string{"X-Cache", "Content-Type", "Content-Length", "ETag", "Last-Modified"} {
		if v := resp.Header.Get(h); v != "" {
			fmt.Printf("%s: %s\n", h, v)
		}
	}
	fmt.Printf("(%d body bytes)\n", n)
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// warmOptions are the flags of `s3cache warm`.
type warmOptions struct {
	bucket, prefix string
	endpoint       string
	region         string
	profile        string
	concurrency    int
	pathStyle      bool
	progressEvery  time.Duration
}

// cmdWarm runs `s3cache warm s3://bucket/prefix --endpoint URL`: it lists
// the prefix and GETs every object through s3cache, signed with the user's
// own AWS credentials (the SDK's default chain), so the cache holds them.
func cmdWarm(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o warmOptions
	fs := newFlagSet("s3cache warm", stderr, "s3cache warm s3://bucket[/prefix] --endpoint http://s3cache:80 [--concurrency N]")
	fs.StringVar(&o.endpoint, "endpoint", "", "s3cache's caching listener, e.g. http://s3cache:80 (required)")
	fs.StringVar(&o.region, "region", "", "AWS region to sign for (default: from the AWS config, else us-east-1)")
	fs.StringVar(&o.profile, "profile", "", "AWS shared-config profile (default: AWS_PROFILE or default)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "objects fetched at once")
	fs.BoolVar(&o.pathStyle, "path-style", true, "path-style requests (http://endpoint/bucket/key); false for virtual-hosted")
	fs.DurationVar(&o.progressEvery, "progress-every", 0, "progress update interval (default: 200ms on a terminal, 5s otherwise)")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return exitCodeForFlags(err)
	}
	if len(positional) != 1 || o.endpoint == "" || o.concurrency < 1 {
		fs.Usage()
		return 2
	}
	target, err := url.Parse(positional[0])
	if err != nil || target.Scheme != "s3" || target.Host == "" {
		fmt.Fprintf(stderr, "s3cache warm: %q: want s3://bucket[/prefix]\n", positional[0])
		return 2
	}
	o.bucket, o.prefix = target.Host, strings.TrimPrefix(target.Path, "/")
	client, err := newWarmClient(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "s3cache warm:", err)
		return 1
	}
	progress := newWarmProgress(stderr, o.progressEvery)
	sum := warm(ctx, client, o, progress)
	progress.finish()
	sum.print(stdout)
	if sum.failed > 0 || sum.listErr != nil || ctx.Err() != nil {
		return 1
	}
	return 0
}

// newWarmClient builds an S3 client that signs with the user's credentials
// and sends every request to s3cache.
func newWarmClient(ctx context.Context, o warmOptions) (*s3.Client, error) {
	opts := []func(*awsconfig.LoadOptions) error{
		// A BuildableClient keeps AWS_CA_BUNDLE working, unlike a custom client.
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = o.concurrency
		})),
	}
	if o.region != "" {
		opts = append(opts, awsconfig.WithRegion(o.region))
	}
	if o.profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(o.profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.BaseEndpoint = aws.String(o.endpoint)
		so.UsePathStyle = o.pathStyle
		// s3cache relays S3's checksum headers only when S3 sent them; the
		// SDK's note about each response without one is noise here.
		so.DisableLogOutputChecksumValidationSkipped = true
	}), nil
}

// warmObject is one object to fetch.
type warmObject struct {
	key  string
	size int64
}

// warmSummary counts what warm did.
type warmSummary struct {
	mu        sync.Mutex
	listed    int64
	listBytes int64
	listDone  bool
	listErr   error
	done      int64
	bytes     int64
	failed    int64
	outcomes  map[string]int64 // by X-Cache
	errors    []string         // the first few failures
	started   time.Time
}

func (s *warmSummary) record(obj warmObject, n int64, outcome string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done++
	s.bytes += n
	if err != nil {
		s.failed++
		if len(s.errors) < 5 {
			s.errors = append(s.errors, obj.key+": "+err.Error())
		}
		return
	}
	if outcome == "" {
		outcome = "(no X-Cache: is --endpoint s3cache?)"
	}
	s.outcomes[outcome]++
}

// warm lists the prefix and fetches every object with o.concurrency workers.
func warm(ctx context.Context, client *s3.Client, o warmOptions, progress *warmProgress) *warmSummary {
	sum := &warmSummary{outcomes: map[string]int64{}, started: time.Now()}
	progress.start(sum)
	objects := make(chan warmObject, 4*o.concurrency)
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for obj := range objects {
				n, outcome, err := fetchThrough(ctx, client, o.bucket, obj.key)
				sum.record(obj, n, outcome, err)
			}
		}()
	}
	err := listObjects(ctx, client, o, func(obj warmObject) bool {
		sum.mu.Lock()
		sum.listed++
		sum.listBytes += obj.size
		sum.mu.Unlock()
		select {
		case objects <- obj:
			return true
		case <-ctx.Done():
			return false
		}
	})
	sum.mu.Lock()
	sum.listDone, sum.listErr = true, err
	sum.mu.Unlock()
	close(objects)
	wg.Wait()
	return sum
}

// listObjects calls each with every object under the prefix, through s3cache.
func listObjects(ctx context.Context, client *s3.Client, o warmOptions, each func(warmObject) bool) error {
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(o.bucket), Prefix: aws.String(o.prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", o.bucket, o.prefix, err)
		}
		for _, obj := range page.Contents {
			if !each(warmObject{key: aws.ToString(obj.Key), size: aws.ToInt64(obj.Size)}) {
				return ctx.Err()
			}
		}
	}
	return nil
}

// fetchThrough GETs one object and reads it to the end, so s3cache caches
// it whole, and reports s3cache's X-Cache answer.
func fetchThrough(ctx context.Context, client *s3.Client, bucket, key string) (int64, string, error) {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return 0, "", err
	}
	defer out.Body.Close()
	n, err := io.Copy(io.Discard, out.Body)
	if err != nil {
		return n, "", fmt.Errorf("read body: %w", err)
	}
	outcome := ""
	if raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response); ok {
		outcome = raw.Header.Get("X-Cache")
	}
	return n, outcome, nil
}

func (s *warmSummary) print(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	elapsed := time.Since(s.started)
	rate := float64(s.bytes) / max(elapsed.Seconds(), 0.001)
	fmt.Fprintf(w, "warmed %d of %d objects, %s in %s (%s/s)\n", s.done-s.failed, s.listed,
		humanBytes(s.bytes), elapsed.Round(time.Millisecond), humanBytes(int64(rate)))
	for _, k := range sortedKeys(s.outcomes) {
		fmt.Fprintf(w, "  X-Cache %-12s %d\n", k, s.outcomes[k])
	}
	if s.failed > 0 {
		fmt.Fprintf(w, "  failed %d:\n", s.failed)
		for _, e := range s.errors {
			fmt.Fprintln(w, "    "+e)
		}
	}
	if s.listErr != nil && !errors.Is(s.listErr, context.Canceled) {
		fmt.Fprintln(w, "  listing stopped:", s.listErr)
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

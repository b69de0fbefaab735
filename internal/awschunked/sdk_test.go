package awschunked

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"hash/crc64"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// capturedRequest is what an aws-sdk-go-v2 client sent to the test server.
type capturedRequest struct {
	header http.Header
	body   []byte
}

// captureServer answers every request with 200 and an ETag and keeps the
// raw request (headers and body as sent, nothing decoded but HTTP framing).
type captureServer struct {
	mu       sync.Mutex
	requests []capturedRequest
}

func (c *captureServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.requests = append(c.requests, capturedRequest{header: r.Header.Clone(), body: body})
	c.mu.Unlock()
	w.Header().Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
	w.WriteHeader(http.StatusOK)
}

func (c *captureServer) last(t *testing.T) capturedRequest {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.requests) == 0 {
		t.Fatal("the SDK sent nothing")
	}
	return c.requests[len(c.requests)-1]
}

// startCapture starts the server on 127.0.0.1 (over TLS or not) and returns
// an S3 client for it built as DESIGN.md says (never LoadDefaultConfig).
func startCapture(t *testing.T, useTLS bool, optFns ...func(*s3.Options)) (*captureServer, *s3.Client) {
	t.Helper()
	capture := &captureServer{}
	var srv *httptest.Server
	if useTLS {
		srv = httptest.NewTLSServer(capture)
	} else {
		srv = httptest.NewServer(capture)
	}
	t.Cleanup(srv.Close)
	httpClient := srv.Client()
	t.Cleanup(httpClient.CloseIdleConnections)
	opts := s3.Options{
		// What config.LoadDefaultConfig resolves when nothing overrides it;
		// the zero value of s3.Options means no checksum unless required.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		Region:                     "us-east-1",
		BaseEndpoint:               aws.String(srv.URL),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:                 httpClient,
		Retryer:                    aws.NopRetryer{},
	}
	for _, fn := range optFns {
		fn(&opts)
	}
	return capture, s3.New(opts)
}

func randomPayload(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// putRandom has the client PUT size random bytes and returns them with
// what the server received.
func putRandom(t *testing.T, capture *captureServer, client *s3.Client, size int, optFns ...func(*s3.PutObjectInput)) ([]byte, capturedRequest) {
	t.Helper()
	payload := randomPayload(t, size)
	in := &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("key"), Body: bytes.NewReader(payload)}
	for _, fn := range optFns {
		fn(in)
	}
	if _, err := client.PutObject(context.Background(), in); err != nil {
		t.Fatalf("PutObject of %d bytes: %v", size, err)
	}
	return payload, capture.last(t)
}

// checkDecodes decodes a captured aws-chunked body and compares it with
// the payload and the request's x-amz-decoded-content-length.
func checkDecodes(t *testing.T, req capturedRequest, payload []byte) *decoder {
	t.Helper()
	if !Detect(req.header) {
		t.Fatalf("not detected as aws-chunked: %v", req.header)
	}
	got, d, err := decodeWays(t, req.body)
	if err != nil {
		t.Fatalf("decode %d-byte body: %v", len(req.body), err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("decoded %d bytes that differ from the %d-byte payload", len(got), len(payload))
	}
	want, err := DecodedContentLength(req.header)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(want); err != nil {
		t.Fatal(err)
	}
	return d
}

// Over HTTPS with default checksum settings (WhenSupported) the SDK sends
// STREAMING-UNSIGNED-PAYLOAD-TRAILER: unsigned 64 KiB chunks and an
// x-amz-checksum-crc32 trailer.
func TestSDKPutObjectOverTLSDefaults(t *testing.T) {
	capture, client := startCapture(t, true)
	for _, size := range []int{1, 65535, 65536, 65537, 300_007} {
		payload, req := putRandom(t, capture, client, size)
		if got := req.header.Get("X-Amz-Content-Sha256"); got != StreamingUnsignedTrailer {
			t.Fatalf("x-amz-content-sha256 %q", got)
		}
		if got := req.header.Get("X-Amz-Trailer"); got != "x-amz-checksum-crc32" {
			t.Fatalf("x-amz-trailer %q", got)
		}
		if got := ObjectContentEncoding(req.header); got != "" {
			t.Fatalf("stored Content-Encoding would be %q", got)
		}
		d := checkDecodes(t, req, payload)
		if got := d.Trailers().Get("X-Amz-Checksum-Crc32"); got != crc32Base64(payload) {
			t.Fatalf("crc32 trailer %q, want %q", got, crc32Base64(payload))
		}
	}
}

// An empty body is never aws-chunked: the SDK puts the checksum in a header.
func TestSDKPutEmptyObjectOverTLS(t *testing.T) {
	capture, client := startCapture(t, true)
	_, err := client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("bucket"), Key: aws.String("empty"), Body: bytes.NewReader(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	req := capture.last(t)
	if Detect(req.header) || len(req.body) != 0 {
		t.Fatalf("empty PUT: headers %v, %d body bytes", req.header, len(req.body))
	}
}

func TestSDKPutObjectOverTLSWithCRC64NVME(t *testing.T) {
	capture, client := startCapture(t, true)
	payload, req := putRandom(t, capture, client, 200_000, func(in *s3.PutObjectInput) {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc64nvme
	})
	d := checkDecodes(t, req, payload)
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], crc64.Checksum(payload, crc64.MakeTable(0x9a6c9329ac4bc9b5)))
	if got, want := d.Trailers().Get("X-Amz-Checksum-Crc64nvme"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Fatalf("crc64nvme trailer %q, want %q", got, want)
	}
}

func TestSDKUploadPartOverTLS(t *testing.T) {
	capture, client := startCapture(t, true)
	payload := randomPayload(t, 100_000)
	_, err := client.UploadPart(context.Background(), &s3.UploadPartInput{
		Bucket: aws.String("bucket"), Key: aws.String("key"), UploadId: aws.String("upload-1"),
		PartNumber: aws.Int32(3), Body: bytes.NewReader(payload),
	})
	if err != nil {
		t.Fatal(err)
	}
	checkDecodes(t, capture.last(t), payload)
}

// With checksums only when required, or with s3.Options' zero value
// (Unset, which s3.New leaves as is), PutObject over HTTPS is a plain
// UNSIGNED-PAYLOAD body: nothing to decode.
func TestSDKPutObjectOverTLSWithoutDefaultChecksum(t *testing.T) {
	for _, calc := range []aws.RequestChecksumCalculation{aws.RequestChecksumCalculationWhenRequired, aws.RequestChecksumCalculationUnset} {
		capture, client := startCapture(t, true, func(o *s3.Options) { o.RequestChecksumCalculation = calc })
		payload, req := putRandom(t, capture, client, 70_000)
		if Detect(req.header) || !bytes.Equal(req.body, payload) || req.header.Get("X-Amz-Content-Sha256") != "UNSIGNED-PAYLOAD" {
			t.Fatalf("calculation %v: expected a plain body: x-amz-content-sha256 %q, %d bytes",
				calc, req.header.Get("X-Amz-Content-Sha256"), len(req.body))
		}
	}
}

// Over plain HTTP, which is how clients reach s3cache's caching listener,
// aws-sdk-go-v2 never uses aws-chunked: trailing checksums need TLS, so it
// sends the body as is, signed with its SHA-256, and the CRC32 in a header.
func TestSDKPutObjectOverPlainHTTPIsNotChunked(t *testing.T) {
	for _, calc := range []aws.RequestChecksumCalculation{aws.RequestChecksumCalculationWhenSupported, aws.RequestChecksumCalculationWhenRequired, aws.RequestChecksumCalculationUnset} {
		capture, client := startCapture(t, false, func(o *s3.Options) { o.RequestChecksumCalculation = calc })
		payload, req := putRandom(t, capture, client, 70_000)
		if Detect(req.header) || !bytes.Equal(req.body, payload) {
			t.Fatalf("calculation %v: x-amz-content-sha256 %q, content-encoding %q, %d bytes",
				calc, req.header.Get("X-Amz-Content-Sha256"), req.header.Get("Content-Encoding"), len(req.body))
		}
		if calc == aws.RequestChecksumCalculationWhenSupported && req.header.Get("X-Amz-Checksum-Crc32") != crc32Base64(payload) {
			t.Fatalf("crc32 header %q", req.header.Get("X-Amz-Checksum-Crc32"))
		}
	}
}

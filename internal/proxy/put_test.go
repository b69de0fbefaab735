package proxy

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

func chunkedRequest(body, decodedLength string) *http.Request {
	r, _ := http.NewRequest(http.MethodPut, "http://127.0.0.1/b/k", strings.NewReader(body))
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	r.Header.Set("X-Amz-Decoded-Content-Length", decodedLength)
	r.ContentLength = int64(len(body))
	return r
}

// The cache gets the decoded bytes of an aws-chunked upload; S3 gets the
// body untouched.
func TestUploadSinkDecodesAWSChunked(t *testing.T) {
	body := "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
	r := chunkedRequest(body, "11")
	var cached bytes.Buffer
	sink := newUploadSink(&cached, r.Header)
	forwarded, _ := io.ReadAll(io.TeeReader(r.Body, sink))
	if string(forwarded) != body {
		t.Fatal("the body forwarded to S3 was changed")
	}
	if err := sink.complete(r); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if cached.String() != "hello world" {
		t.Fatalf("cached %q, want the decoded bytes", cached.String())
	}
	resp := &http.Response{Header: http.Header{"Etag": {`"5eb63bbbe01eeed093cb22bb8f5acdc3"`}}}
	if !sink.etagConfirms(resp) {
		t.Error("the MD5 ETag of the decoded bytes was not recognised")
	}
	resp.Header.Set("ETag", `"00000000000000000000000000000000"`)
	if sink.etagConfirms(resp) {
		t.Error("a wrong MD5 ETag was accepted")
	}
}

// A decoded length that disagrees with the header means nothing is cached.
func TestUploadSinkRejectsLengthMismatch(t *testing.T) {
	r := chunkedRequest("5\r\nhello\r\n0\r\n\r\n", "6")
	sink := newUploadSink(io.Discard, r.Header)
	io.Copy(io.Discard, io.TeeReader(r.Body, sink))
	if err := sink.complete(r); err == nil {
		t.Fatal("length mismatch accepted")
	}
	// A truncated chunked body too.
	r = chunkedRequest("5\r\nhel", "5")
	sink = newUploadSink(io.Discard, r.Header)
	io.Copy(io.Discard, io.TeeReader(r.Body, sink))
	if err := sink.complete(r); err == nil {
		t.Fatal("truncated body accepted")
	}
}

// A plain body shorter than its Content-Length is not cached.
func TestUploadSinkPlainBody(t *testing.T) {
	r, _ := http.NewRequest(http.MethodPut, "http://127.0.0.1/b/k", strings.NewReader("abc"))
	r.ContentLength = 4
	sink := newUploadSink(io.Discard, r.Header)
	io.Copy(io.Discard, io.TeeReader(r.Body, sink))
	if err := sink.complete(r); err == nil {
		t.Fatal("short body accepted")
	}
}

package awschunked

import (
	"errors"
	"net/http"
	"testing"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   bool
	}{
		{"content-encoding", http.Header{"Content-Encoding": {"aws-chunked"}}, true},
		{"content-encoding list", http.Header{"Content-Encoding": {"gzip, AWS-Chunked"}}, true},
		{"signed streaming", http.Header{"X-Amz-Content-Sha256": {StreamingSigned}}, true},
		{"unsigned trailer", http.Header{"X-Amz-Content-Sha256": {StreamingUnsignedTrailer}}, true},
		{"ecdsa trailer", http.Header{"X-Amz-Content-Sha256": {StreamingECDSASignedTrailer}}, true},
		{"unknown streaming kind", http.Header{"X-Amz-Content-Sha256": {"STREAMING-SOMETHING-NEW"}}, true},
		{"plain hash", http.Header{"X-Amz-Content-Sha256": {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}, false},
		{"unsigned payload", http.Header{"X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"}}, false},
		{"gzip only", http.Header{"Content-Encoding": {"gzip"}}, false},
		{"nothing", http.Header{}, false},
	}
	for _, tc := range tests {
		if got := Detect(tc.header); got != tc.want {
			t.Errorf("%s: Detect = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDecodedContentLength(t *testing.T) {
	if _, err := DecodedContentLength(http.Header{}); !errors.Is(err, ErrNoDecodedLength) {
		t.Fatalf("absent header: %v", err)
	}
	if n, err := DecodedContentLength(http.Header{"X-Amz-Decoded-Content-Length": {"66560"}}); err != nil || n != 66560 {
		t.Fatalf("got %d, %v", n, err)
	}
	for _, bad := range [][]string{{""}, {"-1"}, {"+5"}, {" 5"}, {"0x10"}, {"99999999999999999"}, {"1", "2"}} {
		if _, err := DecodedContentLength(http.Header{"X-Amz-Decoded-Content-Length": bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestObjectContentEncoding(t *testing.T) {
	tests := map[string]string{"aws-chunked": "", "aws-chunked,gzip": "gzip", "gzip, aws-chunked, br": "gzip,br", "": ""}
	for in, want := range tests {
		if got := ObjectContentEncoding(http.Header{"Content-Encoding": {in}}); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

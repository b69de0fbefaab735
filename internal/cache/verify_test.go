package cache

import (
	"io"
	"net/http"
	"testing"
)

// verify feeds body through the digests S3's headers h vouch for.
func verify(h http.Header, body string) error {
	sums := checksumsFor(h)
	io.WriteString(sums.writer(), body)
	return sums.check()
}

func TestDigests(t *testing.T) {
	good := http.Header{
		"Etag":                  {`"5eb63bbbe01eeed093cb22bb8f5acdc3"`},
		"X-Amz-Checksum-Crc32":  {"DUoRhQ=="},
		"X-Amz-Checksum-Sha256": {"uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="},
	}
	if err := verify(good, "hello world"); err != nil {
		t.Fatalf("good bytes refused: %v", err)
	}
	// CRC-64/NVME's catalogued check value (of "123456789"), as S3 writes it.
	if err := verify(http.Header{"X-Amz-Checksum-Crc64nvme": {"rosUhgp5mIg="}}, "123456789"); err != nil {
		t.Errorf("CRC64NVME check value refused: %v", err)
	}
	if err := verify(http.Header{"X-Amz-Checksum-Crc64nvme": {"rosUhgp5mIg="}}, "123456780"); err == nil {
		t.Error("CRC64NVME mismatch not found")
	}
	for _, h := range []http.Header{
		{"Etag": {`"00000000000000000000000000000000"`}},
		{"X-Amz-Checksum-Crc32": {"AAAAAA=="}},
	} {
		if err := verify(h, "hello world"); err == nil {
			t.Errorf("mismatch not found for %v", h)
		}
	}
	// Multipart ETags and SSE-KMS ETags are not MD5s: nothing to check.
	for _, h := range []http.Header{
		{"Etag": {`"5eb63bbbe01eeed093cb22bb8f5acdc3-2"`}},
		{"Etag": {`"00000000000000000000000000000000"`}, "X-Amz-Server-Side-Encryption": {"aws:kms"}},
	} {
		if n := len(checksumsFor(h)); n != 0 {
			t.Errorf("%v: %d checks, want none", h, n)
		}
	}
}

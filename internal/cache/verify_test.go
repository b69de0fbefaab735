package cache

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

func TestVerifyWhole(t *testing.T) {
	st, _ := store.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	w, _ := st.NewSegmentWriter(store.ObjectID{Bucket: "b", Key: "k"}, 0, time.Now())
	defer w.Close()
	io.WriteString(w, "hello world")
	good := http.Header{
		"Etag":                  {`"5eb63bbbe01eeed093cb22bb8f5acdc3"`},
		"X-Amz-Checksum-Crc32":  {"DUoRhQ=="},
		"X-Amz-Checksum-Sha256": {"uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="},
	}
	if err := verifyWhole(w, 11, checksumsFor(good)); err != nil {
		t.Fatalf("good bytes refused: %v", err)
	}
	for _, h := range []http.Header{
		{"Etag": {`"00000000000000000000000000000000"`}},
		{"X-Amz-Checksum-Crc32": {"AAAAAA=="}},
	} {
		if err := verifyWhole(w, 11, checksumsFor(h)); err == nil {
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

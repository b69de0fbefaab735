package mpu

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func newStager(t *testing.T) (*Stager, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

var testUpload = Upload{Endpoint: "http://127.0.0.1:9000", Bucket: "bucket", Key: "dir/object.bin",
	ID: "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"}

func begin(t *testing.T, s *Stager, up Upload) {
	t.Helper()
	if err := s.Begin(up, http.Header{"Content-Type": {"video/mp2t"}}); err != nil {
		t.Fatal(err)
	}
}

// stagePart writes data as part n and commits it under etag.
func stagePart(t *testing.T, s *Stager, up Upload, n int, data []byte, etag string) {
	t.Helper()
	if err := tryStagePart(s, up, n, data, etag); err != nil {
		t.Fatal(err)
	}
}

func tryStagePart(s *Stager, up Upload, n int, data []byte, etag string) error {
	w, err := s.Part(up, n)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Commit(etag)
}

func partData(n int) []byte { return bytes.Repeat([]byte{byte('a' + n)}, 1000+n) }

func partETag(n int) string { return fmt.Sprintf(`"%032x"`, n) }

// stageParts begins the upload and stages parts 1..count, returning the
// Complete request that lists them.
func stageParts(t *testing.T, s *Stager, up Upload, count int) CompleteRequest {
	t.Helper()
	begin(t, s, up)
	var req CompleteRequest
	for n := 1; n <= count; n++ {
		stagePart(t, s, up, n, partData(n), partETag(n))
		req.Parts = append(req.Parts, CompletedPart{Number: n, ETag: partETag(n)})
	}
	return req
}

// assembled reads the object an Assembly describes.
func assembled(t *testing.T, a *Assembly) []byte {
	t.Helper()
	var out bytes.Buffer
	for i, p := range a.Parts {
		if p.Offset != int64(out.Len()) {
			t.Fatalf("part %d at offset %d, want %d", i, p.Offset, out.Len())
		}
		f, err := p.Open()
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.CopyN(&out, f, p.Size)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !p.Checked {
			t.Errorf("part %d staged without block checksums", p.Number)
		}
	}
	if int64(out.Len()) != a.Size {
		t.Fatalf("assembled %d bytes, Size %d", out.Len(), a.Size)
	}
	return out.Bytes()
}

// partsData is the object made of the given parts.
func partsData(numbers ...int) []byte {
	var out []byte
	for _, n := range numbers {
		out = append(out, partData(n)...)
	}
	return out
}

// completeInto completes the upload and checks the assembly reads as want.
func completeInto(t *testing.T, s *Stager, req CompleteRequest, objectETag string, want []byte) *Assembly {
	t.Helper()
	a, err := s.Complete(testUpload, req, objectETag)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(assembled(t, a), want) {
		t.Fatal("assembled bytes differ from the parts")
	}
	return a
}

func TestCompleteAssemblesPartsInOrder(t *testing.T) {
	s, _ := newStager(t)
	req := stageParts(t, s, testUpload, 3)
	a := completeInto(t, s, req, `"c0ffee00c0ffee00c0ffee00c0ffee00-3"`, partsData(1, 2, 3))
	if a.Info.Header.Get("Content-Type") != "video/mp2t" || a.Info.Key != testUpload.Key {
		t.Fatalf("upload info %+v", a.Info)
	}
}

// S3 lets a Complete leave parts out; offsets follow the listed ones only.
func TestCompleteWithASubsetOfParts(t *testing.T) {
	s, _ := newStager(t)
	stageParts(t, s, testUpload, 4)
	req := CompleteRequest{Parts: []CompletedPart{{1, partETag(1)}, {3, partETag(3)}}}
	completeInto(t, s, req, `"abc-2"`, partsData(1, 3))
}

func TestReuploadReplacesPart(t *testing.T) {
	s, _ := newStager(t)
	up := testUpload
	req := stageParts(t, s, up, 2)
	second := []byte("the bytes S3 kept for part 2")
	stagePart(t, s, up, 2, second, `"feedface"`)

	if _, err := s.Complete(up, req, `"x-2"`); !errors.Is(err, ErrETagMismatch) {
		t.Fatalf("Complete listing the replaced ETag: %v, want ErrETagMismatch", err)
	}
	req.Parts[1].ETag = `"feedface"`
	completeInto(t, s, req, `"x-2"`, append(partData(1), second...))
	bins, _ := filepath.Glob(filepath.Join(s.dir(up), "part-2.*.bin"))
	if len(bins) != 1 {
		t.Fatalf("part 2 bin files %v, want only the current one", bins)
	}
	if n, err := s.StagedBytes(up); err != nil || n != int64(len(partData(1))+len(second)) {
		t.Fatalf("StagedBytes %d, %v", n, err)
	}
}

func TestCompleteComparesETagsWithoutQuotes(t *testing.T) {
	s, _ := newStager(t)
	begin(t, s, testUpload)
	stagePart(t, s, testUpload, 1, []byte("x"), `"0123abcd"`)
	if _, err := s.Complete(testUpload, CompleteRequest{Parts: []CompletedPart{{1, "0123abcd"}}}, "abc-1"); err != nil {
		t.Fatal(err)
	}
}

func TestCompleteRejects(t *testing.T) {
	tests := []struct {
		name  string
		parts []CompletedPart
		etag  string
		want  error
	}{
		{"ETag mismatch", []CompletedPart{{1, partETag(1)}, {2, partETag(3)}}, `"x-2"`, ErrETagMismatch},
		{"part count above ETag's", []CompletedPart{{1, partETag(1)}, {2, partETag(2)}, {3, partETag(3)}}, `"x-2"`, ErrPartCount},
		{"part count below ETag's", []CompletedPart{{1, partETag(1)}}, `"x-2"`, ErrPartCount},
		{"ETag without part count", []CompletedPart{{1, partETag(1)}}, `"d41d8cd98f00b204e9800998ecf8427e"`, ErrPartCount},
		{"ETag with garbage count", []CompletedPart{{1, partETag(1)}}, `"x-1a"`, ErrPartCount},
		{"descending", []CompletedPart{{2, partETag(2)}, {1, partETag(1)}}, `"x-2"`, ErrPartOrder},
		{"repeated", []CompletedPart{{1, partETag(1)}, {1, partETag(1)}}, `"x-2"`, ErrPartOrder},
		{"empty", nil, `"x-0"`, ErrPartOrder},
		{"part not staged", []CompletedPart{{1, partETag(1)}, {4, partETag(4)}}, `"x-2"`, ErrPartMissing},
		{"part number zero", []CompletedPart{{0, partETag(1)}}, `"x-1"`, ErrInvalidUpload},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newStager(t)
			stageParts(t, s, testUpload, 3)
			a, err := s.Complete(testUpload, CompleteRequest{Parts: tc.parts}, tc.etag)
			if !errors.Is(err, tc.want) || a != nil {
				t.Fatalf("Complete: %v, %v; want %v", a, err, tc.want)
			}
		})
	}
}

// Bytes that went missing or changed size behind the record are never
// assembled.
func TestCompleteRejectsDamagedPartFiles(t *testing.T) {
	for _, damage := range []string{"remove", "truncate"} {
		t.Run(damage, func(t *testing.T) {
			s, _ := newStager(t)
			req := stageParts(t, s, testUpload, 2)
			bin := filepath.Join(s.dir(testUpload), binName(2, partETag(2)))
			var err error
			if damage == "remove" {
				err = os.Remove(bin)
			} else {
				err = os.Truncate(bin, 10)
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Complete(testUpload, req, `"x-2"`); !errors.Is(err, ErrPartMissing) {
				t.Fatalf("Complete: %v, want ErrPartMissing", err)
			}
		})
	}
}

// A Stager opened later on the same directory (a restart, or another
// instance on NFS) sees what an earlier one staged.
func TestStagingSurvivesRestart(t *testing.T) {
	first, dir := newStager(t)
	req := stageParts(t, first, testUpload, 2)
	second, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	stagePart(t, second, testUpload, 3, partData(3), partETag(3))
	req.Parts = append(req.Parts, CompletedPart{3, partETag(3)})
	completeInto(t, second, req, `"x-3"`, partsData(1, 2, 3))
}

func TestInvalidUploadIDsAreRejected(t *testing.T) {
	bad := []string{"", "..", "a/../b", "../../etc", "a/b", `a\b`, "a\x00b", "a b", "a\nb", "caf\xc3\xa9", "\x7f",
		strings.Repeat("a", maxUploadIDLength+1)}
	s, dir := newStager(t)
	for _, id := range bad {
		up := testUpload
		up.ID = id
		if err := s.Begin(up, nil); !errors.Is(err, ErrInvalidUpload) {
			t.Errorf("Begin(%q): %v", id, err)
		}
		if _, err := s.Part(up, 1); !errors.Is(err, ErrInvalidUpload) {
			t.Errorf("Part(%q): %v", id, err)
		}
		if _, err := s.Complete(up, CompleteRequest{Parts: []CompletedPart{{1, "e"}}}, "x-1"); !errors.Is(err, ErrInvalidUpload) {
			t.Errorf("Complete(%q): %v", id, err)
		}
		if err := s.Abort(up); !errors.Is(err, ErrInvalidUpload) {
			t.Errorf("Abort(%q): %v", id, err)
		}
	}
	for _, up := range []Upload{{Bucket: "", Key: "k", ID: "id"}, {Bucket: "b", Key: "", ID: "id"}} {
		if err := s.Begin(up, nil); !errors.Is(err, ErrInvalidUpload) {
			t.Errorf("Begin(%+v): %v", up, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "v1", "uploads")); len(entries) != 0 {
		t.Fatalf("invalid uploads left %d entries", len(entries))
	}
	begin(t, s, testUpload)
	for _, n := range []int{0, -1, maxPartNumber + 1} {
		if _, err := s.Part(testUpload, n); !errors.Is(err, ErrInvalidUpload) {
			t.Errorf("Part(%d): %v", n, err)
		}
	}
	w, err := s.Part(testUpload, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(`""`); !errors.Is(err, ErrInvalidUpload) {
		t.Errorf("Commit with an empty ETag: %v", err)
	}
}

func TestUnstagedUploadsAreUnknown(t *testing.T) {
	s, _ := newStager(t)
	if _, err := s.Part(testUpload, 1); !errors.Is(err, ErrUnknownUpload) {
		t.Fatalf("Part of an upload never begun: %v", err)
	}
	begin(t, s, testUpload)
	other := testUpload
	other.Key = "another/key"
	if _, err := s.Part(other, 1); !errors.Is(err, ErrUnknownUpload) {
		t.Fatalf("Part with the upload id under another key: %v", err)
	}
	if _, err := s.Complete(other, CompleteRequest{Parts: []CompletedPart{{1, "e"}}}, "x-1"); !errors.Is(err, ErrUnknownUpload) {
		t.Fatalf("Complete under another key: %v", err)
	}
}

func TestAbortRemovesStaging(t *testing.T) {
	s, _ := newStager(t)
	req := stageParts(t, s, testUpload, 2)
	w, err := s.Part(testUpload, 3) // in flight when the upload is aborted
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("late"))
	if err := s.Abort(testUpload); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.dir(testUpload)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("staging still there: %v", err)
	}
	if err := w.Commit(`"late"`); err == nil {
		t.Fatal("a part committed into an aborted upload")
	}
	if _, err := s.Complete(testUpload, req, `"x-2"`); !errors.Is(err, ErrUnknownUpload) {
		t.Fatalf("Complete after Abort: %v", err)
	}
	if err := s.Abort(testUpload); err != nil {
		t.Fatalf("second Abort: %v", err)
	}
}

func TestPartAbortLeavesNothing(t *testing.T) {
	s, _ := newStager(t)
	begin(t, s, testUpload)
	w, err := s.Part(testUpload, 1)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("bytes S3 refused"))
	w.Abort()
	w.Abort()
	if err := w.Commit(`"e"`); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
	entries, _ := os.ReadDir(s.dir(testUpload))
	if len(entries) != 1 || entries[0].Name() != infoFile {
		t.Fatalf("staging holds %v, want only %s", entries, infoFile)
	}
}

func TestSweepRemovesIdleUploads(t *testing.T) {
	s, _ := newStager(t)
	idle, live := testUpload, testUpload
	idle.ID, live.ID = "idle-upload", "live-upload"
	stageParts(t, s, idle, 1)
	stageParts(t, s, live, 1)
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(s.dir(idle), infoFile), old, old); err != nil {
		t.Fatal(err)
	}
	crashed, err := createTemp(s.dir(live)) // a part writer that died long ago
	if err != nil {
		t.Fatal(err)
	}
	crashed.Close()
	os.Chtimes(crashed.Name(), old, old)
	orphan := filepath.Join(s.root, "0000-no-upload-json")
	os.Mkdir(orphan, 0o750)
	os.Chtimes(orphan, old, old)

	removed, err := s.Sweep(time.Hour)
	if err != nil || removed != 2 {
		t.Fatalf("Sweep removed %d, %v; want the idle upload and the orphan", removed, err)
	}
	if _, err := s.Info(idle); !errors.Is(err, ErrUnknownUpload) {
		t.Fatalf("idle upload: %v", err)
	}
	if _, err := s.Info(live); err != nil {
		t.Fatalf("live upload: %v", err)
	}
	if _, err := os.Stat(crashed.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("stale temp file of a live upload kept")
	}
	if _, err := s.Sweep(0); err == nil {
		t.Fatal("Sweep(0) accepted")
	}
}

// Committing a part marks the upload active, so long uploads are not swept.
func TestPartCommitPostponesSweep(t *testing.T) {
	s, _ := newStager(t)
	begin(t, s, testUpload)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(filepath.Join(s.dir(testUpload), infoFile), old, old)
	stagePart(t, s, testUpload, 1, []byte("x"), `"e"`)
	if removed, _ := s.Sweep(time.Hour); removed != 0 {
		t.Fatal("an upload active a moment ago was swept")
	}
}

func TestBeginKeepsObjectHeaders(t *testing.T) {
	s, _ := newStager(t)
	h := http.Header{
		"Content-Type": {"text/plain"}, "Cache-Control": {"max-age=60"}, "Content-Encoding": {"aws-chunked,gzip"},
		"X-Amz-Meta-Color": {"blue"}, "x-amz-meta-lower": {"1"}, "X-Amz-Storage-Class": {"STANDARD"},
		"X-Amz-Server-Side-Encryption": {"aws:kms"}, "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": {"alias/k"},
		"Authorization": {"AWS4-HMAC-SHA256 ..."}, "X-Amz-Tagging": {"a=b"}, "Content-Length": {"0"},
	}
	if err := s.Begin(testUpload, h); err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(testUpload)
	if err != nil {
		t.Fatal(err)
	}
	want := http.Header{"Content-Type": {"text/plain"}, "Cache-Control": {"max-age=60"}, "Content-Encoding": {"gzip"},
		"X-Amz-Meta-Color": {"blue"}, "X-Amz-Meta-Lower": {"1"}, "X-Amz-Server-Side-Encryption": {"aws:kms"}}
	if fmt.Sprint(info.Header) != fmt.Sprint(want) {
		t.Fatalf("kept headers %v, want %v", info.Header, want)
	}
	ssec := http.Header{"X-Amz-Server-Side-Encryption-Customer-Algorithm": {"AES256"}}
	other := testUpload
	other.ID = "sse-c"
	if err := s.Begin(other, ssec); !errors.Is(err, ErrNotCacheable) {
		t.Fatalf("SSE-C upload: %v, want ErrNotCacheable", err)
	}
}

// Parts of one upload staged at once from several goroutines, some of them
// twice, end up as the last upload of each part.
func TestConcurrentParts(t *testing.T) {
	s, _ := newStager(t)
	begin(t, s, testUpload)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for n := 1; n <= 8; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- tryStagePart(s, testUpload, n, []byte("first"), `"first"`)
			errs <- tryStagePart(s, testUpload, n, partData(n), partETag(n))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var req CompleteRequest
	for n := 1; n <= 8; n++ {
		req.Parts = append(req.Parts, CompletedPart{n, partETag(n)})
	}
	completeInto(t, s, req, `"x-8"`, partsData(1, 2, 3, 4, 5, 6, 7, 8))
}

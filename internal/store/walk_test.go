package store

import (
	"context"
	"sort"
	"testing"
	"time"
)

func TestWalkListsCachedObjectsAndSkipsTombstones(t *testing.T) {
	s := openTest(t)
	now := time.Now()
	for _, key := range []string{"a/1", "a/2", "b/3"} {
		if err := fill(t, s, ObjectID{Endpoint: "e", Bucket: "bk", Key: key}, `"etag"`, "body-"+key, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Invalidate(ObjectID{Endpoint: "e", Bucket: "bk", Key: "a/2"}, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	var keys []string
	err := s.Walk(context.Background(), func(e *Entry) error {
		keys = append(keys, e.Meta.Key)
		if len(e.Segments) != 1 || e.Segments[0].End != e.Meta.Size {
			t.Errorf("%s: segments %+v", e.Meta.Key, e.Segments)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	if len(keys) != 2 || keys[0] != "a/1" || keys[1] != "b/3" {
		t.Errorf("walked %v, want a/1 and b/3", keys)
	}
	u, err := s.Usage(context.Background())
	// Disk bytes: each raw segment also holds its checksum trailer.
	want := int64(len("body-a/1")+len("body-b/3")) + ChecksumTrailerSize(8)*2
	if err != nil || u.Objects != 2 || u.Bytes != want {
		t.Errorf("usage = %+v, %v", u, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Walk(ctx, func(*Entry) error { return nil }); err == nil {
		t.Error("a cancelled walk reported success")
	}
}

package main

import (
	"testing"
	"time"
)

func TestTokenBucketReserve(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := &tokenBucket{rate: 1000, burst: 500, tokens: 500, last: t0}
	if d := b.reserve(500, t0); d != 0 {
		t.Fatalf("burst should pass at once, waited %v", d)
	}
	if d := b.reserve(1000, t0); d != time.Second {
		t.Fatalf("1000 bytes past the burst at 1000 B/s: wait %v, want 1s", d)
	}
	// Two seconds later the debt (1000) is paid and 1000 more accrued, capped at the burst.
	if d := b.reserve(500, t0.Add(2*time.Second)); d != 0 {
		t.Fatalf("after refill: wait %v, want 0", d)
	}
	if d := b.reserve(100, t0.Add(2*time.Second)); d != 100*time.Millisecond {
		t.Fatalf("burst cap: wait %v, want 100ms", d)
	}
}

func TestNilTokenBucketIsUnlimited(t *testing.T) {
	var b *tokenBucket
	if err := b.Take(t.Context(), 1<<30); err != nil {
		t.Fatal(err)
	}
	if newTokenBucket(0, 1) != nil {
		t.Fatal("rate 0 must mean unlimited (nil)")
	}
}

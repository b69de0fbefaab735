package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestDiskGuardCancels(t *testing.T) {
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	// A negative budget puts the limit above the free space: the first check trips.
	go guardDisk(ctx, cancel, t.TempDir(), -gib, 0, slog.New(slog.DiscardHandler))
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("guard did not cancel")
	}
	if cause := context.Cause(ctx); cause == nil || !strings.Contains(cause.Error(), "disk guard") {
		t.Fatalf("cause %v", cause)
	}
}

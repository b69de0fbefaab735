package main

import (
	"crypto/md5"
	"encoding/hex"
	"math"
	"testing"
)

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {50, 3}, {100, 5}, {25, 2}, {95, 4.8}} {
		if got := percentile(xs, c.p); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if xs[0] != 5 {
		t.Error("percentile sorted its input in place")
	}
	if !math.IsNaN(median(nil)) || !math.IsNaN(ratio(1, 0)) {
		t.Error("empty input and zero denominators must give NaN")
	}
}

func TestSizeText(t *testing.T) {
	for n, want := range map[int64]string{4 * kib: "4KiB", mib: "1MiB", 256 * mib: "256MiB", gib: "1GiB", 100 * kib: "100KiB", 3 * mib / 2: "1.5MiB"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestNginxCacheFiles(t *testing.T) {
	files := nginxCacheFiles("/c", "/bench/k", 2*mib+1)
	if len(files) != 3 {
		t.Fatalf("%d files for 3 slices", len(files))
	}
	sum := md5.Sum([]byte("/bench/kbytes=1048576-2097151"))
	h := hex.EncodeToString(sum[:])
	if want := "/c/" + h[31:] + "/" + h[29:31] + "/" + h; files[1] != want {
		t.Fatalf("second slice at %q, want %q (levels=1:2)", files[1], want)
	}
}

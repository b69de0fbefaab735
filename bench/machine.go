package main

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// machine describes where a run happened: ratios only compare within a run,
// but a reader needs to know what box made the figures.
type machine struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	MemoryGiB int64  `json:"memory_gib"`
	Kernel    string `json:"kernel"`
	Go        string `json:"go"`
	Nginx     string `json:"nginx"`
	Origin    string `json:"origin"`
	Commit    string `json:"s3cache_commit"`
	Disk      string `json:"disk_free"`
}

func describeMachine(ctx context.Context, root string) machine {
	m := machine{Cores: runtime.NumCPU(), Go: runtime.Version(), Origin: "versitygw v1.8.0 (posix backend, answers Connection: close)"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if v, err := procStatusKiBFile("/proc/meminfo", "MemTotal"); err == nil {
		m.MemoryGiB = (v + gib/2) / gib
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.Nginx = firstLine(ctx, root, "nginx", "-v")
	m.Commit = firstLine(ctx, root, "git", "describe", "--always", "--dirty")
	if free, err := diskFree(root); err == nil {
		m.Disk = sizeText(free/gib*gib) + " free"
	}
	return m
}

// firstLine runs a command and returns the first line it printed.
func firstLine(ctx context.Context, dir string, argv ...string) string {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

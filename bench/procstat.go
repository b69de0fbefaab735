package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is
// 100 on every Linux build Go supports without cgo to ask sysconf.
const clockTicks = 100

// statFields returns the fields of /proc/PID/stat from the third (state)
// on: the command name may hold spaces and parentheses, so they start after
// the last ')'.
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, fmt.Errorf("stat of %d: %w", pid, err)
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("stat of %d: malformed", pid)
	}
	return strings.Fields(string(b[i+1:])), nil
}

// procCPU returns the user+system CPU time pid has used so far.
func procCPU(pid int) (time.Duration, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	// utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu of %d: short stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("cpu of %d: bad utime/stime %q %q", pid, f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// procParent returns the parent pid of pid (field 4).
func procParent(pid int) (int, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	if len(f) < 2 {
		return 0, fmt.Errorf("stat of %d: short", pid)
	}
	return strconv.Atoi(f[1])
}

// procStatusKiB returns a "Name:   N kB" line of /proc/PID/status in bytes
// (VmHWM is the peak resident set, VmRSS the current one).
func procStatusKiB(pid int, name string) (int64, error) {
	return procStatusKiBFile(fmt.Sprintf("/proc/%d/status", pid), name)
}

// procStatusKiBFile reads a "Name:   N kB" line of a /proc file in bytes.
func procStatusKiBFile(path, name string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		v, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %s: %w", path, name, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%s: no %s", path, name)
}

// processTree returns pid and its direct children (nginx's master and
// workers).
func processTree(pid int) []int {
	out := []int{pid}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		child, err := strconv.Atoi(filepath.Base(d))
		if err != nil || child == pid {
			continue
		}
		if parent, err := procParent(child); err == nil && parent == pid {
			out = append(out, child)
		}
	}
	return out
}

// treeCPU sums the CPU time of pid and its direct children.
func treeCPU(pid int) time.Duration {
	var sum time.Duration
	for _, p := range processTree(pid) {
		if c, err := procCPU(p); err == nil {
			sum += c
		}
	}
	return sum
}

// treeHWM sums the peak RSS of pid and its direct children (an upper bound
// of the tree's peak: the peaks need not coincide).
func treeHWM(pid int) int64 {
	var sum int64
	for _, p := range processTree(pid) {
		if v, err := procStatusKiB(p, "VmHWM"); err == nil {
			sum += v
		}
	}
	return sum
}

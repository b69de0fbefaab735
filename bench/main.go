package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	mode       string
	settings   string
	rounds     int
	out        string
	keep       bool
	logLevel   string
	extraArgs  string
	s3cacheBin string
}

func main() {
	var o options
	flag.StringVar(&o.mode, "mode", "quick", "quick (CI smoke: small objects, 1 round, under 2 minutes) or full")
	flag.StringVar(&o.settings, "settings", "a,b", "comma-separated settings: a = raw loopback, b = shaped like a site's link to S3")
	flag.IntVar(&o.rounds, "rounds", 0, "override the number of rounds (0: the mode's)")
	flag.StringVar(&o.out, "out", "", "results directory (default bench/results in the repository)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary work directory (caches, origin data)")
	flag.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	flag.StringVar(&o.extraArgs, "s3cache-args", "", "extra flags for s3cache, space-separated")
	flag.StringVar(&o.s3cacheBin, "s3cache-bin", "", "use this s3cache binary instead of building ./cmd/s3cache")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "bench: bad -log-level:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o, log)
	stop()
	if err != nil {
		log.Error("bench failed", "err", err)
		os.Exit(1)
	}
}

// run does one benchmark run and writes its results.
func run(ctx context.Context, o options, log *slog.Logger) (err error) {
	started := time.Now()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	p, err := makePlan(o)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "s3cache-bench-")
	if err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	if o.keep {
		log.Info("keeping work dir", "dir", work)
	} else {
		defer os.RemoveAll(work)
	}
	var notes []string
	p = fitDisk(p, work, &notes)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go guardDisk(ctx, cancel, work, p.DiskBudget, 4*gib, log)
	defer func() { // say why everything was cut short
		if cause := context.Cause(ctx); cause != nil && err != nil && !errors.Is(cause, context.Canceled) {
			err = fmt.Errorf("%w (%v)", err, cause)
		}
	}()

	logDir := filepath.Join(root, "bench", "work", "logs")
	_ = os.RemoveAll(logDir)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fmt.Errorf("log dir: %w", err)
	}
	ps := newProcs(logDir, log)
	defer ps.stopAll()

	if err := prepareTools(ctx, root); err != nil {
		return err
	}
	bin := o.s3cacheBin
	if bin == "" {
		if bin, err = buildS3cache(ctx, root, work); err != nil {
			return err
		}
	}
	o2, err := startOrigin(ctx, ps, root, filepath.Join(work, "origin"))
	if err != nil {
		return err
	}
	w := &world{root: root, work: work, plan: p, ps: ps, log: log, origin: o2, s3cache: bin,
		extra: strings.Fields(o.extraArgs), material: newRandomBlock(8 << 20), notes: &notes}
	notes = append(notes, "versitygw answers every request with Connection: close, so no contender keeps connections to the origin alive; "+
		"every origin request pays a TCP handshake (through the link proxy too).",
		"RAM-tier hits are n/a: this s3cache build has no RAM tier. \"hit (warm page cache)\" is a disk-tier hit whose files are in the kernel page cache; "+
			"\"hit (disk)\" evicts the server's cache files from the page cache (fsync + fadvise DONTNEED) before each request. "+
			"The machine's disk is virtual and may itself be cached by the host.",
		"Object bodies are incompressible pseudo-random bytes; all contenders are driven with presigned URLs over plain net/http.")
	log.Info("uploading base objects", "mode", p.Mode)
	if err := w.uploadBase(ctx); err != nil {
		return err
	}
	rep := &report{Started: started, Machine: describeMachine(ctx, root), Plan: p}
	for _, set := range p.Settings {
		res, err := w.runSetting(ctx, set)
		if err != nil {
			return err
		}
		rep.Settings = append(rep.Settings, res)
	}
	rep.Ratios = ratioTable(rep.Settings, p)
	rep.Notes = notes
	rep.Seconds = time.Since(started).Seconds()
	out := o.out
	if out == "" {
		out = filepath.Join(root, "bench", "results")
	}
	return writeOutputs(rep, root, out, log)
}

// makePlan picks the mode's plan and applies the overrides.
func makePlan(o options) (plan, error) {
	var p plan
	switch o.mode {
	case "quick":
		p = quickPlan()
	case "full":
		p = fullPlan()
	default:
		return p, fmt.Errorf("unknown -mode %q (quick or full)", o.mode)
	}
	for name := range strings.SplitSeq(o.settings, ",") {
		set, ok := settingByName(strings.TrimSpace(name))
		if !ok {
			return p, fmt.Errorf("unknown setting %q (a or b)", name)
		}
		p.Settings = append(p.Settings, set)
	}
	if o.rounds > 0 {
		p.Rounds, p.ManyRounds = o.rounds, o.rounds
	}
	return p, nil
}

// fitDisk drops the 1 GiB objects when the disk could not hold every copy
// (origin, s3cache and nginx each keep one, plus the fresh miss copies).
func fitDisk(p plan, dir string, notes *[]string) plan {
	const needed = 24 * gib // the disk budget and some room for the rest of the machine
	if largest(p.SingleSizes) < gib && p.RSSSize < gib {
		return p
	}
	free, err := diskFree(dir)
	if err == nil && free >= needed {
		return p
	}
	p.SingleSizes = slices.DeleteFunc(p.SingleSizes, func(s int64) bool { return s >= gib })
	p.RSSSize = min(p.RSSSize, 256*mib)
	*notes = append(*notes, fmt.Sprintf("1 GiB objects skipped: %s free where %s is wanted", sizeText(free/gib*gib), sizeText(needed)))
	return p
}

// prepareTools installs versitygw and nginx when missing.
func prepareTools(ctx context.Context, root string) error {
	if err := installOrigin(ctx, root); err != nil {
		return err
	}
	if _, err := exec.LookPath("nginx"); err == nil {
		return nil
	}
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "nginx-peer.sh"), "install")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scripts/nginx-peer.sh install: %w", err)
	}
	return nil
}

// repoRoot finds the directory holding go.mod, upwards from here.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("repo root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repo root: no go.mod above the current directory")
		}
		dir = parent
	}
}

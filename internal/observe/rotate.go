package observe

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// RotateConfig says where a rotating log lives and when it turns over.
type RotateConfig struct {
	Dir  string
	Name string // base name; the live file is Name + ".log"
	// MaxSize rotates the file once it reaches this many bytes (0: never).
	MaxSize int64
	// Every rotates at each multiple of this interval since the Unix epoch
	// (24h: at midnight UTC); 0 never rotates by time.
	Every time.Duration
	// Retention removes rotated files older than this (0: keep by age).
	Retention time.Duration
	// MaxFiles keeps at most this many rotated files (0: no limit).
	MaxFiles int
}

// rotatedLayout names rotated files so that they sort by time.
const rotatedLayout = "20060102T150405.000Z"

// RotatingFile is a buffered log file that renames itself to
// NAME-<time>.log when it grows too large or a new period starts, and
// prunes old rotated files. Writes go to memory; Flush moves them to the
// file. It is safe for concurrent use.
type RotatingFile struct {
	cfg    RotateConfig
	now    func() time.Time
	mu     sync.Mutex
	f      *os.File
	buf    *bufio.Writer
	size   int64
	period time.Time // start of the period the live file belongs to
}

// OpenRotating opens (appending) or creates the live file in cfg.Dir.
func OpenRotating(cfg RotateConfig) (*RotatingFile, error) {
	return openRotating(cfg, time.Now)
}

func openRotating(cfg RotateConfig, now func() time.Time) (*RotatingFile, error) {
	if cfg.Name == "" {
		cfg.Name = "access"
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	r := &RotatingFile{cfg: cfg, now: now}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RotatingFile) livePath() string { return filepath.Join(r.cfg.Dir, r.cfg.Name+".log") }

func (r *RotatingFile) open() error {
	f, err := os.OpenFile(r.livePath(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat log file: %w", err)
	}
	r.f, r.size = f, info.Size()
	r.period = r.periodOf(info.ModTime())
	if info.Size() == 0 {
		r.period = r.periodOf(r.now())
	}
	if r.buf == nil {
		r.buf = bufio.NewWriterSize(f, 64<<10)
	} else {
		r.buf.Reset(f)
	}
	return nil
}

func (r *RotatingFile) periodOf(t time.Time) time.Time {
	if r.cfg.Every <= 0 {
		return time.Time{}
	}
	return t.UTC().Truncate(r.cfg.Every)
}

// Write appends p (one or more whole lines), rotating first when due.
func (r *RotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return 0, errors.New("log file closed")
	}
	if r.due(int64(len(p))) {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := r.buf.Write(p)
	r.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("write log: %w", err)
	}
	return n, nil
}

func (r *RotatingFile) due(next int64) bool {
	if r.size == 0 {
		return false
	}
	if r.cfg.MaxSize > 0 && r.size+next > r.cfg.MaxSize {
		return true
	}
	return r.cfg.Every > 0 && !r.periodOf(r.now()).Equal(r.period)
}

// rotate renames the live file aside, opens a new one and prunes.
func (r *RotatingFile) rotate() error {
	if err := r.buf.Flush(); err != nil {
		return fmt.Errorf("flush log: %w", err)
	}
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("close log: %w", err)
	}
	r.f = nil
	aside := filepath.Join(r.cfg.Dir, r.cfg.Name+"-"+r.now().UTC().Format(rotatedLayout)+".log")
	if err := os.Rename(r.livePath(), aside); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	if err := r.open(); err != nil {
		return err
	}
	return r.prune()
}

// prune removes rotated files past the retention or beyond MaxFiles.
func (r *RotatingFile) prune() error {
	entries, err := os.ReadDir(r.cfg.Dir)
	if err != nil {
		return fmt.Errorf("list log directory: %w", err)
	}
	var rotated []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, r.cfg.Name+"-") && strings.HasSuffix(name, ".log") {
			rotated = append(rotated, name)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(rotated))) // newest first
	now := r.now()
	var errs []error
	for i, name := range rotated {
		stamp := strings.TrimSuffix(strings.TrimPrefix(name, r.cfg.Name+"-"), ".log")
		at, err := time.Parse(rotatedLayout, stamp)
		tooOld := err == nil && r.cfg.Retention > 0 && now.Sub(at) > r.cfg.Retention
		tooMany := r.cfg.MaxFiles > 0 && i >= r.cfg.MaxFiles
		if tooOld || tooMany {
			if err := os.Remove(filepath.Join(r.cfg.Dir, name)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Flush writes buffered lines to the file.
func (r *RotatingFile) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	if err := r.buf.Flush(); err != nil {
		return fmt.Errorf("flush log: %w", err)
	}
	return nil
}

// Close flushes and closes the file.
func (r *RotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.buf.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f = nil
	if err != nil {
		return fmt.Errorf("close log: %w", err)
	}
	return nil
}

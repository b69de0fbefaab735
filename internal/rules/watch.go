package rules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// FileName is the rules file's name in the cache directory, used when the
// configuration names no rules file.
const FileName = "rules.json"

// DefaultPath is where the rules file lives when the configuration names none.
func DefaultPath(cacheDir string) string { return filepath.Join(cacheDir, FileName) }

const (
	// DefaultPollInterval is how often the file is stat'ed, for changes that
	// inotify does not report (NFS writes from other hosts).
	DefaultPollInterval = time.Second
	// settleDelay lets a burst of events (truncate, write, rename) end
	// before the file is read.
	settleDelay = 100 * time.Millisecond
	// removalGrace is how long the file must stay missing before its rules
	// are dropped: an editor's delete-then-write must not open a window
	// in which, say, a TTL-0 rule stops applying.
	removalGrace = time.Second
)

// Option adjusts Watch.
type Option func(*watchOptions)

type watchOptions struct {
	pollInterval time.Duration
	useNotify    bool
}

// WithPollInterval sets how often the file is stat'ed (default 1 s).
func WithPollInterval(d time.Duration) Option {
	return func(o *watchOptions) {
		if d > 0 {
			o.pollInterval = d
		}
	}
}

// WithoutFSNotify relies on the periodic stat alone, as on a host where
// inotify is unavailable or the file lives on NFS.
func WithoutFSNotify() Option {
	return func(o *watchOptions) { o.useNotify = false }
}

// Watch loads the rules file at path and keeps the returned Set current
// until ctx ends; Set.Done is closed once the watcher has stopped.
//
// A missing file means no rules, and a file created later is picked up.
// After a successful start, a version that fails to read or parse is
// rejected with one log line per version and the previous rules stay in
// force. At start there is nothing to fall back on: an invalid file is an
// error, so that s3cache does not quietly serve with rules left out (a rule
// may be what sends a prefix to S3 on every read, TTL 0).
func Watch(ctx context.Context, path string, log *slog.Logger, opts ...Option) (*Set, error) {
	if path == "" {
		return nil, errors.New("rules: no file path")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := watchOptions{pollInterval: DefaultPollInterval, useNotify: true}
	for _, opt := range opts {
		opt(&o)
	}
	path = filepath.Clean(path)
	w := &watcher{
		set:  &Set{path: path, done: make(chan struct{})},
		path: path,
		log:  log.With("rules_file", path),
		opts: o,
	}
	if err := w.initialLoad(); err != nil {
		return nil, err
	}
	notify := w.startNotify()
	go w.run(ctx, notify)
	return w.set, nil
}

// watcher is the state of the one goroutine that reloads a Set.
type watcher struct {
	set  *Set
	path string
	log  *slog.Logger
	opts watchOptions

	seen         fingerprint // the file as last read
	seenValid    bool        // seen describes an existing, read file
	inForce      []byte      // contents of the version in force
	fromFile     bool        // the rules in force came from the file (not from its absence)
	rejected     []byte      // contents of the newest rejected version
	readError    string      // the last read error logged, to log each once
	missingSince time.Time   // when the file was first seen gone while its rules are in force
}

func (w *watcher) initialLoad() error {
	fp, err := statFile(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		w.set.install(nil, time.Now())
		w.log.Info("no rules file; no rules in force")
		return nil
	}
	var data []byte
	if err == nil {
		data, err = readRulesFile(w.path)
	}
	if err != nil {
		return fmt.Errorf("rules: read %s: %w", w.path, err)
	}
	t, err := Parse(data)
	if err != nil {
		return fmt.Errorf("rules: %s: %w", w.path, err)
	}
	w.seen, w.seenValid = fp, true
	w.inForce, w.fromFile = data, true
	w.set.install(t, time.Now())
	w.log.Info("rules loaded", "rules", t.Len())
	return nil
}

// startNotify watches the file's directory, not the file: editors replace
// a file by renaming another over it, which ends a watch on the file
// itself. Without inotify the periodic stat still sees every change.
func (w *watcher) startNotify() *fsnotify.Watcher {
	if !w.opts.useNotify {
		return nil
	}
	nw, err := fsnotify.NewWatcher()
	if err != nil {
		w.log.Warn("fsnotify unavailable; rules changes are seen by the periodic stat only", "error", err)
		return nil
	}
	if err := nw.Add(filepath.Dir(w.path)); err != nil {
		w.log.Warn("cannot watch the rules file's directory; rules changes are seen by the periodic stat only", "error", err)
		_ = nw.Close()
		return nil
	}
	return nw
}

func (w *watcher) run(ctx context.Context, notify *fsnotify.Watcher) {
	defer close(w.set.done)
	var events <-chan fsnotify.Event
	var notifyErrors <-chan error
	if notify != nil {
		defer notify.Close()
		events, notifyErrors = notify.Events, notify.Errors
	}
	poll := time.NewTicker(w.opts.pollInterval)
	defer poll.Stop()
	recheck := time.NewTimer(time.Hour)
	recheck.Stop()
	defer recheck.Stop()
	base := filepath.Base(w.path)
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			if d := w.check(false); d > 0 {
				recheck.Reset(d)
			}
		case <-recheck.C:
			if d := w.check(true); d > 0 {
				recheck.Reset(d)
			}
		case ev, ok := <-events:
			if !ok {
				events = nil
			} else if filepath.Base(ev.Name) == base {
				recheck.Reset(settleDelay)
			}
		case err, ok := <-notifyErrors:
			if !ok {
				notifyErrors = nil
				continue
			}
			// Typically a queue overflow: events may have been lost.
			w.log.Warn("fsnotify error; rechecking the rules file", "error", err)
			recheck.Reset(settleDelay)
		}
	}
}

// check reloads the file if it changed (always when force is set). It
// returns how soon to check again, or 0 for the usual schedule.
func (w *watcher) check(force bool) time.Duration {
	fp, err := statFile(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		return w.fileMissing()
	}
	w.missingSince = time.Time{}
	if err != nil {
		w.readFailed(err)
		return 0
	}
	if !force && w.seenValid && fp == w.seen {
		return 0
	}
	data, err := readRulesFile(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		return w.fileMissing()
	}
	if err != nil {
		w.readFailed(err)
		return 0
	}
	w.seen, w.seenValid, w.readError = fp, true, ""
	w.load(data)
	return 0
}

// load puts data's rules in force, or rejects them and keeps the old ones.
func (w *watcher) load(data []byte) {
	switch {
	case w.fromFile && bytes.Equal(data, w.inForce):
		if w.rejected != nil { // an edit was reverted
			w.rejected = nil
			w.set.clearError()
		}
		return
	case w.rejected != nil && bytes.Equal(data, w.rejected):
		return // already logged
	}
	t, err := Parse(data)
	if err != nil {
		w.rejected = data
		w.set.reject(err)
		w.log.Warn("rules file rejected; the previous rules stay in force",
			"error", err, "rules_in_force", w.set.Table().Len())
		return
	}
	w.inForce, w.fromFile, w.rejected = data, true, nil
	w.set.install(t, time.Now())
	w.log.Info("rules reloaded", "rules", t.Len())
}

// fileMissing drops the file's rules once it has stayed missing for
// removalGrace. It returns how soon to check again.
func (w *watcher) fileMissing() time.Duration {
	w.seenValid = false
	if !w.fromFile {
		return 0
	}
	now := time.Now()
	if w.missingSince.IsZero() {
		w.missingSince = now
	}
	if wait := removalGrace - now.Sub(w.missingSince); wait > 0 {
		return wait
	}
	w.missingSince = time.Time{}
	w.inForce, w.fromFile, w.rejected = nil, false, nil
	w.set.install(nil, now)
	w.log.Info("rules file removed; no rules in force")
	return 0
}

// readFailed logs and counts an unreadable file once per distinct error;
// the rules in force stay.
func (w *watcher) readFailed(err error) {
	w.seenValid = false
	if msg := err.Error(); msg != w.readError {
		w.readError = msg
		w.set.reject(err)
		w.log.Warn("cannot read the rules file; the previous rules stay in force", "error", err)
	}
}

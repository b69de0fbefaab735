package qos

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// heartbeatSuffix ends every heartbeat file's name.
const heartbeatSuffix = ".hb"

// fleet finds the live instances through heartbeat files in the shared
// cache directory.
type fleet struct {
	dir        string // <cache_dir>/v1/qos
	self       string // this instance's heartbeat file
	liveWithin time.Duration
	reapAfter  time.Duration
}

func newFleet(cacheDir, instanceID string, cfg Config) *fleet {
	dir := filepath.Join(cacheDir, "v1", "qos")
	return &fleet{
		dir:        dir,
		self:       filepath.Join(dir, safeName(instanceID)+heartbeatSuffix),
		liveWithin: cfg.LiveWithin,
		reapAfter:  cfg.ReapAfter,
	}
}

// safeName keeps an instance id usable as one path element.
func safeName(id string) string {
	id = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, id)
	if id == "" || id == "." || id == ".." {
		return "instance"
	}
	return id
}

// beat touches this instance's heartbeat, removes the long-dead ones and
// returns how many instances (this one included) are live. Ages are taken
// against this instance's fresh file, so only the file server's clock
// matters.
func (f *fleet) beat() (int, error) {
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return 0, fmt.Errorf("qos heartbeat dir: %w", err)
	}
	stamp := []byte(time.Now().UTC().Format(time.RFC3339Nano) + "\n")
	if err := os.WriteFile(f.self, stamp, 0o644); err != nil {
		return 0, fmt.Errorf("qos heartbeat: %w", err)
	}
	own, err := os.Stat(f.self)
	if err != nil {
		return 0, fmt.Errorf("qos heartbeat: %w", err)
	}
	now := own.ModTime()
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return 0, fmt.Errorf("qos heartbeat dir: %w", err)
	}
	live := 1 // this instance
	for _, e := range entries {
		path := filepath.Join(f.dir, e.Name())
		if !strings.HasSuffix(e.Name(), heartbeatSuffix) || path == f.self {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		age := now.Sub(info.ModTime())
		switch {
		case age > f.reapAfter:
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				continue
			}
		case age < f.liveWithin && age > -f.liveWithin:
			live++
		}
	}
	return live, nil
}

// leave removes this instance's heartbeat, so the others take its share
// at their next beat.
func (f *fleet) leave() {
	_ = os.Remove(f.self)
}

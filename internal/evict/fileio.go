package evict

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Shared capacity files are written once under a dot-prefixed temp name in
// their own directory and renamed into place, so a reader on any instance
// sees a whole file or none; listings skip dot files.

// writeSeqFile writes v as the file <area>/<prefix><instance>-<seq>.json,
// one of the instance's numbered, never modified files.
func (m *Manager) writeSeqFile(area, prefix string, seq int64, v any) error {
	dir, err := m.st.AreaDir(area)
	if err != nil {
		return err
	}
	return writeJSONAtomic(dir, fmt.Sprintf("%s%s-%010d.json", prefix, m.instance, seq), v)
}

// writeJSONAtomic writes v as the file dir/name.
func writeJSONAtomic(dir, name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	tmp := filepath.Join(dir, "."+name+"."+hex.EncodeToString(nonce[:])+".tmp")
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("publish %s: %w", name, err)
	}
	return nil
}

// readJSON decodes the file at path into v; fs.ErrNotExist when missing.
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", filepath.Base(path), err)
	}
	return nil
}

// listNames returns the names in dir that start with prefix and end in
// .json, sorted, at most limit of them (0: all).
func listNames(dir, prefix string, limit int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, prefix) && strings.HasSuffix(n, ".json") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if limit > 0 && len(names) > limit {
		names = names[:limit]
	}
	return names, nil
}

// removeOldTemps removes dot-prefixed temp files in dir older than age,
// left by a writer that died between write and rename.
func removeOldTemps(dir string, age time.Duration) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	removed := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > age &&
			os.Remove(filepath.Join(dir, e.Name())) == nil {
			removed++
		}
	}
	return removed
}

package store

import (
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Stamp identifies the state of an object's directory cheaply: what stat
// says about meta.json and the directory itself. Any change an instance
// makes (new metadata, a segment added or removed) changes the stamp, so a
// RAM copy of an Entry can be checked with two stats instead of a read and
// a directory listing.
type Stamp struct {
	MetaMtime time.Time
	MetaSize  int64
	MetaIno   uint64
	DirMtime  time.Time
}

// Stamp returns the object's current stamp; ok is false when there is no
// metadata.
func (s *Store) Stamp(id ObjectID) (Stamp, bool) {
	dir := s.objectDir(id)
	mi, err := os.Stat(filepath.Join(dir, "meta.json"))
	if err != nil {
		return Stamp{}, false
	}
	di, err := os.Stat(dir)
	if err != nil {
		return Stamp{}, false
	}
	st := Stamp{MetaMtime: mi.ModTime(), MetaSize: mi.Size(), DirMtime: di.ModTime(), MetaIno: inode(mi)}
	return st, true
}

// OnChange registers fn to be told of every change this process makes to
// an object (metadata written, segment published), so in-process copies are
// dropped at once rather than at their next stamp check.
func (s *Store) OnChange(fn func(ObjectID)) { s.onChange = fn }

func (s *Store) changed(id ObjectID) {
	if s.onChange != nil {
		s.onChange(id)
	}
}

// inode is the file's inode number, 0 where the system does not say.
func inode(info os.FileInfo) uint64 {
	if sys, ok := info.Sys().(*syscall.Stat_t); ok {
		return sys.Ino
	}
	return 0
}

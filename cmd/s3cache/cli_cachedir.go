package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/s3cache/s3cache/internal/config"
	"github.com/s3cache/s3cache/internal/store"
)

// cacheDirFlags are the flags shared by the subcommands that work on a
// cache directory directly (ls, purge).
type cacheDirFlags struct {
	cacheDir   string
	configFile string
	endpoint   string
}

func (f *cacheDirFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cacheDir, "cache-dir", "", "cache directory (default: cache_dir of --config, else "+config.Default().CacheDir+")")
	fs.StringVar(&f.configFile, "config", "", "read cache_dir from this s3cache configuration file")
	fs.StringVar(&f.endpoint, "endpoint", "", "only objects cached for this endpoint (the origin URL, or aws-s3:… for AWS)")
}

// open opens the cache directory, refusing one that holds no cache, so a
// typo does not create an empty cache.
func (f *cacheDirFlags) open() (*store.Store, error) {
	dir := f.cacheDir
	if dir == "" {
		cfg := config.Default()
		if f.configFile != "" {
			if err := cfg.LoadFile(f.configFile); err != nil {
				return nil, err
			}
		}
		dir = cfg.CacheDir
	}
	if _, err := os.Stat(filepath.Join(dir, "v1", "objects")); err != nil {
		return nil, fmt.Errorf("no s3cache cache in %s: %w", dir, err)
	}
	return store.Open(dir, slog.New(slog.DiscardHandler))
}

// objectFilter selects cached objects by bucket, key prefix and endpoint.
type objectFilter struct {
	bucket, prefix, endpoint string
}

// parseObjectFilter reads "bucket[/prefix]" (an s3:// prefix is allowed).
func parseObjectFilter(arg, endpoint string) objectFilter {
	arg = strings.TrimPrefix(arg, "s3://")
	bucket, prefix, _ := strings.Cut(arg, "/")
	return objectFilter{bucket: bucket, prefix: prefix, endpoint: endpoint}
}

func (f objectFilter) match(m *store.Meta) bool {
	return (f.bucket == "" || m.Bucket == f.bucket) && strings.HasPrefix(m.Key, f.prefix) &&
		(f.endpoint == "" || m.Endpoint == f.endpoint)
}

// matching walks st and returns the entries f selects.
func matching(ctx context.Context, st *store.Store, f objectFilter) ([]*store.Entry, error) {
	var out []*store.Entry
	err := st.Walk(ctx, func(e *store.Entry) error {
		if f.match(e.Meta) {
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// newFlagSet returns a flag set that reports errors to stderr without
// exiting.
func newFlagSet(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: "+usage)
		fs.PrintDefaults()
	}
	return fs
}

// exitCodeForFlags is 0 for -h and 2 for other flag errors.
func exitCodeForFlags(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

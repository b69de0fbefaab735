package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// subcommandFunc runs one subcommand and returns the process exit code.
type subcommandFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// subcommand returns the subcommand called name, nil if there is none:
// anything else on the command line (flags) runs the server.
func subcommand(name string) subcommandFunc {
	switch name {
	case "version":
		return func(_ context.Context, _ []string, stdout, _ io.Writer) int { return cmdVersion(stdout) }
	case "config":
		return func(_ context.Context, args []string, stdout, stderr io.Writer) int {
			return cmdConfig(args, stdout, stderr)
		}
	case "ls":
		return cmdLs
	case "purge":
		return cmdPurge
	case "warm":
		return cmdWarm
	case "help":
		return func(_ context.Context, _ []string, stdout, _ io.Writer) int { usage(stdout); return 0 }
	}
	return nil
}

// runSubcommand runs the subcommand args name, if they name one.
func runSubcommand(args []string) (exitCode int, handled bool) {
	if len(args) == 0 {
		return 0, false
	}
	cmd := subcommand(args[0])
	if cmd == nil {
		return 0, false
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cmd(ctx, args[1:], os.Stdout, os.Stderr), true
}

func cmdVersion(stdout io.Writer) int {
	fmt.Fprintf(stdout, "s3cache %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `s3cache — a transparent caching proxy for Amazon S3

  s3cache [--config FILE] [--flag value …]   run the proxy (s3cache --help lists the flags)
  s3cache version                             print the version
  s3cache config check FILE                   validate FILE and print the effective configuration
  s3cache ls [bucket[/prefix]] --cache-dir DIR     list what is cached
  s3cache purge bucket[/prefix] --cache-dir DIR    drop cached objects (safe while s3cache runs)
  s3cache warm s3://bucket/prefix --endpoint URL   GET every object under prefix through s3cache
`)
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

// server is a cache under test: s3cache or nginx, with its own cache
// directory, reached through ep.
type server struct {
	name     string
	ep       *endpoint
	proc     *proc
	cacheDir string
}

// cpu is the CPU time the server's processes have used so far.
func (s *server) cpu() time.Duration { return treeCPU(s.proc.pid()) }

// peakRSS is the server's peak resident set so far (VmHWM).
func (s *server) peakRSS() int64 { return treeHWM(s.proc.pid()) }

// buildS3cache compiles ./cmd/s3cache into dir.
func buildS3cache(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "s3cache")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/s3cache")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/s3cache: %w\n%s", err, out)
	}
	return bin, nil
}

// startS3cache runs one s3cache instance in front of originAddr with a new
// cache directory under dir. extra are more flags (-s3cache-args).
func startS3cache(ctx context.Context, ps *procs, bin, name, dir, originAddr string, extra []string) (*server, error) {
	listen, err := freePort()
	if err != nil {
		return nil, err
	}
	health, err := freePort()
	if err != nil {
		return nil, err
	}
	cacheDir := filepath.Join(dir, name+"-cache")
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("s3cache cache dir: %w", err)
	}
	args := []string{bin,
		"--listen", fmt.Sprintf("127.0.0.1:%d", listen), "--listen-tls", "",
		"--health", fmt.Sprintf("127.0.0.1:%d", health), "--metrics", "", "--dashboard", "",
		"--cache-dir", cacheDir, "--origin", "http://" + originAddr, "--log-level", "warn"}
	p, err := ps.start(name, append(args, extra...), nil, dir)
	if err != nil {
		return nil, err
	}
	if err := waitUntil(ctx, p, 30*time.Second, httpOK(newHTTPClient(), fmt.Sprintf("http://127.0.0.1:%d/health", health))); err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", listen)
	return &server{name: "s3cache", ep: newEndpoint("s3cache", addr), proc: p, cacheDir: cacheDir}, nil
}

// nginxConf holds the fields of scripts/nginx-peer.conf.
type nginxConf struct {
	User     string
	Prefix   string
	CacheDir string
	MaxSize  string
	Listen   string
	Upstream string
}

// startNginx renders scripts/nginx-peer.conf into a prefix under dir and
// runs nginx in the foreground in front of originAddr.
func startNginx(ctx context.Context, ps *procs, root, name, dir, originAddr string) (*server, error) {
	tpl, err := template.ParseFiles(filepath.Join(root, "scripts", "nginx-peer.conf"))
	if err != nil {
		return nil, fmt.Errorf("nginx config template: %w", err)
	}
	listen, err := freePort()
	if err != nil {
		return nil, err
	}
	prefix := filepath.Join(dir, name)
	c := nginxConf{Prefix: prefix, CacheDir: filepath.Join(prefix, "cache"), MaxSize: "200g",
		Listen: fmt.Sprintf("127.0.0.1:%d", listen), Upstream: originAddr}
	if os.Geteuid() == 0 {
		c.User = "root root" // workers must reach the temp dirs the harness made
	}
	for _, d := range []string{prefix, c.CacheDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("nginx dirs: %w", err)
		}
	}
	var conf strings.Builder
	if err := tpl.Execute(&conf, c); err != nil {
		return nil, fmt.Errorf("render nginx config: %w", err)
	}
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		return nil, fmt.Errorf("write nginx config: %w", err)
	}
	p, err := ps.start(name, []string{"nginx", "-p", prefix, "-c", confPath, "-e", filepath.Join(prefix, "error.log")}, nil, prefix)
	if err != nil {
		return nil, err
	}
	ep := newEndpoint("nginx", c.Listen)
	ready := func(ctx context.Context) error { return dialOK(ctx, c.Listen) }
	if err := waitUntil(ctx, p, 15*time.Second, ready); err != nil {
		return nil, err
	}
	return &server{name: "nginx", ep: ep, proc: p, cacheDir: c.CacheDir}, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// proc is a child process started in a process group of its own, so that
// stopping it also stops whatever it started (nginx workers, the shell that
// execs versitygw).
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error
}

// pid returns the child's process id (the group id too).
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the child has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// procs starts children and stops them all, in reverse order, on stopAll.
// Every start is registered before it returns, so a failure half-way still
// stops what was started.
type procs struct {
	logDir string
	log    *slog.Logger

	mu   sync.Mutex
	list []*proc
}

func newProcs(logDir string, log *slog.Logger) *procs { return &procs{logDir: logDir, log: log} }

// start runs argv with env added to the environment, output to
// logDir/name.log.
func (ps *procs) start(name string, argv []string, env []string, dir string) (*proc, error) {
	logPath := filepath.Join(ps.logDir, name+".log")
	out, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	// Own group, killed with us if the harness dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	ps.log.Debug("started", "proc", name, "pid", p.pid(), "log", logPath)
	return p, nil
}

// stop ends p's process group: SIGTERM, then SIGKILL after a grace period.
func (ps *procs) stop(p *proc) {
	if p == nil {
		return
	}
	pgid := p.pid()
	start := time.Now()
	defer func() { ps.log.Debug("stopped", "proc", p.name, "took", time.Since(start)) }()
	if !p.exited() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			ps.log.Warn("did not stop on SIGTERM, killing", "proc", p.name)
		}
	}
	// The leader may be gone while members of its group live on.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
	ps.mu.Lock()
	for i, q := range ps.list {
		if q == p {
			ps.list = append(ps.list[:i], ps.list[i+1:]...)
			break
		}
	}
	ps.mu.Unlock()
}

// stopAll stops every child still registered, newest first.
func (ps *procs) stopAll() {
	for {
		ps.mu.Lock()
		n := len(ps.list)
		var p *proc
		if n > 0 {
			p = ps.list[n-1]
		}
		ps.mu.Unlock()
		if p == nil {
			return
		}
		ps.stop(p)
	}
}

// waitUntil polls ready every 50 ms until it returns nil, the process exits,
// or timeout passes.
func waitUntil(ctx context.Context, p *proc, timeout time.Duration, ready func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if last = ready(ctx); last == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited (%v); see %s", p.name, p.err, p.logPath)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	if last == nil {
		last = errors.New("no answer")
	}
	return fmt.Errorf("%s not ready after %v: %w (log %s)", p.name, timeout, last, p.logPath)
}

package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// warmProgress draws warm's progress: a bar redrawn in place on a
// terminal, a line every few seconds otherwise.
type warmProgress struct {
	w     io.Writer
	tty   bool
	every time.Duration
	stop  chan struct{}
	done  chan struct{}
}

func newWarmProgress(w io.Writer, every time.Duration) *warmProgress {
	p := &warmProgress{w: w, tty: isTerminal(w), every: every}
	if p.every <= 0 {
		p.every = 5 * time.Second
		if p.tty {
			p.every = 200 * time.Millisecond
		}
	}
	return p
}

func (p *warmProgress) start(sum *warmSummary) {
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				p.draw(sum, true)
				return
			case <-t.C:
				p.draw(sum, false)
			}
		}
	}()
}

// finish draws the final state and stops the drawing goroutine.
func (p *warmProgress) finish() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	<-p.done
}

func (p *warmProgress) draw(sum *warmSummary, last bool) {
	sum.mu.Lock()
	line := progressLine(sum.done, sum.listed, sum.bytes, sum.listBytes, sum.failed, sum.listDone, time.Since(sum.started))
	sum.mu.Unlock()
	switch {
	case p.tty && last:
		fmt.Fprintf(p.w, "\r%s\n", line)
	case p.tty:
		fmt.Fprintf(p.w, "\r%s", line)
	default:
		fmt.Fprintln(p.w, line)
	}
}

// progressLine renders "[#####-----] 50/100 objects 1.0 GiB/2.0 GiB 50 MiB/s".
func progressLine(done, listed, bytes, listBytes, failed int64, listDone bool, elapsed time.Duration) string {
	const width = 30
	filled := 0
	if listed > 0 {
		filled = int(width * done / listed)
	}
	total := fmt.Sprint(listed)
	if !listDone {
		total += "+" // still listing
	}
	rate := float64(bytes) / max(elapsed.Seconds(), 0.001)
	line := fmt.Sprintf("[%s%s] %d/%s objects  %s/%s  %s/s", strings.Repeat("#", filled), strings.Repeat("-", width-filled),
		done, total, humanBytes(bytes), humanBytes(listBytes), humanBytes(int64(rate)))
	if failed > 0 {
		line += fmt.Sprintf("  %d failed", failed)
	}
	return line
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

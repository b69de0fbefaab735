package main

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// echoServer answers each line with the line, on 127.0.0.1.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// dialLink starts a link with sh in front of an echo server and connects
// to it; both are closed when the test ends.
func dialLink(t *testing.T, sh shape) (*link, net.Conn) {
	t.Helper()
	l, err := startLink(t.Context(), echoServer(t), sh, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	c, err := net.Dial("tcp", l.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return l, c
}

func TestLinkForwardsCountsAndDelays(t *testing.T) {
	delay := 50 * time.Millisecond
	l, c := dialLink(t, shape{FirstByteDelay: delay, PerConnRate: 10 << 20, LinkRate: 20 << 20})
	r := bufio.NewReader(c)
	for _, msg := range []string{"hello\n", "again\n"} {
		start := time.Now()
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if got != msg {
			t.Fatalf("got %q, want %q", got, msg)
		}
		if took := time.Since(start); took < delay {
			t.Fatalf("answer after %v, before the first-byte delay %v", took, delay)
		}
	}
	if up, down := l.upBytes.Load(), l.downBytes.Load(); up != 12 || down != 12 {
		t.Fatalf("counted %d up, %d down; want 12 each", up, down)
	}
}

func TestLinkHalfClose(t *testing.T) {
	_, c := dialLink(t, shape{})
	payload := strings.Repeat("x", 300<<10)
	go func() {
		_, _ = io.WriteString(c, payload)
		_ = c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(payload) {
		t.Fatalf("echoed %d bytes, want %d", len(got), len(payload))
	}
}

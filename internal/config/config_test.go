package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s3cache.yaml")
	yaml := "listen: 127.0.0.1:9000\ncache_dir: /from/file\nhead_ttl: 5m\nvirtual_host_domains: [s3.local]\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load("s3cache", []string{"--config", file, "--cache-dir", "/from/flag", "--get-ttl=30"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9000" {
		t.Errorf("listen = %q, want the file's value", c.Listen)
	}
	if c.CacheDir != "/from/flag" {
		t.Errorf("cache_dir = %q, want the flag to win over the file", c.CacheDir)
	}
	if c.HeadTTL.D() != 5*time.Minute || c.GetTTL.D() != 30*time.Second {
		t.Errorf("ttls = %v/%v, want 30s/5m", c.GetTTL, c.HeadTTL)
	}
	if len(c.VirtualHostDomains) != 1 || c.VirtualHostDomains[0] != "s3.local" {
		t.Errorf("virtual_host_domains = %v", c.VirtualHostDomains)
	}
}

func TestLoadRejectsUnknownKeysAndBadValues(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(file, []byte("cache_dri: /x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("s3cache", []string{"--config", file}); err == nil {
		t.Error("a misspelt key was accepted")
	}
	if _, err := Load("s3cache", []string{"--origin", "ftp://x"}); err == nil {
		t.Error("an ftp origin was accepted")
	}
	if _, err := Load("s3cache", []string{"--head-ttl", "soon"}); err == nil {
		t.Error("a bad duration was accepted")
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"4096": 4096, "1KiB": 1024, "1.5MiB": 3 << 19, "10GB": 10e9, "2g": 2 << 30} {
		var b ByteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("ByteSize(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
}

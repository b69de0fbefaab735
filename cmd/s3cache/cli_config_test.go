package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3cache/s3cache/internal/config"
)

func TestConfigCheckPrintsEffectiveConfigThatLoadsBack(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s3cache.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:8000\nget_ttl: 1h\nvirtual_host_domains: [s3.local, s3.test]\n"), 0o600)
	var out, errb bytes.Buffer
	if code := cmdConfig([]string{"check", file, "--head-ttl", "90s"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"listen: 127.0.0.1:8000", "get_ttl: 1h0m0s", "head_ttl: 1m30s", "virtual_host_domains: [s3.local, s3.test]", "max_concurrent_requests: 1000"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("effective config lacks %q:\n%s", want, out.String())
		}
	}
	printed := filepath.Join(dir, "printed.yaml")
	os.WriteFile(printed, out.Bytes(), 0o600)
	back, err := config.Load("s3cache", []string{"--config", printed})
	if err != nil {
		t.Fatalf("the printed config does not load: %v\n%s", err, out.String())
	}
	orig, _ := config.Load("s3cache", []string{"--config", file, "--head-ttl", "90s"})
	if changes := configChanges(orig, back); len(changes) != 0 {
		t.Errorf("printing and loading changed %+v", changes)
	}

	os.WriteFile(file, []byte("cache_dri: /x\n"), 0o600)
	out.Reset()
	errb.Reset()
	if code := cmdConfig([]string{"check", file}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "cache_dri") {
		t.Errorf("a misspelt key: exit %d, %s", code, errb.String())
	}
	if code := cmdConfig(nil, &out, &errb); code != 2 {
		t.Errorf("no arguments: exit %d", code)
	}
}

func TestVersionAndUnknownSubcommand(t *testing.T) {
	var out bytes.Buffer
	if code := subcommand("version")(context.Background(), nil, &out, &out); code != 0 || !strings.HasPrefix(out.String(), "s3cache ") {
		t.Errorf("version: %d %q", code, out.String())
	}
	if subcommand("--listen") != nil || subcommand("serve") != nil {
		t.Error("a flag or unknown word was taken for a subcommand")
	}
}

func TestConfigChangesListsDifferences(t *testing.T) {
	a := config.Default()
	b := a
	b.LogLevel = "debug"
	b.EndpointOverrides = config.HostOverrides{"b": {"2"}, "a": {"1"}}
	changes := configChanges(a, b)
	if len(changes) != 2 || changes[0].key != "endpoint_overrides" || changes[0].new != "a=1;b=2" || changes[1].key != "log_level" {
		t.Errorf("changes = %+v", changes)
	}
}

package main

import (
	"context"
	"slices"

	"github.com/s3cache/s3cache/internal/config"
)

// watchReload reloads the configuration on each SIGHUP until ctx ends. A
// SIGHUP that arrived during start-up is handled now.
func (o *operations) watchReload(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.hup:
			o.reload()
		}
	}
}

// reload reads the file and flags again, logs each changed setting, and
// hands the new settings to the registered reloaders. Settings no reloader
// applies are logged as needing a restart. A configuration that does not
// load or validate is refused whole: the running one stays.
func (o *operations) reload() {
	next, err := config.Load("s3cache", o.args)
	o.metrics.ConfigReloaded(err)
	if err != nil {
		o.log.Error("config reload failed; keeping the running configuration", "err", err)
		return
	}
	o.mu.Lock()
	prev := o.cfg
	o.cfg = next
	reloaders := slices.Clone(o.reloaders)
	o.mu.Unlock()

	live := map[string]bool{}
	for _, r := range reloaders {
		for _, k := range r.keys {
			live[k] = true
		}
	}
	changes := configChanges(prev, next)
	for _, c := range changes {
		if live[c.key] {
			o.log.Info("config changed", "key", c.key, "old", c.old, "new", c.new)
		} else {
			o.log.Warn("config changed but needs a restart to take effect", "key", c.key, "old", c.old, "new", c.new)
		}
	}
	for _, r := range reloaders {
		r.apply(next)
	}
	o.log.Info("config reloaded", "changes", len(changes))
}

// configChange is one setting that differs between two configurations.
type configChange struct{ key, old, new string }

func configChanges(a, b config.Config) []configChange {
	var out []configChange
	bv := configFields(b)
	for i, f := range configFields(a) {
		if f.text != bv[i].text {
			out = append(out, configChange{key: f.key, old: f.text, new: bv[i].text})
		}
	}
	return out
}

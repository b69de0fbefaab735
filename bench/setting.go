package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// world is what every setting shares: the origin with its objects, the
// built s3cache, the plan.
type world struct {
	root     string // repository root
	work     string // temp dir for this run
	plan     plan
	ps       *procs
	log      *slog.Logger
	origin   *origin
	s3cache  string // binary
	extra    []string
	material randomBlock
	notes    *[]string
}

// note records a remark for the report and the log.
func (w *world) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.log.Warn(msg)
	*w.notes = append(*w.notes, msg)
}

// Keys of the objects uploaded once for the whole run.
func baseKey(size int64) string { return "obj/" + sizeText(size) }
func herdBaseKey(j int) string  { return fmt.Sprintf("herdbase/%d", j) }

// uploadBase puts every base object at the origin, straight (not through
// the link: setting up is not measured).
func (w *world) uploadBase(ctx context.Context) error {
	seen := map[int64]bool{}
	var sizes []int64
	for _, s := range append(append(append([]int64{}, w.plan.SingleSizes...), w.plan.ManySizes...), w.plan.RSSSize) {
		if !seen[s] {
			seen[s] = true
			sizes = append(sizes, s)
		}
	}
	for i, s := range sizes {
		if err := w.origin.upload(ctx, w.material, baseKey(s), int64(i)*7919, s); err != nil {
			return err
		}
	}
	for j, s := range w.plan.HerdSizes {
		if err := w.origin.upload(ctx, w.material, herdBaseKey(j), int64(j+100)*104729, s); err != nil {
			return err
		}
	}
	return nil
}

// settingRun is one setting in progress: a link in front of the origin and
// one s3cache and one nginx behind it.
type settingRun struct {
	*world
	set    setting
	link   *link
	direct *endpoint
	s3c    *server
	ngx    *server
	res    *settingResult
	usage  map[string]*resources // by work kind
	// nginxForgotten counts the nginx cache files forget removed: none at
	// all means nginxCacheFiles no longer matches the nginx config.
	nginxForgotten int
}

// runSetting starts the setting's processes, runs every scenario and stops
// them again.
func (w *world) runSetting(ctx context.Context, set setting) (settingResult, error) {
	res := settingResult{Setting: set}
	dir := filepath.Join(w.work, "setting-"+set.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, fmt.Errorf("setting dir: %w", err)
	}
	defer os.RemoveAll(dir)
	ln, err := startLink(ctx, w.origin.addr, set.Shape, w.log)
	if err != nil {
		return res, err
	}
	defer ln.Close()
	s3c, err := startS3cache(ctx, w.ps, w.s3cache, "s3cache-"+set.Name, dir, ln.addr, w.extra)
	if err != nil {
		return res, err
	}
	defer w.ps.stop(s3c.proc)
	ngx, err := startNginx(ctx, w.ps, w.root, "nginx-"+set.Name, dir, ln.addr)
	if err != nil {
		return res, err
	}
	defer w.ps.stop(ngx.proc)
	r := &settingRun{world: w, set: set, link: ln, direct: newEndpoint(direct, ln.addr), s3c: s3c, ngx: ngx, res: &res,
		usage: map[string]*resources{}}
	defer func() { // let the servers drain at once when they are stopped
		for _, ep := range []*endpoint{r.direct, s3c.ep, ngx.ep} {
			ep.http.CloseIdleConnections()
		}
	}()
	w.log.Info("setting", "name", set.Name, "shape", set.Shape.String(), "s3cache", s3c.ep.addr, "nginx", ngx.ep.addr, "link", ln.addr)

	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"single-stream GET", r.singleStream},
		{"many clients", r.manyClients},
		{"herd", r.herd},
		{"PUT", r.puts},
	}
	for _, st := range steps {
		start := time.Now()
		if err := st.run(ctx); err != nil {
			return res, fmt.Errorf("setting %s, %s: %w", set.Name, st.name, err)
		}
		w.log.Info("scenario done", "setting", set.Name, "scenario", st.name, "took", time.Since(start).Round(time.Second))
	}
	if r.nginxForgotten == 0 {
		w.note("setting %s: removed no nginx cache files: nginxCacheFiles does not match scripts/nginx-peer.conf, and nginx's cache kept growing", set.Name)
	}
	r.collectResources()
	if set.Shape == (shape{}) {
		rss, err := r.rssStress(ctx, dir)
		if err != nil {
			return res, fmt.Errorf("setting %s, RSS stress: %w", set.Name, err)
		}
		res.RSS = rss
	}
	return res, nil
}

// account adds a measurement's CPU time and bytes to a kind of work.
func (r *settingRun) account(srv *server, work string, cpu time.Duration, bytes int64) {
	u := r.usage[work]
	if u == nil {
		u = &resources{Server: srv.name, Work: work}
		r.usage[work] = u
	}
	u.CPUSeconds += cpu.Seconds()
	u.ServedBytes += bytes
}

// collectResources turns the accounts into the result, with each server's
// peak RSS.
func (r *settingRun) collectResources() {
	peaks := map[string]int64{"s3cache": r.s3c.peakRSS(), "nginx": r.ngx.peakRSS()}
	works := slices.Sorted(maps.Keys(r.usage))
	for _, srv := range []string{"s3cache", "nginx"} {
		for _, work := range works {
			u := r.usage[work]
			if u.Server != srv {
				continue
			}
			if u.ServedBytes > 0 {
				u.CPUSecPerGiB = u.CPUSeconds / (float64(u.ServedBytes) / gib)
			}
			r.res.Resources = append(r.res.Resources, *u)
		}
		r.res.Resources = append(r.res.Resources, resources{Server: srv, Work: "peak RSS over the setting", PeakRSSBytes: peaks[srv]})
	}
}

package observe

import (
	"log/slog"
	"sync"
	"time"
)

// AccessLogConfig configures the access log; an empty Dir turns it off.
type AccessLogConfig struct {
	RotateConfig
	// FlushEvery is how often buffered lines reach the file.
	FlushEvery time.Duration
}

// AccessLog is a Sink writing one S3 server-access-log line per request to
// a rotating file, buffered and flushed periodically.
type AccessLog struct {
	file *RotatingFile
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}

	mu        sync.Mutex
	lastWarn  time.Time
	failCount int
}

// OpenAccessLog opens the log and starts its flusher; nil, nil when
// cfg.Dir is empty. Close it to flush and stop.
func OpenAccessLog(cfg AccessLogConfig, log *slog.Logger) (*AccessLog, error) {
	if cfg.Dir == "" {
		return nil, nil
	}
	f, err := OpenRotating(cfg.RotateConfig)
	if err != nil {
		return nil, err
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = time.Second
	}
	a := &AccessLog{file: f, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	go a.flushLoop(cfg.FlushEvery)
	return a, nil
}

func (a *AccessLog) flushLoop(every time.Duration) {
	defer close(a.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			if err := a.file.Flush(); err != nil {
				a.warn(err)
			}
		}
	}
}

// Started implements Sink.
func (a *AccessLog) Started(*Record) {}

// Finished implements Sink.
func (a *AccessLog) Finished(rec *Record) {
	if a == nil {
		return
	}
	if _, err := a.file.Write(FormatAccessLog(rec)); err != nil {
		a.warn(err)
	}
}

// warn reports write failures at most once a minute, with how many there were.
func (a *AccessLog) warn(err error) {
	a.mu.Lock()
	a.failCount++
	if time.Since(a.lastWarn) < time.Minute {
		a.mu.Unlock()
		return
	}
	n := a.failCount
	a.failCount, a.lastWarn = 0, time.Now()
	a.mu.Unlock()
	a.log.Warn("access log write failed", "err", err, "failures", n)
}

// Close stops the flusher and flushes what is buffered.
func (a *AccessLog) Close() error {
	if a == nil {
		return nil
	}
	close(a.stop)
	<-a.done
	return a.file.Close()
}

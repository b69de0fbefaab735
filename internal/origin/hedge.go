package origin

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Resilience tunes how the client copes with a slow or flaky origin.
type Resilience struct {
	// HedgeAfter, when positive, sends a second copy of a GET or HEAD whose
	// answer has not started after this long; the first answer wins and the
	// other request is cancelled. S3's tail latency is mostly one slow
	// server, so a second try on a fresh connection usually lands fast.
	HedgeAfter time.Duration
	// HedgeFraction bounds hedges to this share of requests (0.1 = 10%),
	// so a slow origin is not hit twice as hard.
	HedgeFraction float64
	// IdleTimeout aborts a response body that delivers nothing for this
	// long while being read, rather than letting the client hang. Time the
	// reader spends elsewhere (a slow client) does not count.
	IdleTimeout time.Duration
	// Retries is how many times a GET or HEAD that failed before any answer
	// arrived is sent again.
	Retries int
}

// hedgeBudget counts requests and hedges for the HedgeFraction bound.
type hedgeBudget struct {
	requests, hedges atomic.Int64
}

// allow reserves a hedge if the fraction allows one more.
func (b *hedgeBudget) allow(fraction float64) bool {
	if float64(b.hedges.Load()+1) > fraction*float64(max(b.requests.Load(), 1)) {
		return false
	}
	b.hedges.Add(1)
	return true
}

// HedgeStats reports requests sent and hedges issued.
func (c *Client) HedgeStats() (requests, hedges int64) {
	return c.budget.requests.Load(), c.budget.hedges.Load()
}

// safeToRepeat reports whether req may be sent twice.
func safeToRepeat(req *http.Request) bool {
	return (req.Method == http.MethodGet || req.Method == http.MethodHead) && (req.Body == nil || req.Body == http.NoBody)
}

// roundTripResilient sends req with connection retries, hedging and an idle
// watchdog on the body, as configured.
func (c *Client) roundTripResilient(req *http.Request) (*http.Response, error) {
	c.budget.requests.Add(1)
	if !safeToRepeat(req) {
		return c.watch(req)
	}
	var resp *http.Response
	var err error
	for try := 0; try <= c.res.Retries; try++ {
		if after := c.hedgeAfter(req.Context()); after > 0 {
			resp, err = c.hedged(req, after)
		} else {
			resp, err = c.watch(req)
		}
		if err == nil || req.Context().Err() != nil || !retryable(err) {
			return resp, err
		}
	}
	return resp, err
}

// retryable reports failures that happened before S3 answered: refused or
// reset connections, timeouts waiting for the answer.
func retryable(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// attempt is one copy of a hedged request.
type attempt struct {
	n      int
	resp   *http.Response
	err    error
	cancel context.CancelFunc
}

// hedgeAfterKey carries a per-request HedgeAfter in a context.
type hedgeAfterKey struct{}

// WithHedgeAfter makes requests sent with ctx hedge after d (0: never),
// instead of after Resilience.HedgeAfter: the setting of a per-bucket or
// per-prefix rule.
func WithHedgeAfter(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, hedgeAfterKey{}, d)
}

// HedgeAfter is when requests are hedged unless their context says
// otherwise (Resilience.HedgeAfter; 0: never).
func (c *Client) HedgeAfter() time.Duration { return c.res.HedgeAfter }

// hedgeAfter is when a request sent with ctx is hedged (0: never).
func (c *Client) hedgeAfter(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(hedgeAfterKey{}).(time.Duration); ok {
		return d
	}
	return c.res.HedgeAfter
}

// hedged races req against a copy sent after later.
func (c *Client) hedged(req *http.Request, after time.Duration) (*http.Response, error) {
	results := make(chan attempt, 2)
	var cancels []context.CancelFunc
	launch := func() {
		ctx, cancel := context.WithCancel(req.Context())
		n := len(cancels)
		cancels = append(cancels, cancel)
		go func() {
			resp, err := c.watch(req.Clone(ctx))
			results <- attempt{n: n, resp: resp, err: err, cancel: cancel}
		}()
	}
	launch()
	timer := time.NewTimer(after)
	defer timer.Stop()
	var lastErr error
	for pending := 1; pending > 0; {
		select {
		case <-timer.C:
			if c.budget.allow(c.res.HedgeFraction) {
				launch()
				pending++
			}
		case a := <-results:
			pending--
			if a.err != nil {
				a.cancel()
				lastErr = a.err
				continue
			}
			for i, cancel := range cancels {
				if i != a.n {
					cancel() // the loser stops at once
				}
			}
			go closeLosers(results, pending)
			a.resp.Body = &cancelOnClose{ReadCloser: a.resp.Body, cancel: a.cancel}
			return a.resp, nil
		}
	}
	return nil, lastErr
}

// closeLosers closes answers that lost the race and arrive anyway.
func closeLosers(results <-chan attempt, n int) {
	for ; n > 0; n-- {
		if a := <-results; a.resp != nil {
			a.resp.Body.Close()
		}
	}
}

// cancelOnClose releases a request's context along with its body.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
	once   sync.Once
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.once.Do(c.cancel)
	return err
}

// watch sends req and arms the idle watchdog on its body.
func (c *Client) watch(req *http.Request) (*http.Response, error) {
	if c.res.IdleTimeout <= 0 {
		return c.rt.RoundTrip(req)
	}
	ctx, cancel := context.WithCancel(req.Context())
	resp, err := c.rt.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &idleBody{ReadCloser: resp.Body, idle: c.res.IdleTimeout, cancel: cancel}
	return resp, nil
}

// ErrIdle means the origin stopped sending a body mid-way.
var ErrIdle = errors.New("origin: response body idle for too long")

// idleBody cancels its request when one Read waits longer than idle.
type idleBody struct {
	io.ReadCloser
	idle   time.Duration
	cancel context.CancelFunc
	fired  atomic.Bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	t := time.AfterFunc(b.idle, func() { b.fired.Store(true); b.cancel() })
	n, err := b.ReadCloser.Read(p)
	t.Stop()
	if err != nil && b.fired.Load() {
		err = ErrIdle
	}
	return n, err
}

func (b *idleBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

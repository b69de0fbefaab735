package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/s3cache/s3cache/internal/config"
)

// startTLSProxy starts the TLS-terminating forward-proxy listener
// (listen_tls_proxy): clients set HTTP_PROXY=https://host:port, speak TLS
// to s3cache, and the plain-HTTP S3 requests inside reach h, the handler
// of the plain forward-proxy listener. h serves absolute-form requests
// through the cache and hands CONNECT to the tunnel (port 443 only, the
// destination policy applies).
//
// The listener is optional: when it cannot start (no or bad certificate,
// bind error) the reason is logged and the other listeners carry on. The
// certificate and key are read again on each SIGHUP; a pair that does not
// load keeps the previous one. The returned function stops the listener
// and drains its requests within ctx; it is safe to call when nothing was
// started. Tunnels opened through CONNECT are hijacked connections that
// the tunnel handler's own Shutdown ends.
func startTLSProxy(ctx context.Context, cfg config.Config, h http.Handler, log *slog.Logger) (shutdown func(context.Context)) {
	if cfg.ListenTLSProxy == "" {
		return func(context.Context) {}
	}
	log = log.With("listener", "tls proxy")
	p, err := listenTLSProxy(ctx, cfg, h, log)
	if err != nil {
		log.Error("listener not started; the others run", "addr", cfg.ListenTLSProxy, "err", err)
		return func(context.Context) {}
	}
	log.Info("listening", "addr", p.addr.String())
	return p.shutdown
}

// tlsProxy is a running TLS proxy listener.
type tlsProxy struct {
	addr       net.Addr
	srv        *http.Server
	certs      *certFiles
	stopReload func()
	log        *slog.Logger
}

// listenTLSProxy loads the certificate, binds cfg.ListenTLSProxy and serves
// h on it until shutdown.
func listenTLSProxy(ctx context.Context, cfg config.Config, h http.Handler, log *slog.Logger) (*tlsProxy, error) {
	certs, err := loadCertFiles(cfg.TLSProxyCert, cfg.TLSProxyKey)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.ListenTLSProxy)
	if err != nil {
		return nil, fmt.Errorf("tls proxy listener: %w", err)
	}
	srv := newListenerServer(h, log)
	srv.TLSConfig = &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: certs.get,
		// HTTP/1.1 only: CONNECT hijacks the connection, and forward-proxy
		// clients speak HTTP/1.1 to their proxy anyway.
		NextProtos: []string{"http/1.1"},
	}
	srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	go func() {
		if err := srv.Serve(tls.NewListener(ln, srv.TLSConfig)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("listener failed", "err", err)
		}
	}()
	return &tlsProxy{addr: ln.Addr(), srv: srv, certs: certs, stopReload: reloadCertsOnHangup(ctx, certs, log), log: log}, nil
}

// shutdown stops the SIGHUP watcher and drains the listener within ctx.
func (p *tlsProxy) shutdown(ctx context.Context) {
	p.stopReload()
	if err := p.srv.Shutdown(ctx); err != nil {
		p.log.Warn("drain incomplete", "err", err)
	}
}

// newListenerServer is the http.Server settings every s3cache listener
// shares: bounded header size and read time, idle keep-alives closed after
// two minutes, net/http's own complaints logged at debug.
func newListenerServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

// reloadCertsOnHangup reads the certificate files again on each SIGHUP
// until ctx ends or the returned stop is called. It listens with a channel
// of its own, so the configuration reload sees every SIGHUP too.
func reloadCertsOnHangup(ctx context.Context, certs *certFiles, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-hup:
				if err := certs.reload(); err != nil {
					log.Error("certificate not reloaded; keeping the previous one", "err", err)
				} else {
					log.Info("certificate reloaded", "cert", certs.certPath)
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(hup)
			close(done)
			<-finished
		})
	}
}

// certFiles is a certificate and key read from PEM files, swapped whole on
// reload so that handshakes never see half of a change.
type certFiles struct {
	certPath, keyPath string
	current           atomic.Pointer[tls.Certificate]
}

// loadCertFiles reads the pair once; both paths are required.
func loadCertFiles(certPath, keyPath string) (*certFiles, error) {
	if certPath == "" || keyPath == "" {
		return nil, errors.New("tls_proxy_cert and tls_proxy_key are both required")
	}
	c := &certFiles{certPath: certPath, keyPath: keyPath}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload reads the files again; on error the previous pair stays.
func (c *certFiles) reload() error {
	pair, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
	if err != nil {
		return fmt.Errorf("tls proxy certificate %s / key %s: %w", c.certPath, c.keyPath, err)
	}
	c.current.Store(&pair)
	return nil
}

// get is tls.Config.GetCertificate.
func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.current.Load(), nil
}

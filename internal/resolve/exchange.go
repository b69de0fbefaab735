package resolve

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// maxUDPReplies bounds how many non-matching packets one UDP exchange reads
// before giving up on the server.
const maxUDPReplies = 16

// exchange asks one server for (name, qtype): over UDP first, over TCP when
// the UDP answer is truncated.
func (r *Resolver) exchange(ctx context.Context, server string, name dnsmessage.Name, qtype dnsmessage.Type) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.QueryTimeout)
	defer cancel()

	id, err := randomID()
	if err != nil {
		return answer{}, err
	}
	query, err := buildQuery(id, name, qtype)
	if err != nil {
		return answer{}, fmt.Errorf("build query for %s: %w", name, err)
	}
	ans, err := r.exchangeUDP(ctx, server, query, id, name, qtype)
	if err != nil || !ans.truncated {
		return ans, err
	}
	ans, err = r.exchangeTCP(ctx, server, query, id, name, qtype)
	if err == nil && ans.truncated {
		return answer{}, fmt.Errorf("truncated answer over TCP: %w", errServerFailed)
	}
	return ans, err
}

func (r *Resolver) exchangeUDP(ctx context.Context, server string, query []byte, id uint16, name dnsmessage.Name, qtype dnsmessage.Type) (answer, error) {
	conn, done, err := r.dialDNS(ctx, "udp", server)
	if err != nil {
		return answer{}, err
	}
	defer done()
	if _, err := conn.Write(query); err != nil {
		return answer{}, fmt.Errorf("send to %s: %w", server, err)
	}
	buf := make([]byte, 4096)
	for range maxUDPReplies {
		n, err := conn.Read(buf)
		if err != nil {
			return answer{}, fmt.Errorf("read from %s: %w", server, contextErr(ctx, err))
		}
		ans, err := parseResponse(buf[:n], id, name, qtype)
		if errors.Is(err, errMismatch) {
			continue
		}
		return ans, err
	}
	return answer{}, fmt.Errorf("no matching reply from %s: %w", server, errServerFailed)
}

func (r *Resolver) exchangeTCP(ctx context.Context, server string, query []byte, id uint16, name dnsmessage.Name, qtype dnsmessage.Type) (answer, error) {
	conn, done, err := r.dialDNS(ctx, "tcp", server)
	if err != nil {
		return answer{}, err
	}
	defer done()
	framed := make([]byte, 2+len(query))
	binary.BigEndian.PutUint16(framed, uint16(len(query)))
	copy(framed[2:], query)
	if _, err := conn.Write(framed); err != nil {
		return answer{}, fmt.Errorf("send to %s over tcp: %w", server, err)
	}
	var size [2]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		return answer{}, fmt.Errorf("read from %s over tcp: %w", server, contextErr(ctx, err))
	}
	msg := make([]byte, binary.BigEndian.Uint16(size[:]))
	if _, err := io.ReadFull(conn, msg); err != nil {
		return answer{}, fmt.Errorf("read from %s over tcp: %w", server, contextErr(ctx, err))
	}
	ans, err := parseResponse(msg, id, name, qtype)
	if errors.Is(err, errMismatch) {
		return answer{}, fmt.Errorf("reply from %s over tcp: %w", server, errServerFailed)
	}
	return ans, err
}

// dialDNS connects to a DNS server with ctx's deadline on the connection
// and cancellation interrupting its I/O; done closes it.
func (r *Resolver) dialDNS(ctx context.Context, network, server string) (conn net.Conn, done func(), err error) {
	conn, err = r.cfg.DNSDial(ctx, network, server)
	if err != nil {
		return nil, nil, fmt.Errorf("dial %s %s: %w", network, server, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := interruptOnCancel(ctx, conn)
	return conn, func() {
		stop()
		conn.Close()
	}, nil
}

// interruptOnCancel expires conn's deadline when ctx is cancelled, so a blocked read
// returns; the returned func stops the watch.
func interruptOnCancel(ctx context.Context, conn net.Conn) func() bool {
	return context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
}

// contextErr prefers the context's error over the I/O error it caused.
func contextErr(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return err
}

func randomID() (uint16, error) {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("random query id: %w", err)
	}
	return binary.BigEndian.Uint16(b[:]), nil
}

package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// maxPeekBytes bounds what PeekClientHello buffers: the largest
// ClientHello plus generous room for record headers of a fragmented one.
const maxPeekBytes = MaxClientHelloSize + 16<<10

// PeekClientHello reads from conn until it holds a complete ClientHello and
// returns its server name together with every byte read, which the caller
// must send upstream before anything else. Reading stops at ctx's deadline
// or cancellation; the connection's read deadline is cleared afterwards.
func PeekClientHello(ctx context.Context, conn net.Conn) (serverName string, hello []byte, err error) {
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetReadDeadline(deadline); err != nil {
			return "", nil, fmt.Errorf("set read deadline: %w", err)
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer func() {
		stop()
		_ = conn.SetReadDeadline(time.Time{})
	}()

	buf := make([]byte, 0, 2048)
	for {
		if len(buf) == cap(buf) {
			if cap(buf) >= maxPeekBytes {
				return "", buf, fmt.Errorf("read %d bytes without a complete ClientHello: %w", len(buf), ErrTooLarge)
			}
			buf = append(make([]byte, 0, min(2*cap(buf), maxPeekBytes)), buf...)
		}
		n, readErr := conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if n > 0 {
			serverName, err := ParseClientHello(buf)
			if !errors.Is(err, ErrIncomplete) {
				return serverName, buf, err
			}
		}
		if readErr != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				readErr = ctxErr
			}
			if errors.Is(readErr, io.EOF) {
				readErr = io.ErrUnexpectedEOF
			}
			return "", buf, fmt.Errorf("read ClientHello after %d bytes: %w", len(buf), readErr)
		}
	}
}

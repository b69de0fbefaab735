package tunnel

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"net"
	"testing"
	"time"
)

// captureClientHello returns the bytes crypto/tls's client writes first:
// its ClientHello, as records.
func captureClientHello(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	clientEnd, proxyEnd := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tls.Client(clientEnd, cfg).HandshakeContext(ctx) // fails once we hang up
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, hello, err := PeekClientHello(ctx, proxyEnd)
	proxyEnd.Close()
	clientEnd.Close()
	<-done
	if err != nil {
		t.Fatalf("capture ClientHello: %v", err)
	}
	return hello
}

// helloSpec describes a hand-built ClientHello.
type helloSpec struct {
	serverNames  []string // host_name entries of one server_name extension
	sniTwice     bool     // repeat the server_name extension
	paddingBytes int      // size of a padding extension (type 21)
	noExtensions bool
}

// buildClientHello encodes the handshake message (header included) for spec.
func buildClientHello(spec helloSpec) []byte {
	var body []byte
	body = append(body, 3, 3)                // legacy_version TLS 1.2
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // empty session id
	body = append(body, 0, 2, 0x13, 0x01)    // one cipher suite
	body = append(body, 1, 0)                // null compression
	if !spec.noExtensions {
		var exts []byte
		if spec.serverNames != nil {
			var list []byte
			for _, n := range spec.serverNames {
				list = append(list, serverNameTypeHost)
				list = binary.BigEndian.AppendUint16(list, uint16(len(n)))
				list = append(list, n...)
			}
			ext := binary.BigEndian.AppendUint16(nil, uint16(len(list)))
			ext = append(ext, list...)
			for range 1 + btoi(spec.sniTwice) {
				exts = binary.BigEndian.AppendUint16(exts, extensionServerName)
				exts = binary.BigEndian.AppendUint16(exts, uint16(len(ext)))
				exts = append(exts, ext...)
			}
		}
		if spec.paddingBytes > 0 {
			exts = binary.BigEndian.AppendUint16(exts, 21)
			exts = binary.BigEndian.AppendUint16(exts, uint16(spec.paddingBytes))
			exts = append(exts, make([]byte, spec.paddingBytes)...)
		}
		body = binary.BigEndian.AppendUint16(body, uint16(len(exts)))
		body = append(body, exts...)
	}
	msg := []byte{handshakeClientHello, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	return append(msg, body...)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// toRecords splits a handshake message into handshake records of at most
// size payload bytes.
func toRecords(msg []byte, size int) []byte {
	var out []byte
	for len(msg) > 0 {
		n := min(size, len(msg))
		out = append(out, recordTypeHandshake, 3, 1, byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

// recordsToMessage undoes toRecords for well-formed input.
func recordsToMessage(records []byte) []byte {
	var msg []byte
	for len(records) >= recordHeaderLen {
		n := int(records[3])<<8 | int(records[4])
		msg = append(msg, records[recordHeaderLen:recordHeaderLen+n]...)
		records = records[recordHeaderLen+n:]
	}
	return msg
}

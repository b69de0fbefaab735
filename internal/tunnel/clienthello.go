package tunnel

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/s3cache/s3cache/internal/policy"
)

const (
	recordTypeHandshake  = 22
	recordHeaderLen      = 5
	maxRecordPayload     = 1 << 14 // TLSPlaintext.length limit (RFC 8446 §5.1)
	handshakeHeaderLen   = 4
	handshakeClientHello = 1
	extensionServerName  = 0
	serverNameTypeHost   = 0

	// MaxClientHelloSize bounds the ClientHello handshake message accepted.
	// Real ones are well under 2 KiB (about 1.8 KiB with a post-quantum key
	// share); twice a full record leaves room for padding and future key
	// shares.
	MaxClientHelloSize = 2 * maxRecordPayload
)

var (
	// ErrIncomplete means the bytes end before the ClientHello does: read
	// more and parse again.
	ErrIncomplete = errors.New("tls: incomplete ClientHello")
	// ErrNotTLS means the bytes do not start a TLS handshake (plain HTTP,
	// SSLv2, anything else).
	ErrNotTLS = errors.New("tls: not a TLS handshake")
	// ErrTooLarge means the ClientHello exceeds MaxClientHelloSize.
	ErrTooLarge = errors.New("tls: ClientHello too large")
	// ErrMalformed means the ClientHello breaks the TLS encoding rules.
	ErrMalformed = errors.New("tls: malformed ClientHello")
)

// ParseClientHello reads the TLS records at the start of data, reassembles
// the ClientHello they carry and returns its server_name host name, lower
// case ("" when the client sent none). It returns ErrIncomplete when data
// stops short of the end of the ClientHello, and ErrNotTLS, ErrTooLarge or
// ErrMalformed (possibly wrapped) when the bytes cannot be a ClientHello
// within bounds. Bytes after the ClientHello are ignored.
func ParseClientHello(data []byte) (serverName string, err error) {
	var msg []byte
	rest := data
	for {
		if len(rest) == 0 {
			return "", ErrIncomplete
		}
		if rest[0] != recordTypeHandshake {
			if msg == nil {
				return "", ErrNotTLS
			}
			return "", fmt.Errorf("record type %d inside the ClientHello: %w", rest[0], ErrMalformed)
		}
		if len(rest) >= 2 && rest[1] != 3 {
			return "", ErrNotTLS
		}
		if len(rest) < recordHeaderLen {
			return "", ErrIncomplete
		}
		n := int(rest[3])<<8 | int(rest[4])
		if n == 0 || n > maxRecordPayload {
			return "", fmt.Errorf("record length %d: %w", n, ErrMalformed)
		}
		if len(rest) < recordHeaderLen+n {
			// Check the handshake header as early as possible, so a bad or
			// huge message fails before we wait for all of it.
			if err := checkHandshakeHeader(append(msg, rest[recordHeaderLen:]...)); err != nil {
				return "", err
			}
			return "", ErrIncomplete
		}
		msg = append(msg, rest[recordHeaderLen:recordHeaderLen+n]...)
		rest = rest[recordHeaderLen+n:]
		if err := checkHandshakeHeader(msg); err != nil {
			return "", err
		}
		if len(msg) < handshakeHeaderLen {
			continue
		}
		bodyLen := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
		if len(msg) >= handshakeHeaderLen+bodyLen {
			return parseClientHelloBody(msg[handshakeHeaderLen : handshakeHeaderLen+bodyLen])
		}
	}
}

// checkHandshakeHeader validates as much of the handshake header as msg
// holds: the message type and its length bound.
func checkHandshakeHeader(msg []byte) error {
	if len(msg) >= 1 && msg[0] != handshakeClientHello {
		return fmt.Errorf("handshake type %d: %w", msg[0], ErrNotTLS)
	}
	if len(msg) >= handshakeHeaderLen {
		if n := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3]); n > MaxClientHelloSize {
			return fmt.Errorf("%d bytes: %w", n, ErrTooLarge)
		}
	}
	return nil
}

// parseClientHelloBody walks a ClientHello (RFC 8446 §4.1.2, RFC 5246
// §7.4.1.2) to its extensions and returns the server_name host.
func parseClientHelloBody(body []byte) (string, error) {
	r := byteReader{b: body}
	var sessionID, suites, compression, extensions byteReader
	if !r.skip(2+32) || // legacy_version, random
		!r.readPrefixed(1, &sessionID) || len(sessionID.b) > 32 ||
		!r.readPrefixed(2, &suites) || len(suites.b) < 2 || len(suites.b)%2 != 0 ||
		!r.readPrefixed(1, &compression) || len(compression.b) < 1 {
		return "", fmt.Errorf("fixed fields: %w", ErrMalformed)
	}
	if r.empty() {
		return "", nil // no extensions at all (SSL 3.0 style): no SNI
	}
	if !r.readPrefixed(2, &extensions) || !r.empty() {
		return "", fmt.Errorf("extensions block: %w", ErrMalformed)
	}
	seen := make(map[uint16]bool)
	serverName := ""
	for !extensions.empty() {
		var typ uint16
		var data byteReader
		if !extensions.readUint16(&typ) || !extensions.readPrefixed(2, &data) {
			return "", fmt.Errorf("extension header: %w", ErrMalformed)
		}
		if seen[typ] {
			return "", fmt.Errorf("extension %d repeated: %w", typ, ErrMalformed)
		}
		seen[typ] = true
		if typ != extensionServerName {
			continue
		}
		name, err := parseServerName(data)
		if err != nil {
			return "", err
		}
		serverName = name
	}
	return serverName, nil
}

// parseServerName decodes the server_name extension (RFC 6066 §3) and
// returns its host_name entry.
func parseServerName(ext byteReader) (string, error) {
	var list byteReader
	if !ext.readPrefixed(2, &list) || !ext.empty() || list.empty() {
		return "", fmt.Errorf("server_name list: %w", ErrMalformed)
	}
	host := ""
	for !list.empty() {
		var nameType uint8
		var name byteReader
		if !list.readUint8(&nameType) || !list.readPrefixed(2, &name) {
			return "", fmt.Errorf("server_name entry: %w", ErrMalformed)
		}
		if nameType != serverNameTypeHost {
			continue
		}
		if host != "" {
			return "", fmt.Errorf("two host names in server_name: %w", ErrMalformed)
		}
		h := strings.ToLower(strings.TrimSuffix(string(name.b), "."))
		if !policy.ValidHostname(h) {
			return "", fmt.Errorf("server_name %q is not a host name: %w", name.b, ErrMalformed)
		}
		if _, err := netip.ParseAddr(h); err == nil {
			return "", fmt.Errorf("server_name %q is an IP literal: %w", h, ErrMalformed)
		}
		host = h
	}
	return host, nil
}

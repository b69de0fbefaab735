// Package tunnel carries TLS traffic that s3cache cannot cache: HTTPS
// passthrough on :443 and forward-proxy CONNECT. It never terminates TLS
// and never sees plaintext.
//
// Clients that reach S3 over HTTPS through the hosts-file redirect land on
// s3cache's :443. s3cache has no S3 certificate, so all it can do is pass
// the bytes through: Server reads the TLS ClientHello without consuming it
// (the bytes read are kept and replayed to the upstream), takes the host
// name from the server_name extension, asks the injected policy (Allow)
// whether that host may be reached, dials it on port 443 through the
// injected Dial (the hosts-file-bypassing resolver with the destination
// policy on the resolved address) and copies bytes both ways. A connection
// without SNI, or whose SNI is refused, is closed silently: there is no TLS
// alert to send without a certificate.
//
// ConnectHandler does the same for "CONNECT host:443" requests that reach
// the HTTP listener (clients with HTTPS_PROXY set): only port 443, policy
// applies, 403 with an S3-style XML error on refusal, 502 when the upstream
// cannot be reached, otherwise "200 Connection Established" and a raw
// tunnel over the hijacked connection.
//
// The ClientHello parser is written by hand rather than by running a
// crypto/tls server with GetConfigForClient: that would need to own the
// connection, and it cannot hand the original bytes back for replay. The
// parser handles a ClientHello split across several TLS records, bounds the
// bytes it buffers (MaxClientHelloSize) and rejects anything malformed;
// FuzzParseClientHello exercises it.
//
// Tunnels propagate half-closes (CloseWrite), end after IdleTimeout without
// traffic in either direction, and are tracked so that Shutdown can wait for
// them, bounded by its context, and then close what is left.
package tunnel

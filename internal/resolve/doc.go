// Package resolve is s3cache's upstream DNS: it turns S3 host names into
// addresses without consulting the hosts file, caches the answers, and
// dials upstream connections spread over all the addresses a name has.
//
// Why not net.Resolver: in production the S3 host names are pointed at
// s3cache itself through /etc/hosts (or local DNS) on the client machines,
// and often on the proxy's machine too. Go's resolver, even with PreferGo
// and a custom Dial, decides the lookup order from nsswitch.conf and reads
// /etc/hosts first; there is no per-Resolver switch to skip it, so the proxy
// would resolve S3 to itself and loop. This package therefore sends its own
// A/AAAA queries (golang.org/x/net/dns/dnsmessage) over UDP, retrying over
// TCP when an answer is truncated, to configured servers or, by default, to
// the nameservers of /etc/resolv.conf. It never reads a hosts file.
//
// Beware of loopback nameservers: systemd-resolved (127.0.0.53) and dnsmasq
// answer from /etc/hosts themselves. When /etc/resolv.conf names only the
// systemd-resolved stub, the upstream servers systemd-resolved uses
// (/run/systemd/resolve/resolv.conf) are taken instead; any other loopback
// nameserver is used with a warning. Configure Servers explicitly in
// production.
//
// Answers are cached for their TTL clamped to [MinTTL, MaxTTL]; concurrent
// lookups of one name share one query; a failed refresh serves the last good
// answer for up to StaleFor. Static overrides (exact "host" or "*.suffix" →
// IPs; exact beats suffix, longest suffix wins) bypass DNS. "localhost" and
// names under it resolve to loopback without a query (RFC 6761).
//
// DialContext spreads connections round-robin over a name's addresses,
// skips an address that failed recently and tries the next one on error. S3
// hands out many addresses per name; using them all spreads load the way
// the S3 SDKs recommend. The connect itself goes through Config.Dial, where
// the caller plugs a net.Dialer whose ControlContext enforces the
// destination policy after resolution.
package resolve

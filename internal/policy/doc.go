// Package policy decides where s3cache may open upstream connections: the
// server-side request forgery (SSRF) guard.
//
// s3cache forwards client requests, tunnels TLS by SNI and answers
// forward-proxy CONNECT, so a client chooses the destination host. Without a
// policy any client could make the proxy reach its own loopback services,
// the cloud metadata endpoint (169.254.169.254) or hosts on the private
// network behind it. A Policy checks two things:
//
//   - the host name a client asks for (AllowHost): by default only
//     *.amazonaws.com and *.amazonaws.com.cn, plus configured origin hosts
//     and extra patterns;
//   - every IP address actually dialled (AllowAddr, and Control for
//     net.Dialer.ControlContext): loopback, private, link-local, CGNAT,
//     unique-local, unspecified, multicast and the IPv4-mapped, NAT64 and
//     6to4 forms of those are refused unless allowed by a CIDR in the
//     configuration, by an IP of a static override, or by an IP-literal
//     origin.
//
// The address check runs on the resolved address at dial time, after DNS,
// so a name that passes the host check but resolves (or re-resolves, DNS
// rebinding) to an internal address still cannot be reached. Unlike the
// original implementation, which refused a name only when every resolved
// IP was internal, each dial is checked on its own: a name with mixed
// answers reaches only its public addresses.
//
// A Policy is immutable; on a configuration reload build a new one and swap
// it in (for example behind an atomic.Pointer).
package policy

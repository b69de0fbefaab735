package s3req

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// locate fills Endpoint, Bucket, Key and VirtualHosted from the Host header
// and path. It returns false when the request names no object we could
// safely key (no bucket, or a bucket name that could not be a path segment).
//
// Keys must be stable across addressing styles, or a PUT through one style
// would not invalidate a GET cached through the other. AWS hosts and the
// configured VirtualHostDomains are understood; any other host that might be
// virtual-hosted keeps its name in Endpoint, so two buckets behind unknown
// hosts can never share an entry (an extra miss, never wrong bytes).
func (req *Request) locate(r *http.Request, opt Options) bool {
	host := strings.ToLower(hostOnly(r.Host))
	path := r.URL.Path
	if !strings.HasPrefix(path, "/") {
		return false
	}
	endpoint, bucket, ok := virtualHostBucket(host, opt.VirtualHostDomains)
	if !ok {
		return false
	}
	virtual := bucket != ""
	key := path[1:]
	if !virtual {
		bucket, key, _ = strings.Cut(key, "/")
	}
	if !validBucket(bucket) {
		return false
	}
	req.Bucket, req.Key, req.VirtualHosted = bucket, key, virtual
	req.Endpoint = endpoint
	if opt.Origin != "" {
		req.Endpoint = opt.Origin
		if strings.HasPrefix(endpoint, unknownHost) {
			// An unknown host in front of a fixed origin: keep it in the key.
			req.Endpoint = opt.Origin + "|" + endpoint
		}
	}
	return true
}

// virtualHostBucket splits host into the endpoint identity and, for
// virtual-hosted requests, the bucket. ok is false for hosts whose answers
// must never be cached (S3 Object Lambda transforms each response).
func virtualHostBucket(host string, domains []string) (endpoint, bucket string, ok bool) {
	if partition, ok := awsPartition(host); ok {
		labels := strings.Split(strings.TrimSuffix(host, "."+partition), ".")
		// The service label is the rightmost "s3" or "s3-…" label: bucket
		// names may themselves contain dots or start with "s3-".
		for i := len(labels) - 1; i >= 0; i-- {
			l := labels[i]
			if l != "s3" && !strings.HasPrefix(l, "s3-") {
				continue
			}
			if strings.HasPrefix(l, "s3-object-lambda") {
				return "", "", false
			}
			kind := "aws-s3"
			if strings.HasPrefix(l, "s3-accesspoint") || (i > 0 && labels[i-1] == "accesspoint") {
				kind = "aws-accesspoint"
			}
			return kind + ":" + partition, strings.Join(labels[:i], "."), true
		}
		return "aws-other:" + host, "", true
	}
	for _, d := range domains {
		d = strings.ToLower(strings.TrimPrefix(d, "."))
		if host == d {
			return d, "", true
		}
		if b, ok := strings.CutSuffix(host, "."+d); ok {
			return d, b, true
		}
	}
	if host == "localhost" || isIP(host) {
		return "", "", true // cannot name a bucket: path-style
	}
	return unknownHost + host, "", true
}

// unknownHost prefixes the endpoint of a host that might be virtual-hosted.
const unknownHost = "host:"

func awsPartition(host string) (string, bool) {
	for _, p := range []string{"amazonaws.com.cn", "amazonaws.com"} {
		if strings.HasSuffix(host, "."+p) {
			return p, true
		}
	}
	return "", false
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// validBucket rejects names that are not a single safe path segment. The
// cache never uses names as paths, but such names are not real buckets
// either, so the request is simply forwarded.
func validBucket(b string) bool {
	if b == "" || b == "." || b == ".." || len(b) > 255 {
		return false
	}
	for _, c := range b {
		if c == '/' || c == '\\' || c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

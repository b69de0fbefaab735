package s3req

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Op is the S3 operation a request performs, as far as caching cares.
type Op int

const (
	OpOther                   Op = iota // anything else: forwarded untouched, never cached
	OpGetObject                         // GET /bucket/key
	OpHeadObject                        // HEAD /bucket/key
	OpPutObject                         // PUT /bucket/key
	OpCopyObject                        // PUT /bucket/key with x-amz-copy-source
	OpDeleteObject                      // DELETE /bucket/key
	OpDeleteObjects                     // POST /bucket?delete
	OpCreateMultipartUpload             // POST /bucket/key?uploads
	OpUploadPart                        // PUT /bucket/key?partNumber=N&uploadId=U
	OpUploadPartCopy                    // the same with x-amz-copy-source
	OpCompleteMultipartUpload           // POST /bucket/key?uploadId=U
	OpAbortMultipartUpload              // DELETE /bucket/key?uploadId=U
	OpObjectSubresourceWrite            // PUT/DELETE/POST on ?tagging, ?retention, ?restore … of an object
)

var opNames = [...]string{"Other", "GetObject", "HeadObject", "PutObject", "CopyObject",
	"DeleteObject", "DeleteObjects", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
	"CompleteMultipartUpload", "AbortMultipartUpload", "ObjectSubresourceWrite"}

func (o Op) String() string { return opNames[o] }

// Request is what the proxy needs to know about an S3 request.
type Request struct {
	Op Op
	// Endpoint identifies the S3 service the bucket lives in; with Bucket,
	// Key and VersionID it names one object everywhere in the cache.
	Endpoint      string
	Bucket, Key   string
	VirtualHosted bool
	VersionID     string
	PartNumber    int // 0 when absent
	UploadID      string
	Range         string // the raw Range header, "" when absent
	Auth          Auth
	// SSEC is set when the request carries SSE-C key headers: neither the
	// request nor its response may touch the cache.
	SSEC bool
	// Overrides are the response-* query parameters as the headers they set.
	Overrides http.Header
	// Conditional is set when any If-* header is present.
	Conditional bool
	Conditions  Conditions
	// NoCache (Cache-Control/Pragma no-cache) skips the lookup; NoStore
	// (Cache-Control no-store) also keeps the response out of the cache.
	NoCache, NoStore bool
}

// Conditions are the request's conditional headers, as sent.
type Conditions struct {
	IfMatch, IfNoneMatch, IfModifiedSince, IfUnmodifiedSince, IfRange string
}

// Options tell Parse how this deployment names buckets.
type Options struct {
	// Origin is the configured upstream URL; when set it is the Endpoint of
	// every request, since all traffic goes there.
	Origin string
	// VirtualHostDomains are endpoint domains (no port) whose subdomains name
	// buckets, in addition to AWS's.
	VirtualHostDomains []string
}

// overrideHeaders maps S3's response-* query parameters to the header each sets.
var overrideHeaders = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

// objectSubresources are query keys that turn an object request into an
// operation on something other than the object's bytes.
var objectSubresources = []string{"acl", "attributes", "legal-hold", "object-lock", "retention",
	"tagging", "torrent", "restore", "select", "select-type", "uploads", "uploadId", "partNumber"}

// Parse classifies r. It never fails: a request it cannot read is OpOther.
func Parse(r *http.Request, opt Options) *Request {
	req := &Request{Op: OpOther}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return req
	}
	req.Auth = parseAuth(r.Header, query)
	req.SSEC = r.Header.Get("X-Amz-Server-Side-Encryption-Customer-Algorithm") != "" ||
		r.Header.Get("X-Amz-Server-Side-Encryption-Customer-Key") != "" ||
		r.Header.Get("X-Amz-Server-Side-Encryption-Customer-Key-Md5") != ""
	req.Range = r.Header.Get("Range")
	req.Conditions = Conditions{
		IfMatch:           r.Header.Get("If-Match"),
		IfNoneMatch:       r.Header.Get("If-None-Match"),
		IfModifiedSince:   r.Header.Get("If-Modified-Since"),
		IfUnmodifiedSince: r.Header.Get("If-Unmodified-Since"),
		IfRange:           r.Header.Get("If-Range"),
	}
	req.Conditional = req.Conditions != Conditions{}
	req.NoCache, req.NoStore = cacheDirectives(r.Header)

	if !req.locate(r, opt) {
		return req
	}
	req.VersionID = query.Get("versionId")
	req.UploadID = query.Get("uploadId")
	if s := query.Get("partNumber"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10000 {
			return req
		}
		req.PartNumber = n
	}
	for k, v := range query {
		if h, ok := overrideHeaders[k]; ok && len(v) > 0 {
			if req.Overrides == nil {
				req.Overrides = http.Header{}
			}
			req.Overrides.Set(h, v[0])
		}
	}
	req.Op = classify(r, req, query)
	return req
}

// classify decides the operation once bucket and key are known.
func classify(r *http.Request, req *Request, query url.Values) Op {
	copySource := r.Header.Get("X-Amz-Copy-Source") != ""
	if req.Key == "" {
		if r.Method == http.MethodPost && query.Has("delete") {
			return OpDeleteObjects
		}
		return OpOther
	}
	sub := subresource(query)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if sub != "" && sub != "partNumber" {
			return OpOther
		}
		if !onlyReadParams(query) {
			return OpOther
		}
		if r.Method == http.MethodHead {
			return OpHeadObject
		}
		return OpGetObject
	case http.MethodPut:
		switch {
		case query.Has("uploadId") && query.Has("partNumber"):
			if copySource {
				return OpUploadPartCopy
			}
			return OpUploadPart
		case sub != "":
			return OpObjectSubresourceWrite
		case copySource:
			return OpCopyObject
		}
		return OpPutObject
	case http.MethodDelete:
		switch {
		case query.Has("uploadId"):
			return OpAbortMultipartUpload
		case sub != "":
			return OpObjectSubresourceWrite
		}
		return OpDeleteObject
	case http.MethodPost:
		switch {
		case query.Has("uploads"):
			return OpCreateMultipartUpload
		case query.Has("uploadId"):
			return OpCompleteMultipartUpload
		case query.Has("select"):
			return OpOther // SelectObjectContent reads; it changes nothing
		case sub != "":
			return OpObjectSubresourceWrite
		}
	}
	return OpOther
}

func subresource(query url.Values) string {
	for _, s := range objectSubresources {
		if query.Has(s) {
			return s
		}
	}
	return ""
}

// onlyReadParams reports whether every query parameter is one a cached
// GetObject/HeadObject can honour. Unknown parameters might change the
// answer, so their presence makes the request uncacheable.
func onlyReadParams(query url.Values) bool {
	for k := range query {
		switch {
		case k == "versionId", k == "partNumber", k == "x-id":
		case overrideHeaders[k] != "":
		case strings.HasPrefix(strings.ToLower(k), "x-amz-"): // presigned-URL parameters
		case k == "AWSAccessKeyId", k == "Signature", k == "Expires": // SigV2 presigned
		default:
			return false
		}
	}
	return true
}

func cacheDirectives(h http.Header) (noCache, noStore bool) {
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(strings.ToLower(v), ",") {
			switch strings.TrimSpace(d) {
			case "no-cache":
				noCache = true
			case "no-store":
				noCache, noStore = true, true
			}
		}
	}
	if len(h.Values("Cache-Control")) == 0 && strings.EqualFold(strings.TrimSpace(h.Get("Pragma")), "no-cache") {
		noCache = true
	}
	return noCache, noStore
}

package observe

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/s3cache/s3cache/internal/s3req"
)

// accessLogTime is the bracketed time of S3's server access log.
const accessLogTime = "[02/Jan/2006:15:04:05 -0700]"

// Redacted replaces secret values in logged request URIs.
const Redacted = "REDACTED"

// secretParams are the query parameters whose values are credentials or
// signatures (compared in lower case). The Authorization header is never
// logged at all.
var secretParams = map[string]bool{
	"x-amz-signature":      true,
	"x-amz-credential":     true,
	"x-amz-security-token": true,
	"signature":            true, // SigV2 presigned
	"awsaccesskeyid":       true, // SigV2 presigned
}

// FormatAccessLog renders rec as one line of S3's server access log format
// (its 26 fields in AWS's order, "-" for what s3cache cannot know) followed
// by one extra field, the X-Cache outcome; parsers of S3 logs ignore extra
// trailing fields, as AWS itself appends new ones. Credentials are never written: the
// requester field is "-", and the signature, credential and security token
// query parameters of the request URI are replaced by REDACTED.
func FormatAccessLog(rec *Record) []byte {
	r := rec.Request
	var b strings.Builder
	field := func(s string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if s == "" {
			s = "-"
		}
		b.WriteString(s)
	}
	quoted := func(s string) {
		if s == "" {
			field(`"-"`)
			return
		}
		field(`"` + escapeQuoted(s) + `"`)
	}
	field("-") // bucket owner
	field(escapeLogValue(rec.S3.Bucket))
	field(rec.Start.UTC().Format(accessLogTime))
	field(remoteIP(r.RemoteAddr))
	field("-") // requester: would name the credential
	field(escapeLogValue(rec.Header.Get("X-Amz-Request-Id")))
	field(operationName(r.Method, rec.S3))
	field(escapedKey(rec.S3.Key))
	quoted(r.Method + " " + RedactRequestURI(requestURI(r)) + " " + r.Proto)
	field(statusField(rec.Status))
	field(escapeLogValue(rec.ErrorCode))
	field(countField(rec.BytesSent))
	field(objectSize(rec))
	field(strconv.FormatInt(rec.Duration.Milliseconds(), 10))
	if rec.Status == 0 {
		field("-")
	} else {
		field(strconv.FormatInt(rec.FirstByte.Milliseconds(), 10))
	}
	quoted(r.Referer())
	quoted(r.UserAgent())
	field(escapeLogValue(rec.S3.VersionID))
	field(escapeLogValue(rec.Header.Get("X-Amz-Id-2"))) // host id
	field(signatureVersion(rec.S3.Auth.Kind))
	field("-") // cipher suite: the caching listener is plain HTTP
	field(authenticationType(rec.S3.Auth.Kind))
	field(escapeLogValue(r.Host))
	field("-") // TLS version
	field("-") // access point ARN
	field("-") // ACL required
	field(escapeLogValue(rec.XCache))
	b.WriteByte('\n')
	return []byte(b.String())
}

// RedactRequestURI replaces the values of credential and signature query
// parameters, keeping everything else byte for byte.
func RedactRequestURI(uri string) string {
	path, query, ok := strings.Cut(uri, "?")
	if !ok {
		return uri
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if name, err := url.QueryUnescape(k); err == nil && secretParams[strings.ToLower(name)] {
			parts[i] = k + "=" + Redacted
		}
	}
	return path + "?" + strings.Join(parts, "&")
}

func requestURI(r *http.Request) string {
	if r.RequestURI != "" {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// escapeLogValue keeps a field on one line and free of the separators:
// spaces, quotes, backslashes and control bytes become \xNN.
func escapeLogValue(s string) string {
	if !strings.ContainsFunc(s, needsEscape) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(rune(c)) {
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatInt(int64(c)|0x100, 16)[1:])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func needsEscape(c rune) bool { return c <= ' ' || c == '"' || c == '\\' || c == 0x7f }

// escapeQuoted is escapeLogValue for a quoted field, where spaces may stay.
func escapeQuoted(s string) string {
	parts := strings.Split(s, " ")
	for i, p := range parts {
		parts[i] = escapeLogValue(p)
	}
	return strings.Join(parts, " ")
}

// escapedKey is the key URL-encoded as S3 logs it, slashes kept.
func escapedKey(key string) string {
	if key == "" {
		return "-"
	}
	return (&url.URL{Path: key}).EscapedPath()
}

func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return escapeLogValue(addr)
}

func statusField(status int) string {
	if status == 0 {
		return "-"
	}
	return strconv.Itoa(status)
}

func countField(n int64) string {
	if n == 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

// objectSize is the object's full size when the response says it.
func objectSize(rec *Record) string {
	if rec.S3.Op != s3req.OpGetObject && rec.S3.Op != s3req.OpHeadObject {
		return "-"
	}
	switch rec.Status {
	case http.StatusOK:
		if cl := rec.Header.Get("Content-Length"); cl != "" {
			return escapeLogValue(cl)
		}
	case http.StatusPartialContent:
		if _, total, ok := strings.Cut(rec.Header.Get("Content-Range"), "/"); ok && total != "*" {
			return escapeLogValue(total)
		}
	}
	return "-"
}

// opResources name the resource of each operation in S3 log operation names.
var opResources = map[s3req.Op]string{
	s3req.OpGetObject:               "OBJECT",
	s3req.OpHeadObject:              "OBJECT",
	s3req.OpPutObject:               "OBJECT",
	s3req.OpCopyObject:              "OBJECT",
	s3req.OpDeleteObject:            "OBJECT",
	s3req.OpDeleteObjects:           "MULTI_OBJECT_DELETE",
	s3req.OpCreateMultipartUpload:   "UPLOADS",
	s3req.OpUploadPart:              "PART",
	s3req.OpUploadPartCopy:          "PART",
	s3req.OpCompleteMultipartUpload: "UPLOAD",
	s3req.OpAbortMultipartUpload:    "UPLOAD",
	s3req.OpObjectSubresourceWrite:  "OBJECT_SUBRESOURCE",
}

// operationName follows S3's REST.<METHOD>.<RESOURCE> naming.
func operationName(method string, req *s3req.Request) string {
	resource := opResources[req.Op]
	switch {
	case resource != "":
	case req.Key != "":
		resource = "OBJECT"
	case req.Bucket != "":
		resource = "BUCKET"
	default:
		resource = "SERVICE"
	}
	if req.Op == s3req.OpCopyObject || req.Op == s3req.OpUploadPartCopy {
		method = "COPY"
	}
	return "REST." + strings.ToUpper(escapeLogValue(method)) + "." + resource
}

func signatureVersion(k s3req.AuthKind) string {
	switch k {
	case s3req.AuthHeaderV4, s3req.AuthPresignedV4:
		return "SigV4"
	case s3req.AuthV2:
		return "SigV2"
	}
	return "-"
}

func authenticationType(k s3req.AuthKind) string {
	switch k {
	case s3req.AuthHeaderV4:
		return "AuthHeader"
	case s3req.AuthPresignedV4:
		return "QueryString"
	}
	return "-"
}

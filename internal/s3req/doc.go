// Package s3req reads an incoming S3 request without changing it: which
// bucket and key it names (path-style or virtual-hosted-style), which S3
// operation it is, how it is authenticated and which headers its signature
// covers, and the parts that decide whether a cached answer may be given
// (versionId, partNumber, Range, conditionals, SSE-C, response-* overrides).
//
// Everything here is a pure function of the request, so it is cheap to test
// and to fuzz. Anything this package cannot classify with certainty is
// reported as OpOther, which the proxy forwards untouched.
package s3req

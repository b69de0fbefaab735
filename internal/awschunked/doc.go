// Package awschunked decodes S3's aws-chunked content encoding: the body
// format of streaming SigV4 uploads (x-amz-content-sha256 values such as
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER and
// their -TRAILER and ECDSA variants).
//
// The proxy forwards such a body to S3 byte for byte; this package only turns
// a copy of it into the object's bytes for the cache. A body is a series of
// chunks, each
//
//	hex-size[;chunk-signature=SIG]\r\n DATA \r\n
//
// ended by a chunk of size 0, then optional trailer lines
// (x-amz-checksum-crc32:..., x-amz-trailer-signature:...) and an empty line.
//
// Signatures are not verified: s3cache holds no credentials, and S3 verifies
// them. Parsing is strict (any deviation is an error, so a body that cannot
// be decoded is simply not cached) and bounded: framing lines are limited to
// maxLineLength bytes and the trailer to maxTrailers lines, and chunk data is
// streamed through, so memory use never depends on sizes the client claims.
//
// Reader pulls an encoded body and yields the decoded bytes; Writer is the
// push form for a tee (encoded bytes written in, decoded bytes written to a
// destination). Both check, through Verify, that the body ended properly and
// that its decoded length matches x-amz-decoded-content-length.
package awschunked

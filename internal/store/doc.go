// Package store keeps cached S3 objects on a directory that several s3cache
// processes may share, including over NFS.
//
// Each object version has a directory named by a hash of its identity
// (endpoint, bucket, key, versionId), so no key ever becomes a path. Inside
// it, meta.json describes the object (ETag, size, the headers to replay,
// validation times) and is replaced atomically; the bytes live in segment
// files, each an immutable byte range tied to the ETag it was fetched under.
// Files are written once (temp file, fsync, rename) and never modified in
// place, so with NFS close-to-open consistency a reader that can open a file
// sees all of it. A stale directory listing costs a miss, never wrong bytes.
// See FORMAT.md for the layout.
package store

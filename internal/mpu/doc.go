// Package mpu stages the parts of S3 multipart uploads on the shared cache
// directory, so that when CompleteMultipartUpload succeeds the object's
// bytes are already on disk and can be published as cached extents.
//
// Layout, beside the object store under the same format version:
//
//	<cache_dir>/v1/uploads/<h>/           one directory per upload
//	    upload.json                       the upload and the object headers to replay
//	    part-<N>.<e>.bin                  the bytes of part N as uploaded with ETag hash <e>,
//	                                      then their block checksums (store.BlockSums)
//	    part-<N>.json                     {number, size, etag, file, written_at, checked}
//	    .tmp-<random>                     a part or record being written
//
// <h> is the hex SHA-256 of endpoint, bucket, key and upload id joined by
// NUL bytes: neither keys nor upload ids become paths, and an upload id
// presented with another bucket or key names another directory. Upload ids
// are still validated (ValidateUploadID) so that garbage is never staged.
//
// Every file is written to a temp file, fsynced and renamed into place, so
// over NFS a reader that opens one sees all of it. A part's bytes are
// published before its record, and the record names the bin file, so a
// record always describes bytes that exist; a re-upload of part N publishes
// a new bin and replaces the record atomically, and the old bin is removed
// afterwards. upload.json's modification time is the upload's last activity:
// Sweep removes uploads idle for longer than a given age.
//
// Stager does not talk to S3 and never decides alone that an upload
// succeeded: the caller commits a part only after S3 accepted it, and calls
// Complete only after S3 answered CompleteMultipartUpload with a result
// (ParseCompleteResult), passing the ETag S3 gave the object.
package mpu

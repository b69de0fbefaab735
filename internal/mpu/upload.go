package mpu

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/s3cache/s3cache/internal/awschunked"
)

// maxUploadIDLength bounds an upload id. S3's are a few hundred bytes.
const maxUploadIDLength = 1024

// maxPartNumber is S3's highest part number.
const maxPartNumber = 10000

// ErrInvalidUpload means the upload id, bucket, key or part number cannot be
// staged; the caller forwards the request without caching.
var ErrInvalidUpload = errors.New("mpu: invalid upload")

// ErrNotCacheable means the upload's object must never be cached (SSE-C).
var ErrNotCacheable = errors.New("mpu: upload not cacheable")

// ErrUnknownUpload means no staging exists for the upload: it began before
// this cache saw it, was aborted, or was swept.
var ErrUnknownUpload = errors.New("mpu: upload not staged")

// Upload names one multipart upload. Endpoint is the object store's
// endpoint as in store.ObjectID.
type Upload struct {
	Endpoint string
	Bucket   string
	Key      string
	ID       string // the UploadId S3 assigned
}

func (u Upload) String() string { return u.Bucket + "/" + u.Key + "?uploadId=" + u.ID }

// validate checks what Upload may hold before any of it touches the disk.
func (u Upload) validate() error {
	if u.Bucket == "" || u.Key == "" {
		return fmt.Errorf("%w: empty bucket or key", ErrInvalidUpload)
	}
	return ValidateUploadID(u.ID)
}

// hash is the upload's directory name.
func (u Upload) hash() string {
	h := sha256.New()
	for _, part := range []string{u.Endpoint, u.Bucket, u.Key, u.ID} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ValidateUploadID accepts an upload id of 1 to 1024 printable ASCII bytes
// (no space), with no '/', '\\' or "..". Anything else is ErrInvalidUpload.
func ValidateUploadID(id string) error {
	if id == "" || len(id) > maxUploadIDLength {
		return fmt.Errorf("%w: upload id of %d bytes", ErrInvalidUpload, len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c > '~' || c == '/' || c == '\\' {
			return fmt.Errorf("%w: upload id has byte %#x", ErrInvalidUpload, c)
		}
	}
	if strings.Contains(id, "..") {
		return fmt.Errorf("%w: upload id contains \"..\"", ErrInvalidUpload)
	}
	return nil
}

func validatePartNumber(n int) error {
	if n < 1 || n > maxPartNumber {
		return fmt.Errorf("%w: part number %d", ErrInvalidUpload, n)
	}
	return nil
}

// UploadInfo is upload.json: the upload and the object headers its
// CreateMultipartUpload request set, to replay on GETs of the object.
type UploadInfo struct {
	Format    int         `json:"format"`
	Endpoint  string      `json:"endpoint"`
	Bucket    string      `json:"bucket"`
	Key       string      `json:"key"`
	UploadID  string      `json:"upload_id"`
	Header    http.Header `json:"header,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
}

func (i *UploadInfo) upload() Upload {
	return Upload{Endpoint: i.Endpoint, Bucket: i.Bucket, Key: i.Key, ID: i.UploadID}
}

// replayedHeaders are the CreateMultipartUpload request headers that S3
// returns on GET and HEAD of the completed object. x-amz-meta-* are kept
// too. Left out: SSE-KMS key ids (S3 answers with the key's ARN, not the
// alias a client may send), tagging (GET returns only a count), checksums.
var replayedHeaders = []string{
	"Content-Type", "Content-Disposition", "Cache-Control", "Expires", "Content-Language",
	"X-Amz-Storage-Class", "X-Amz-Server-Side-Encryption", "X-Amz-Server-Side-Encryption-Bucket-Key-Enabled",
	"X-Amz-Website-Redirect-Location", "X-Amz-Object-Lock-Mode", "X-Amz-Object-Lock-Retain-Until-Date",
	"X-Amz-Object-Lock-Legal-Hold",
}

// objectHeaders picks the headers to replay from a CreateMultipartUpload
// request, or fails with ErrNotCacheable for an SSE-C upload.
func objectHeaders(req http.Header) (http.Header, error) {
	out := http.Header{}
	for name, values := range req {
		canonical := http.CanonicalHeaderKey(name)
		if strings.HasPrefix(canonical, "X-Amz-Server-Side-Encryption-Customer-") {
			return nil, fmt.Errorf("%w: SSE-C", ErrNotCacheable)
		}
		if strings.HasPrefix(canonical, "X-Amz-Meta-") {
			out[canonical] = append([]string(nil), values...)
		}
	}
	for _, name := range replayedHeaders {
		if v := req.Values(name); len(v) > 0 {
			out[name] = append([]string(nil), v...)
		}
	}
	if strings.EqualFold(out.Get("X-Amz-Storage-Class"), "STANDARD") {
		out.Del("X-Amz-Storage-Class") // S3 leaves the header out for STANDARD
	}
	if enc := awschunked.ObjectContentEncoding(req); enc != "" {
		out.Set("Content-Encoding", enc)
	}
	return out, nil
}

// ObjectHeaders picks, from a PutObject or CreateMultipartUpload request,
// the headers S3 returns on GET and HEAD of the object; ErrNotCacheable for
// SSE-C.
func ObjectHeaders(req http.Header) (http.Header, error) { return objectHeaders(req) }

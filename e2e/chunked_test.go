package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/s3cache/s3cache/e2e/harness"
)

// An aws-chunked upload (unsigned chunks with a CRC32 trailer, as SDKs send
// over HTTPS) through s3cache: S3 gets the body untouched, the cache gets
// the decoded bytes, and the GET after it is a hit.
func TestAWSChunkedPutIsCachedDecoded(t *testing.T) {
	e := harness.NewEnv(t)
	const seed, size = 140, 200_000
	data := harness.PatternBytes(seed, size)
	var body bytes.Buffer
	for off := 0; off < size; off += 64 << 10 {
		chunk := data[off:min(off+64<<10, size)]
		fmt.Fprintf(&body, "%x\r\n", len(chunk))
		body.Write(chunk)
		body.WriteString("\r\n")
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(data))
	fmt.Fprintf(&body, "0\r\nx-amz-checksum-crc32:%s\r\n\r\n", base64.StdEncoding.EncodeToString(sum[:]))

	url := e.FrontURL() + "/" + e.Bucket + "/chunked/obj"
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body.Bytes()))
	req.ContentLength = int64(body.Len())
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(size))
	req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	req.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	creds := aws.Credentials{AccessKeyID: harness.AccessKey, SecretAccessKey: harness.SecretKey}
	if err := v4.NewSigner().SignHTTP(e.Ctx(), creds, req, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "s3", harness.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := e.HTTP().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Skipf("the S3 server refused the aws-chunked PUT (%s): nothing to check", resp.Status)
	}
	e.Counter.Reset()
	r := get(t, e, e.Client, "chunked/obj")
	wantBody(t, "GET after an aws-chunked PUT", r, seed, size)
	wantXCache(t, "GET after an aws-chunked PUT", r, "HIT")
	wantNoOrigin(t, e, "GET after an aws-chunked PUT")
	if ce := r.header.Get("Content-Encoding"); ce != "" {
		t.Errorf("Content-Encoding %q replayed: aws-chunked is a transfer detail, not the object's", ce)
	}
}

package mpu

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The request body aws-sdk-go-v2 sends for CompleteMultipartUpload parses,
// and the SDK accepts the result document the tests use.
func TestParseCompleteRequestFromSDK(t *testing.T) {
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20))
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, completeResultXML)
	}))
	defer srv.Close()
	httpClient := srv.Client()
	defer httpClient.CloseIdleConnections()
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, HTTPClient: httpClient,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), Retryer: aws.NopRetryer{},
	})
	out, err := client.CompleteMultipartUpload(context.Background(), &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("bucket"), Key: aws.String("key"), UploadId: aws.String(testUpload.ID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: aws.String(partETag(1))},
			{PartNumber: aws.Int32(2), ETag: aws.String(partETag(2))},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ETag) != `"3858f62230ac3c915f300c664312c11f-2"` {
		t.Fatalf("SDK read ETag %q", aws.ToString(out.ETag))
	}
	req, err := ParseCompleteRequest(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%v\nbody: %s", err, body)
	}
	want := []CompletedPart{{1, partETag(1)}, {2, partETag(2)}}
	if len(req.Parts) != 2 || req.Parts[0] != want[0] || req.Parts[1] != want[1] {
		t.Fatalf("parsed %+v from %s", req.Parts, body)
	}
}

const completeResultXML = `<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>http://127.0.0.1/bucket/key</Location><Bucket>bucket</Bucket><Key>key</Key><ETag>&quot;3858f62230ac3c915f300c664312c11f-2&quot;</ETag></CompleteMultipartUploadResult>`

func TestParseCompleteRequestRejects(t *testing.T) {
	part := func(n, etag string) string {
		return "<Part><PartNumber>" + n + "</PartNumber><ETag>" + etag + "</ETag></Part>"
	}
	doc := func(inner string) string { return "<CompleteMultipartUpload>" + inner + "</CompleteMultipartUpload>" }
	tests := map[string]string{
		"empty body":           "",
		"not XML":              "hello",
		"no parts":             doc(""),
		"other root":           "<Parts>" + part("1", "e") + "</Parts>",
		"no part number":       doc("<Part><ETag>e</ETag></Part>"),
		"part number zero":     doc(part("0", "e")),
		"part number too big":  doc(part("10001", "e")),
		"part number negative": doc(part("-1", "e")),
		"part number not int":  doc(part("1.5", "e")),
		"empty ETag":           doc(part("1", "")),
		"quotes only ETag":     doc(part("1", "&quot;&quot;")),
		"control byte in ETag": doc(part("1", "a&#x1;b")),
		"unclosed":             "<CompleteMultipartUpload>" + part("1", "e"),
		"trailing element":     doc(part("1", "e")) + "<Error/>",
		"trailing text":        doc(part("1", "e")) + "junk",
		"leading text":         "junk" + doc(part("1", "e")),
		"DTD":                  `<!DOCTYPE x [<!ENTITY a "b">]>` + doc(part("1", "e")),
		"too large":            doc(part("1", "e")) + strings.Repeat(" ", maxXMLBytes),
	}
	for name, body := range tests {
		if req, err := ParseCompleteRequest(strings.NewReader(body)); err == nil {
			t.Errorf("%s: accepted as %+v", name, req)
		}
	}
	tooMany := "<CompleteMultipartUpload>" + strings.Repeat(part("1", "e"), maxPartNumber+1) + "</CompleteMultipartUpload>"
	if _, err := ParseCompleteRequest(strings.NewReader(tooMany)); err == nil {
		t.Error("more than 10000 parts accepted")
	}
}

func TestParseCompleteRequestAcceptsNamespaceAndSpacing(t *testing.T) {
	body := `<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Part>
    <PartNumber> 7 </PartNumber>
    <ETag> "abc" </ETag>
    <ChecksumCRC32>AAAAAA==</ChecksumCRC32>
  </Part>
</CompleteMultipartUpload>
`
	req, err := ParseCompleteRequest(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Parts) != 1 || req.Parts[0] != (CompletedPart{7, `"abc"`}) {
		t.Fatalf("parsed %+v", req.Parts)
	}
}

func TestParseCompleteResult(t *testing.T) {
	res, err := ParseCompleteResult(strings.NewReader(completeResultXML))
	if err != nil {
		t.Fatal(err)
	}
	if res.ETag != `"3858f62230ac3c915f300c664312c11f-2"` || res.Bucket != "bucket" || res.Key != "key" {
		t.Fatalf("parsed %+v", res)
	}
	// S3 sends white space while it assembles, before the document.
	res, err = ParseCompleteResult(strings.NewReader("\n \n \n" + completeResultXML + "\n"))
	if err != nil || res.ETag == "" {
		t.Fatalf("after keep-alive white space: %+v, %v", res, err)
	}
}

// A 200 answer whose body is an <Error> is a failure.
func TestParseCompleteResultDetectsErrorIn200(t *testing.T) {
	body := "\n   \n   \n" + `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>656c76696e6727732072657175657374</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>`
	_, err := ParseCompleteResult(strings.NewReader(body))
	var s3err *S3Error
	if !errors.As(err, &s3err) || s3err.Code != "InternalError" || s3err.RequestID != "656c76696e6727732072657175657374" {
		t.Fatalf("error %v, want an *S3Error InternalError", err)
	}
	_, err = ParseCompleteResult(strings.NewReader("<Error></Error>"))
	if !errors.As(err, &s3err) || s3err.Code != "UnknownError" {
		t.Fatalf("codeless <Error>: %v", err)
	}
}

func TestParseCompleteResultRejects(t *testing.T) {
	tests := map[string]string{
		"empty":            "",
		"only white space": "\n \n \n",
		"no ETag":          "<CompleteMultipartUploadResult><Bucket>b</Bucket></CompleteMultipartUploadResult>",
		"empty ETag":       "<CompleteMultipartUploadResult><ETag>&quot;&quot;</ETag></CompleteMultipartUploadResult>",
		"other root":       "<ListBucketResult><ETag>x</ETag></ListBucketResult>",
		"error after":      "<CompleteMultipartUploadResult><ETag>x-1</ETag></CompleteMultipartUploadResult><Error><Code>X</Code></Error>",
		"cut short":        "<CompleteMultipartUploadResult><ETag>x-1</ETag>",
	}
	for name, body := range tests {
		if res, err := ParseCompleteResult(strings.NewReader(body)); err == nil {
			t.Errorf("%s: accepted as %+v", name, res)
		}
	}
}

func TestParseCreateResult(t *testing.T) {
	body := `<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bucket</Bucket><Key>dir/key</Key><UploadId>` + testUpload.ID + `</UploadId></InitiateMultipartUploadResult>`
	res, err := ParseCreateResult(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if res != (CreateResult{Bucket: "bucket", Key: "dir/key", UploadID: testUpload.ID}) {
		t.Fatalf("parsed %+v", res)
	}
	for _, bad := range []string{
		"<InitiateMultipartUploadResult><UploadId>../x</UploadId></InitiateMultipartUploadResult>",
		"<InitiateMultipartUploadResult><Bucket>b</Bucket></InitiateMultipartUploadResult>",
		"<Error><Code>AccessDenied</Code></Error>",
	} {
		if res, err := ParseCreateResult(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: accepted as %+v", bad, res)
		}
	}
}

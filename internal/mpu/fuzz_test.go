package mpu

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseCompleteRequest: never panics, and whatever it accepts holds 1
// to 10000 parts with valid numbers and non-empty ETags.
func FuzzParseCompleteRequest(f *testing.F) {
	f.Add(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part></CompleteMultipartUpload>`)
	f.Add(`<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>&quot;x&quot;</ETag><PartNumber>2</PartNumber></Part><Part><ETag>y</ETag><PartNumber>3</PartNumber></Part></CompleteMultipartUpload>`)
	f.Add(`<CompleteMultipartUpload><Part><PartNumber>0</PartNumber></Part></CompleteMultipartUpload>`)
	f.Add(`<Error><Code>X</Code></Error>`)
	f.Fuzz(func(t *testing.T, body string) {
		req, err := ParseCompleteRequest(strings.NewReader(body))
		if err != nil {
			return
		}
		if len(req.Parts) == 0 || len(req.Parts) > maxPartNumber {
			t.Fatalf("accepted %d parts", len(req.Parts))
		}
		for _, p := range req.Parts {
			if validatePartNumber(p.Number) != nil || validateETag(p.ETag) != nil {
				t.Fatalf("accepted part %+v", p)
			}
		}
	})
}

// FuzzParseCompleteResult: never panics; an answer is either an *S3Error,
// another error, or a result with a usable ETag, never a result and an
// error at once.
func FuzzParseCompleteResult(f *testing.F) {
	f.Add(completeResultXML)
	f.Add("\n  \n" + `<Error><Code>InternalError</Code><Message>m</Message></Error>`)
	f.Add(`<CompleteMultipartUploadResult><ETag>x-1</ETag></CompleteMultipartUploadResult><!-- c -->`)
	f.Add(`<InitiateMultipartUploadResult><UploadId>abc</UploadId></InitiateMultipartUploadResult>`)
	f.Fuzz(func(t *testing.T, body string) {
		res, err := ParseCompleteResult(strings.NewReader(body))
		var s3err *S3Error
		switch {
		case errors.As(err, &s3err):
			if s3err.Code == "" {
				t.Fatal("S3 error without a code")
			}
		case err == nil:
			if validateETag(res.ETag) != nil {
				t.Fatalf("accepted ETag %q", res.ETag)
			}
		}
		if err != nil && res != (CompleteResult{}) {
			t.Fatalf("error %v with result %+v", err, res)
		}
		created, err := ParseCreateResult(strings.NewReader(body))
		if err == nil && ValidateUploadID(created.UploadID) != nil {
			t.Fatalf("accepted upload id %q", created.UploadID)
		}
	})
}

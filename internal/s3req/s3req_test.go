package s3req

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseLocatesObjects(t *testing.T) {
	tests := []struct {
		name, method, host, target string
		opt                        Options
		op                         Op
		endpoint, bucket, key      string
	}{
		{"path style", "GET", "s3.us-east-1.amazonaws.com", "/bkt/a/b.txt?x-id=GetObject", Options{}, OpGetObject, "aws-s3:amazonaws.com", "bkt", "a/b.txt"},
		{"virtual host", "GET", "bkt.s3.us-east-1.amazonaws.com", "/a/b.txt", Options{}, OpGetObject, "aws-s3:amazonaws.com", "bkt", "a/b.txt"},
		{"dotted bucket", "HEAD", "my.bkt.s3.amazonaws.com:80", "/k", Options{}, OpHeadObject, "aws-s3:amazonaws.com", "my.bkt", "k"},
		{"bucket named s3-x", "GET", "s3-x.s3.eu-west-1.amazonaws.com", "/k", Options{}, OpGetObject, "aws-s3:amazonaws.com", "s3-x", "k"},
		{"dualstack", "GET", "bkt.s3.dualstack.eu-west-1.amazonaws.com", "/k", Options{}, OpGetObject, "aws-s3:amazonaws.com", "bkt", "k"},
		{"china", "GET", "bkt.s3.cn-north-1.amazonaws.com.cn", "/k", Options{}, OpGetObject, "aws-s3:amazonaws.com.cn", "bkt", "k"},
		{"access point", "GET", "ap-123456789012.s3-accesspoint.us-east-1.amazonaws.com", "/k", Options{}, OpGetObject, "aws-accesspoint:amazonaws.com", "ap-123456789012", "k"},
		{"object lambda never cached", "GET", "ol-1.s3-object-lambda.us-east-1.amazonaws.com", "/k", Options{}, OpOther, "", "", ""},
		{"configured domain", "GET", "bkt.s3.local:9000", "/dir/k", Options{VirtualHostDomains: []string{"s3.local"}}, OpGetObject, "s3.local", "bkt", "dir/k"},
		{"ip is path style", "GET", "127.0.0.1:9000", "/bkt/k", Options{Origin: "http://o"}, OpGetObject, "http://o", "bkt", "k"},
		{"unknown host keeps its name", "GET", "bkt.example.com", "/k/x", Options{Origin: "http://o"}, OpGetObject, "http://o|host:bkt.example.com", "k", "x"},
		{"escaped key", "GET", "127.0.0.1", "/bkt/a%20b%2Fc", Options{}, OpGetObject, "", "bkt", "a b/c"},
		{"list objects", "GET", "127.0.0.1", "/bkt?list-type=2", Options{}, OpOther, "", "bkt", ""},
		{"list buckets", "GET", "127.0.0.1", "/", Options{}, OpOther, "", "", ""},
		{"tagging is not the object", "GET", "127.0.0.1", "/bkt/k?tagging", Options{}, OpOther, "", "bkt", "k"},
		{"unknown parameter", "GET", "127.0.0.1", "/bkt/k?some-new-thing=1", Options{}, OpOther, "", "bkt", "k"},
		{"put", "PUT", "127.0.0.1", "/bkt/k", Options{}, OpPutObject, "", "bkt", "k"},
		{"upload part", "PUT", "127.0.0.1", "/bkt/k?partNumber=2&uploadId=abc", Options{}, OpUploadPart, "", "bkt", "k"},
		{"create mpu", "POST", "127.0.0.1", "/bkt/k?uploads", Options{}, OpCreateMultipartUpload, "", "bkt", "k"},
		{"complete mpu", "POST", "127.0.0.1", "/bkt/k?uploadId=abc", Options{}, OpCompleteMultipartUpload, "", "bkt", "k"},
		{"abort mpu", "DELETE", "127.0.0.1", "/bkt/k?uploadId=abc", Options{}, OpAbortMultipartUpload, "", "bkt", "k"},
		{"delete", "DELETE", "127.0.0.1", "/bkt/k?versionId=v1", Options{}, OpDeleteObject, "", "bkt", "k"},
		{"delete objects", "POST", "127.0.0.1", "/bkt?delete", Options{}, OpDeleteObjects, "", "bkt", ""},
		{"put tagging", "PUT", "127.0.0.1", "/bkt/k?tagging", Options{}, OpObjectSubresourceWrite, "", "bkt", "k"},
		{"dot-dot bucket", "GET", "127.0.0.1", "/../k", Options{}, OpOther, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://"+tc.host+tc.target, nil)
			got := Parse(r, tc.opt)
			if got.Op != tc.op || got.Endpoint != tc.endpoint || got.Bucket != tc.bucket || got.Key != tc.key {
				t.Errorf("got op=%v endpoint=%q bucket=%q key=%q; want op=%v endpoint=%q bucket=%q key=%q",
					got.Op, got.Endpoint, got.Bucket, got.Key, tc.op, tc.endpoint, tc.bucket, tc.key)
			}
		})
	}
}

func TestParseRequestDetails(t *testing.T) {
	r := httptest.NewRequest("GET", "http://127.0.0.1/b/k?versionId=v2&partNumber=3&response-content-type=text/csv", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AK/20261126/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=ab")
	r.Header.Set("X-Amz-Date", "20261126T120000Z")
	r.Header.Set("Range", "bytes=0-9")
	r.Header.Set("If-None-Match", `"x"`)
	r.Header.Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", "AES256")
	got := Parse(r, Options{})
	if got.VersionID != "v2" || got.PartNumber != 3 || got.Range != "bytes=0-9" || !got.Conditional || !got.SSEC {
		t.Errorf("details not parsed: %+v", got)
	}
	if got.Overrides.Get("Content-Type") != "text/csv" {
		t.Errorf("overrides = %v", got.Overrides)
	}
	if got.Auth.Kind != AuthHeaderV4 || !got.Auth.Signs("Range") || got.Auth.Signs("if-none-match") {
		t.Errorf("auth = %+v", got.Auth)
	}
	signed := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	if got.Auth.ExpiredAt(signed.Add(time.Minute)) || !got.Auth.ExpiredAt(signed.Add(16*time.Minute)) {
		t.Error("header signature expiry window wrong")
	}
}

func TestPresignedAuth(t *testing.T) {
	r := httptest.NewRequest("GET", "http://127.0.0.1/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261126T120000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00", nil)
	got := Parse(r, Options{})
	if got.Op != OpGetObject || got.Auth.Kind != AuthPresignedV4 || got.Auth.Signs("range") {
		t.Fatalf("presigned GET misread: %+v", got)
	}
	signed := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	if got.Auth.ExpiredAt(signed.Add(59*time.Second)) || !got.Auth.ExpiredAt(signed.Add(61*time.Second)) {
		t.Error("presigned expiry wrong")
	}
}

func TestCacheDirectives(t *testing.T) {
	h := http.Header{}
	h.Set("Pragma", "no-cache")
	if nc, ns := cacheDirectives(h); !nc || ns {
		t.Errorf("pragma: %v %v", nc, ns)
	}
	h.Set("Cache-Control", "max-age=0, No-Store")
	if nc, ns := cacheDirectives(h); !nc || !ns {
		t.Errorf("no-store: %v %v", nc, ns)
	}
}

func TestRange(t *testing.T) {
	tests := []struct {
		header     string
		size       int64
		start, end int64
		ok         bool
		parseErr   bool
	}{
		{"bytes=0-9", 100, 0, 9, true, false},
		{"bytes=0-", 100, 0, 99, true, false},
		{"bytes=90-200", 100, 90, 99, true, false},
		{"bytes=-10", 100, 90, 99, true, false},
		{"bytes=-1000", 100, 0, 99, true, false},
		{"bytes=100-", 100, 0, 0, false, false},
		{"bytes=-0", 100, 0, 0, false, false},
		{"bytes=0-0", 0, 0, 0, false, false},
		{"bytes=0-1,5-6", 100, 0, 0, false, true},
		{"bytes=5-1", 100, 0, 0, false, true},
		{"items=0-1", 100, 0, 0, false, true},
		{"bytes=+1-2", 100, 0, 0, false, true},
		{"bytes=99999999999999999999-", 100, 0, 0, false, true},
	}
	for _, tc := range tests {
		br, err := ParseRange(tc.header)
		if (err != nil) != tc.parseErr {
			t.Errorf("%q: parse error %v, want error=%v", tc.header, err, tc.parseErr)
			continue
		}
		if err != nil {
			continue
		}
		s, e, ok := br.Resolve(tc.size)
		if ok != tc.ok || (ok && (s != tc.start || e != tc.end)) {
			t.Errorf("%q on %d: got %d-%d ok=%v; want %d-%d ok=%v", tc.header, tc.size, s, e, ok, tc.start, tc.end, tc.ok)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=-5", "bytes=7-", "bytes=1-2,3-4", ""} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		br, err := ParseRange(h)
		if err != nil || size < 0 {
			return
		}
		s, e, ok := br.Resolve(size)
		if ok && (s < 0 || e < s || e >= size) {
			t.Fatalf("%q on %d resolved to %d-%d", h, size, s, e)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add("GET", "bkt.s3.amazonaws.com", "/k?versionId=1", "bytes=0-1")
	f.Add("PUT", "127.0.0.1:80", "/b/k?partNumber=1&uploadId=x", "")
	f.Fuzz(func(t *testing.T, method, host, target, rng string) {
		r, err := http.NewRequest(method, "http://127.0.0.1"+target, nil)
		if err != nil {
			return
		}
		r.Host = host
		r.Header.Set("Range", rng)
		got := Parse(r, Options{VirtualHostDomains: []string{"s3.local"}})
		if got.Op != OpOther && !validBucket(got.Bucket) {
			t.Fatalf("invalid bucket %q accepted", got.Bucket)
		}
	})
}

// FuzzParseAuth checks the signature reader on hostile Authorization
// headers and presigned queries: it never panics, and whatever it reads,
// Signs answers consistently with SignedHeaders.
func FuzzParseAuth(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20261126/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-date, Signature=ab", "")
	f.Add("AWS4-ECDSA-P256-SHA256 Credential=AK/20261126/s3/aws4_request, SignedHeaders=host, Signature=00", "")
	f.Add("AWS AK:sig", "")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=host%3Brange&X-Amz-Date=20261126T000000Z&X-Amz-Expires=60")
	f.Fuzz(func(t *testing.T, authorization, rawQuery string) {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		h := map[string][]string{}
		if authorization != "" {
			h["Authorization"] = []string{authorization}
		}
		a := parseAuth(h, q)
		for _, name := range a.SignedHeaders {
			// Header names are ASCII tokens: case folds in ASCII only
			// (Unicode upper-casing of "ſ" is "S", another name).
			upper := strings.Map(func(r rune) rune {
				if r >= 'a' && r <= 'z' {
					return r - 'a' + 'A'
				}
				return r
			}, name)
			if (a.Kind == AuthHeaderV4 || a.Kind == AuthPresignedV4) && !a.Signs(upper) {
				t.Fatalf("%q listed in SignedHeaders but Signs says no", name)
			}
		}
		_ = a.ExpiredAt(time.Now())
	})
}

package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Region is the region every client and the local server use.
const Region = "us-east-1"

// VirtualDomain is the base domain for virtual-hosted-style requests: a client
// asks for BUCKET.s3.local.test:PORT, its connections are dialed to the proxy
// regardless of the name (no DNS involved), and versitygw is started with
// --virtual-domain s3.local.test so it finds the bucket in the Host header.
const VirtualDomain = "s3.local.test"

// ClientConfig describes an aws-sdk-go-v2 S3 client.
type ClientConfig struct {
	Endpoint  string // http(s)://host:port
	AccessKey string
	SecretKey string
	PathStyle bool
	// DialAddr, if set, is dialed for every connection whatever host the URL
	// names: that is how virtual-hosted names reach 127.0.0.1 without DNS.
	DialAddr string
	RootCAs  *x509.CertPool // for an https endpoint with a private CA
}

// NewHTTPClient returns a plain HTTP client that talks only to what it is
// told: no proxy from the environment, no transparent gzip, no redirects.
func NewHTTPClient(dialAddr string, roots *x509.CertPool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		Proxy:                 nil,
		DisableCompression:    true,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       30 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{RootCAs: roots},
		DialContext:           d.DialContext,
	}
	if dialAddr != "" {
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, dialAddr)
		}
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// NewClient builds an S3 client directly with s3.New (the machine sets
// AWS_CA_BUNDLE, which makes config.LoadDefaultConfig refuse a custom
// HTTPClient). Retries are off so that origin request counts are exact.
func NewClient(c ClientConfig) *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, ""),
		BaseEndpoint: aws.String(c.Endpoint),
		UsePathStyle: c.PathStyle,
		HTTPClient:   NewHTTPClient(c.DialAddr, c.RootCAs),
		Retryer:      aws.NopRetryer{},
	})
}

// RawResponse returns the HTTP response behind an SDK call's result metadata.
func RawResponse(md middleware.Metadata) *http.Response {
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
		return r.Response
	}
	return nil
}

// Header returns the raw response headers of an SDK call (empty if unknown).
func Header(md middleware.Metadata) http.Header {
	if r := RawResponse(md); r != nil {
		return r.Header
	}
	return http.Header{}
}

// XCache returns the X-Cache header of an SDK call's response.
func XCache(md middleware.Metadata) string { return Header(md).Get("X-Cache") }

// ErrInfo digs the HTTP status, the S3 error code and the response headers
// out of an SDK error. Status is 0 if the error carries no HTTP response.
func ErrInfo(err error) (status int, code string, h http.Header) {
	h = http.Header{}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		status = re.HTTPStatusCode()
		h = re.Response.Header
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	return status, code, h
}

// CertPool loads a PEM file into a new pool.
func CertPool(pemFile string) (*x509.CertPool, error) {
	b, err := os.ReadFile(pemFile)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, errors.New("no certificate in " + pemFile)
	}
	return p, nil
}

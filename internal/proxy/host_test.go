package proxy

import "testing"

func TestValidHost(t *testing.T) {
	good := []string{"s3.amazonaws.com", "bkt.s3.us-east-1.amazonaws.com:80", "127.0.0.1", "127.0.0.1:9000", "[::1]:80", "[::1]", "my_bucket.s3.local.test:8080"}
	bad := []string{"", "[::1", "::1", "bkt.s3.local.test:0", "host:99999", "host:", "%65%32e-bucket.s3.local.test", "a..b", "a b", "host:+80", "[127.0.0.1]:80", "x/y"}
	for _, h := range good {
		if !validHost(h) {
			t.Errorf("%q refused", h)
		}
	}
	for _, h := range bad {
		if validHost(h) {
			t.Errorf("%q accepted", h)
		}
	}
}

package qos

import "strings"

// maxClassLen bounds a class name, so a hostile User-Agent cannot make
// large keys.
const maxClassLen = 64

// Class names the fairness class of a request: "bkt:<bucket>", or with
// FairByUserAgent "ua:<application>" where the application is the value
// of an "app/NAME" token in the User-Agent (the AWS SDKs' application id)
// or else the User-Agent's first product name ("aws-cli", "Boto3" …).
func Class(fairness, bucket, userAgent string) string {
	if fairness != FairByUserAgent {
		return truncate("bkt:" + bucket)
	}
	return truncate("ua:" + application(userAgent))
}

func application(userAgent string) string {
	fields := strings.Fields(userAgent)
	for _, f := range fields {
		if app, ok := strings.CutPrefix(f, "app/"); ok && app != "" {
			return app
		}
	}
	if len(fields) == 0 {
		return "unknown"
	}
	product, _, _ := strings.Cut(fields[0], "/")
	return product
}

func truncate(s string) string {
	if len(s) > maxClassLen {
		return s[:maxClassLen]
	}
	return s
}

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/s3cache/s3cache/e2e/harness"
)

// TestHealthEndpoint: GET /health on the health listener answers 200 with JSON.
func TestHealthEndpoint(t *testing.T) {
	e := harness.NewEnv(t)
	resp, err := harness.NewHTTPClient("", nil).Get("http://" + e.Cache.HealthAddr + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /health: %s: %s", resp.Status, body)
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET /health: body is not a JSON object (%v): %s", err, body)
	}
}

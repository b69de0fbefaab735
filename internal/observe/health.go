package observe

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

// HealthHandler answers GET /health with the cache directory's state: 200
// when the directory is writable, 503 when it is not (s3cache still
// forwards, but caches nothing).
func HealthHandler(st *store.Store, started time.Time, version string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		cache := st.Check()
		body := struct {
			Status        string       `json:"status"`
			Version       string       `json:"version"`
			UptimeSeconds int64        `json:"uptime_seconds"`
			Cache         store.Health `json:"cache"`
		}{Status: "ok", Version: version, UptimeSeconds: int64(time.Since(started).Seconds()), Cache: cache}
		status := http.StatusOK
		if !cache.Writable {
			body.Status, status = "degraded", http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(body)
	})
	return mux
}

package cache

import (
	"net/http"
	"strconv"

	"github.com/s3cache/s3cache/internal/relay"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// Page-aligned read-ahead: analytics engines read Parquet and ORC files as
// many small ranges (footer, then column chunks), usually through presigned
// URLs whose signatures leave Range free. With ReadAheadPage set, a small
// unsigned range is widened to the aligned page(s) around it; the client
// gets exactly its range, and later small reads in the same pages are hits.

// maxReadAheadPage bounds the page size.
const maxReadAheadPage = 64 << 20

// readAheadPage is the page size to widen req to, 0 when read-ahead does
// not apply: off, a signed Range, a part, or a range already a page long.
func (c *Cache) readAheadPage(req *s3req.Request, first, last int64) int64 {
	p := min(c.cfg.ReadAheadPage, maxReadAheadPage)
	if p <= 0 || req.PartNumber > 0 || !canFetchGaps(req) || last < first || last-first+1 >= p {
		return 0
	}
	return p
}

// widen returns the page-aligned span around [start, end), clamped to size.
func widen(start, end, page, size int64) (int64, int64) {
	ws := start / page * page
	we := (end + page - 1) / page * page
	return ws, min(we, size)
}

// coldReadAhead serves a small unsigned range of an object nothing is known
// about by fetching its aligned page(s). It returns false, having written
// nothing, when it does not apply or S3's answer does not fit; the caller
// then forwards the exact range.
func (c *Cache) coldReadAhead(w http.ResponseWriter, r *http.Request, req *s3req.Request, id store.ObjectID) bool {
	br, err := s3req.ParseRange(req.Range)
	if err != nil || br.IsSuffix || br.Last < 0 {
		return false
	}
	page := c.readAheadPage(req, br.First, br.Last)
	if page == 0 {
		return false
	}
	ws, we := widen(br.First, br.Last+1, page, br.First+page*2) // size unknown yet: S3 clamps
	ctx, cancel := fetchCtx(r)
	startedAt := c.now()
	resp, err := c.origin.Send(ctx, r, http.Header{"Range": {"bytes=" + strconv.FormatInt(ws, 10) + "-" + strconv.FormatInt(we-1, 10)}})
	if err != nil {
		cancel()
		return false
	}
	m, ext := c.fillable(id, req, resp, startedAt)
	if m == nil || resp.StatusCode != http.StatusPartialContent || br.First >= m.Size {
		resp.Body.Close()
		cancel()
		return false
	}
	sp := span{start: br.First, end: min(br.Last+1, m.Size)}
	if sp.start < ext.Start || sp.end > ext.End {
		resp.Body.Close()
		cancel()
		return false
	}
	f := c.startFill(id, m, ext, resp, startedAt, cancel, nil)
	if f == nil {
		resp.Body.Close()
		cancel()
		return false
	}
	f.Detach() // the page is the point: finish it even if the client leaves
	defer f.Release()
	c.writeObjectHead(w, req, m, sp, relay.Miss)
	if _, err := streamFill(r.Context(), w, f, sp.start, sp.end); err != nil {
		panic(http.ErrAbortHandler)
	}
	return true
}

// Package fill runs origin fetches that land in the cache and lets any
// number of readers stream the bytes while they arrive.
//
// A Fill is one origin response body for a byte range of one object
// version. Its bytes go to a store.SegmentWriter (a temp file); readers,
// including the client whose request started it, follow the file as it
// grows, so a second client asking for the same bytes waits about as long
// as the first for its first byte instead of for the whole download. The
// fetch belongs to no single client: it stops when its last reader leaves,
// and whatever arrived is kept as a segment.
//
// A Registry lists the fills in flight per object so that the read path can
// coalesce concurrent requests for the same bytes onto one fetch.
package fill

// Package ram is the in-memory tier in front of the cache directory.
//
// It holds two things, each bounded and admitted by frequency (otter's
// W-TinyLFU-style policy, not a hand-written LRU): object entries
// (metadata plus the list of segments), so planning a hot object's response
// touches no disk; and the bytes of small segments, so hot small objects
// are served from memory.
//
// Bytes are keyed by object version (ETag) and byte range, so they can never
// be wrong for that key. Entries can go stale when another instance changes
// the object: each is re-checked against the directory's stamp (two stats)
// at most once per RecheckEvery, which bounds how long another instance's
// invalidation takes to be seen here. Changes made by this process drop the
// entry at once (store.OnChange).
package ram

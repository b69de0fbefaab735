// Package evict keeps a cache directory shared by several s3cache instances
// (over NFS, say) within max_cache_size: it knows the directory's size
// without scanning it, evicts the least valuable segments when the size
// passes a trigger, and sweeps what crashed writers and expired entries
// leave behind.
//
// Size accounting. Each instance adds up, per shard objects/<xx>/, the bytes
// its store publishes and removes (Added, Removed) and every few seconds
// writes them as an immutable file v1/size/delta-<instance>-<seq>.json.
// Whichever instance holds the accounting lock merges the deltas into
// v1/size/state.json (temp file + rename) and deletes the files it merged;
// state.json lists the names it merged, so a merger that dies between the
// rename and the deletes never counts a delta twice. Scans correct what
// deltas miss (meta.json, another instance's crash): a background pass at
// startup measures every shard the other instances have not measured
// recently, then a rolling cursor measures a couple of shards per cycle, so
// the whole tree is re-measured about once an hour without ever walking it
// all at once. Each scan also removes old tombstones, orphaned segments and,
// in active-expiry mode, objects whose data is older than get_ttl.
//
// Eviction. Accesses (Touch on every hit and fill; Hold while a segment is
// streamed, so it counts as accessed at every flush) are counted in memory and
// written every few seconds as v1/access/touch-<instance>-<seq>.json; the
// accounting lock holder folds them into a sidecar access.json in each
// object's directory. (Sidecars rather than one file per instance: a fold
// writes only the objects touched since the last one, and the evictor reads
// an object's counts where it lists its segments.) When the shared size passes the trigger, one instance
// (eviction lock, fenced by a token re-read before each batch) walks the
// shards, scores every segment by its access count halved per idle hour
// (TinyLFU-like; ties go to the oldest access; an "lru" policy scores by
// last access alone for comparison) and deletes the lowest-scored ones
// until the size is under the target. A segment accessed or written in the
// last minute is spared unless the size is above the critical level.
//
// Everything runs in Run's goroutines and stops with its context; Size,
// Capacity and Stats are cheap reads for metrics and health.
//
// FORMAT.md in internal/store ("Capacity") documents the files and why they
// are safe on NFS.
package evict

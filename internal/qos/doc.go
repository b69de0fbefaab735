// Package qos shares a ceiling on origin download bandwidth between the
// callers of cache misses, across every s3cache instance that shares the
// cache directory. It is off unless a ceiling is configured.
//
// # What is throttled
//
// Only the origin bodies that feed fills: the caller wraps them with
// Limiter.Reader. Cache hits never pass through a Limiter, so they are
// never slowed down.
//
// # Fleet share
//
// The ceiling is for the whole fleet. Each instance touches a heartbeat
// file, <cache_dir>/v1/qos/<instance>.hb, every HeartbeatEvery (10 s) and
// counts the files younger than LiveWithin (30 s); its own ceiling is the
// fleet ceiling divided by that count. Ages are measured against the
// instance's own freshly written file, so the clocks of the hosts sharing
// an NFS directory need not agree, only the server's. Files older than
// ReapAfter (10 min) are removed; an instance removes its own on exit.
//
// # Fairness: deficit round robin over classes
//
// Callers are grouped into classes ("bkt:<bucket>" or "ua:<application>",
// see Class). Every Refill (100 ms) the instance's budget, ceiling × the
// time since the last refill, is dealt out in Quantum-sized turns (DRR) to
// the backlogged classes: those with a read waiting, or that spent all
// they had since the last refill. A class that did not use its allowance
// gets nothing new, so the budget goes to the classes that can use it;
// whatever no class needs is kept as spare (at most one refill's worth,
// the token bucket) for the next caller. Within a class, waiting reads are
// served in arrival order. Reads are paid after they happen: a Read takes
// at most Quantum bytes from the origin body, then waits until its class
// can pay for them, which holds back the next Read and so the origin's TCP
// window. An allowance may go negative by one read per reader; the debt is
// repaid from later refills, so the long-run rate is exact.
//
// # Failing open
//
// Throttling must never break a download. When the heartbeat directory is
// unusable the instance uses FallbackInstances (1) as the live count, so
// the local ceiling is the whole fleet ceiling. A read that waits longer
// than MaxWait goes ahead (and is counted in Stats.FailOpen). When Run is
// not running, Readers do not throttle at all.
package qos

// Package rules reads the per-bucket and per-key rules file, keeps it
// current while s3cache runs, and answers, for one object, what the rules
// say about it.
//
// The file format is described for operators in README.md and by
// rules.schema.json. In short: a list of rules, each with an optional
// bucket glob, an optional key glob and some settings; for each setting
// independently, the first matching rule that sets it wins, otherwise the
// global default from the YAML configuration applies.
//
// # Hot path
//
// Lookups run on every request. Globs are compiled once per load into the
// common shapes (exact, prefix**, **suffix, prefix**suffix) plus a token
// walk for the rest; no regexp, no allocation per lookup. Rules naming a
// bucket exactly are indexed by bucket, and a lookup stops as soon as no
// later rule can set a field it still needs.
//
// # Reloading
//
// Watch keeps a Set current: fsnotify on the file's directory (editors
// replace the file by a rename) plus a stat every second (size, mtime,
// ctime, inode), because NFS delivers no inotify events for writes made on
// other hosts. A new table is swapped in atomically. An invalid version is
// logged once and the previous rules stay; a removed file drops the rules
// after it has stayed missing for a second. An invalid file at start is an
// error (see Watch).
//
// # Who consumes which field
//
//   - get_ttl, head_ttl, read_cache: the read path (internal/cache), through
//     Set.Settings, which makes a *Set a cache.Rules.
//   - put_ttl, write_cache: meant for write-through (freshness of and
//     admission for write-cached objects); not yet consumed.
//   - compression: meant for the store's choice to LZ4 a new entry (today
//     the global compression setting); not yet consumed.
//   - ram_cache: meant for the RAM tier's admission (internal/ram); not yet
//     consumed. Its consumer should also refuse entries whose resolved
//     get_ttl is 0 or whose read_cache is false.
//   - hedging, hedge_after: meant for the origin client's hedged requests
//     (internal/origin); not yet consumed.
//
// Every field is available through Set.Resolve, with whether a rule set it.
package rules

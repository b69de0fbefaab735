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
//   - get_ttl, head_ttl, put_ttl, read_cache, ram_cache, compression: the
//     read path (internal/cache), through Set.Settings, which makes a *Set
//     a cache.Rules.
//   - write_cache, compression: the write path (internal/proxy), through
//     cache.Cache.Settings.
//   - hedging, hedge_after: every origin request made for the object; the
//     proxy puts the resolved value in the request's context
//     (origin.WithHedgeAfter).
//
// Every field is available through Set.Resolve, with whether a rule set it.
package rules

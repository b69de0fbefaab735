// Package config holds s3cache's settings: their defaults, how they are read
// from a YAML file, and how each one is overridden by a command-line flag.
//
// Every setting lives in one flat struct, Config. A field's `yaml` tag is its
// key in the file and, with underscores turned into dashes, its flag name, so
// a new setting is settable both ways as soon as it is declared. Precedence is
// defaults, then the file, then flags.
package config

package observe

import (
	"fmt"
	"io"
	"log/slog"
)

// NewLogger returns the application logger: text or JSON records on w at
// the level level holds (change it to change verbosity while running; nil
// means info), with warnings and errors also kept in recent when it is not nil.
func NewLogger(w io.Writer, format string, level *slog.LevelVar, recent *ErrorRing) *slog.Logger {
	opts := &slog.HandlerOptions{}
	if level != nil {
		opts.Level = level
	}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	if recent != nil {
		h = recent.Handler(h)
	}
	return slog.New(h)
}

// SetLevel parses a level name (debug, info, warn, error) into level.
func SetLevel(level *slog.LevelVar, name string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(name)); err != nil {
		return fmt.Errorf("log level %q: %w", name, err)
	}
	level.Set(l)
	return nil
}

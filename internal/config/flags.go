package config

import (
	"flag"
	"fmt"
	"reflect"
	"strings"
)

// RegisterFlags defines one flag per Config field on fs, named after the
// field's yaml key with dashes. Flags write straight into c, so parse the
// file into c first and the flags afterwards to get file < flag precedence.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		field := t.Field(i)
		key, _, _ := strings.Cut(field.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		name := strings.ReplaceAll(key, "_", "-")
		usage := field.Tag.Get("usage")
		ptr := v.Field(i).Addr().Interface()
		switch p := ptr.(type) {
		case flag.Value:
			fs.Var(p, name, usage)
		case *string:
			fs.StringVar(p, name, *p, usage)
		case *bool:
			fs.BoolVar(p, name, *p, usage)
		case *int:
			fs.IntVar(p, name, *p, usage)
		case *int64:
			fs.Int64Var(p, name, *p, usage)
		case *float64:
			fs.Float64Var(p, name, *p, usage)
		case *[]string:
			fs.Var((*stringList)(p), name, usage)
		default:
			panic(fmt.Sprintf("config: field %s has no flag type", field.Name))
		}
	}
}

// stringList is a comma-separated flag for []string settings.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(s string) error {
	*l = nil
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// Load builds the effective configuration from args (without the program
// name): defaults, then the file named by --config, then the other flags.
func Load(name string, args []string) (Config, error) {
	c := Default()
	// First pass: find --config without failing on the other flags.
	path := configPath(args)
	if path != "" {
		if err := c.LoadFile(path); err != nil {
			return c, err
		}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.String("config", path, "YAML configuration file; flags override its keys")
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, c.Validate()
}

func configPath(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, "config="); ok {
			return v
		}
		if a == "config" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

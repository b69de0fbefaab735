package main

import (
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/s3cache/s3cache/internal/config"
)

// cmdConfig runs `s3cache config check FILE [flags]`.
func cmdConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "check" || strings.HasPrefix(args[1], "-") {
		fmt.Fprintln(stderr, "usage: s3cache config check FILE [--flag value …]")
		fmt.Fprintln(stderr, "  validates FILE (with any flags applied on top) and prints the effective configuration as YAML")
		return 2
	}
	cfg, err := config.Load("s3cache config check", append([]string{"--config", args[1]}, args[2:]...))
	if err != nil {
		fmt.Fprintf(stderr, "s3cache: %s: invalid: %v\n", args[1], err)
		return 1
	}
	out, err := effectiveYAML(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "s3cache:", err)
		return 1
	}
	fmt.Fprintf(stdout, "# effective configuration: defaults, then %s, then flags\n", args[1])
	stdout.Write(out)
	fmt.Fprintf(stderr, "%s: OK\n", args[1])
	return 0
}

// configField is one setting: its yaml key, value and printed form.
type configField struct {
	key   string
	value reflect.Value
	text  string
}

// configFields lists every setting of c in declaration order.
func configFields(c config.Config) []configField {
	v := reflect.ValueOf(c)
	t := v.Type()
	var out []configField
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		fv := v.Field(i)
		out = append(out, configField{key: key, value: fv, text: fieldText(fv)})
	}
	return out
}

// fieldText prints a setting as it would be written as a flag: durations
// as "90s", lists comma-separated, maps as sorted "key=value" pairs.
func fieldText(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Map:
		keys := v.MapKeys()
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprint(k.Interface())+"="+fieldText(v.MapIndex(k)))
		}
		sort.Strings(parts)
		return strings.Join(parts, ";")
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return strings.Join(parts, ",")
	}
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprint(v.Interface())
}

// effectiveYAML renders c as a YAML document that config.LoadFile reads back.
func effectiveYAML(c config.Config) ([]byte, error) {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	for _, f := range configFields(c) {
		val, err := yamlValue(f)
		if err != nil {
			return nil, err
		}
		doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: f.key}, val)
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	return out, nil
}

// yamlValue encodes one setting; numbers with a unit (durations, sizes)
// are written in the form their flag takes.
func yamlValue(f configField) (*yaml.Node, error) {
	if _, ok := f.value.Interface().(fmt.Stringer); ok && (f.value.CanInt() || f.value.CanFloat()) {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: f.text}, nil
	}
	n := &yaml.Node{}
	if err := n.Encode(f.value.Interface()); err != nil {
		return nil, fmt.Errorf("render setting %s: %w", f.key, err)
	}
	if n.Kind == yaml.SequenceNode {
		n.Style = yaml.FlowStyle
	}
	return n, nil
}

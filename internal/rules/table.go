package rules

import "time"

// Field is one resolved setting: its value when a rule set it.
type Field[T any] struct {
	Value T
	Set   bool // a rule set it; otherwise Value is the zero value
}

// Or returns the rule's value, or def when no rule set the field.
func (f Field[T]) Or(def T) T {
	if f.Set {
		return f.Value
	}
	return def
}

// Resolved is what the rules say about one object: each field comes from
// the first matching rule that sets it. Unset fields fall back to the
// caller's defaults (use Or). Which subsystem consumes which field is
// listed in doc.go.
type Resolved struct {
	GetTTL      Field[time.Duration]
	HeadTTL     Field[time.Duration]
	PutTTL      Field[time.Duration]
	ReadCache   Field[bool]
	WriteCache  Field[bool]
	Compression Field[bool]
	RAMCache    Field[bool]
	Hedging     Field[bool]
	HedgeAfter  Field[time.Duration]
}

// Table is a compiled, immutable rule list. The zero Table and a nil *Table
// hold no rules.
type Table struct {
	rules []rule
	// byBucket lists, for each bucket named exactly by some rule, the rules
	// that can apply to it; other buckets use others. Lists keep file order.
	byBucket map[string][]candidate
	others   []candidate
}

// candidate is a rule worth trying for a bucket, with the fields that it
// and every rule after it in the same list can set: once a lookup has all
// of those it wants, the rest of the list cannot change the answer.
type candidate struct {
	rule *rule
	rest fieldMask
}

func newTable(compiled []rule) *Table {
	t := &Table{rules: compiled}
	exact := map[string]bool{}
	for i := range t.rules {
		if b := &t.rules[i].bucket; b.shape == shapeExact {
			exact[b.prefix] = true
		}
	}
	if len(exact) > 0 {
		t.byBucket = make(map[string][]candidate, len(exact))
	}
	for name := range exact {
		t.byBucket[name] = t.candidates(func(b *pattern) bool { return b.shape != shapeExact || b.prefix == name })
	}
	t.others = t.candidates(func(b *pattern) bool { return b.shape != shapeExact })
	return t
}

// candidates lists, in file order, the rules whose bucket pattern passes keep.
func (t *Table) candidates(keep func(*pattern) bool) []candidate {
	var list []candidate
	for i := range t.rules {
		if keep(&t.rules[i].bucket) {
			list = append(list, candidate{rule: &t.rules[i]})
		}
	}
	var rest fieldMask
	for i := len(list) - 1; i >= 0; i-- {
		rest |= list[i].rule.sets
		list[i].rest = rest
	}
	return list
}

// Len is the number of rules.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.rules)
}

// Resolve returns every field the rules set for bucket/key.
func (t *Table) Resolve(bucket, key string) Resolved {
	return t.resolve(bucket, key, allFields)
}

// resolve fills the fields in want. It allocates nothing.
func (t *Table) resolve(bucket, key string, want fieldMask) Resolved {
	var r Resolved
	if t == nil {
		return r
	}
	list := t.others
	if t.byBucket != nil {
		if l, ok := t.byBucket[bucket]; ok {
			list = l
		}
	}
	var got fieldMask
	for _, c := range list {
		need := want &^ got
		if c.rest&need == 0 {
			break
		}
		ru := c.rule
		if ru.sets&need == 0 || !ru.bucket.match(bucket) || !ru.key.match(key) {
			continue
		}
		ru.apply(&r, ru.sets&need)
		got |= ru.sets & need
	}
	return r
}

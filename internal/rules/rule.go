package rules

import (
	"errors"
	"fmt"
	"time"
)

// MaxTTL is the longest TTL a rule may set: ten years, the same "forever"
// the default get_ttl uses. Anything longer is taken for a typo.
const MaxTTL = 10 * 365 * 24 * time.Hour

// fieldMask has one bit per setting a rule can set.
type fieldMask uint16

const (
	fieldGetTTL fieldMask = 1 << iota
	fieldHeadTTL
	fieldPutTTL
	fieldReadCache
	fieldWriteCache
	fieldCompression
	fieldRAMCache
	fieldHedging
	fieldHedgeAfter

	allFields = fieldHedgeAfter<<1 - 1
)

// rule is one compiled rule: where it applies and what it sets.
type rule struct {
	bucket, key pattern
	sets        fieldMask
	values      Resolved // only the fields in sets are meaningful
}

// compileRule checks one rule and compiles its patterns.
func compileRule(rf *ruleFormat) (rule, error) {
	r := rule{bucket: matchAll(), key: matchAll()}
	var err error
	if rf.Bucket != nil {
		if r.bucket, err = compilePattern(*rf.Bucket, false); err != nil {
			return rule{}, fmt.Errorf("bucket %q: %w", *rf.Bucket, err)
		}
	}
	if rf.Key != nil {
		if r.key, err = compilePattern(*rf.Key, true); err != nil {
			return rule{}, fmt.Errorf("key %q: %w", *rf.Key, err)
		}
	}
	durations := []struct {
		name  string
		text  *string
		bit   fieldMask
		dst   *Field[time.Duration]
		check func(time.Duration) error
	}{
		{"get_ttl", rf.GetTTL, fieldGetTTL, &r.values.GetTTL, checkTTL},
		{"head_ttl", rf.HeadTTL, fieldHeadTTL, &r.values.HeadTTL, checkTTL},
		{"put_ttl", rf.PutTTL, fieldPutTTL, &r.values.PutTTL, checkTTL},
		{"hedge_after", rf.HedgeAfter, fieldHedgeAfter, &r.values.HedgeAfter, checkHedgeAfter},
	}
	for _, d := range durations {
		if d.text == nil {
			continue
		}
		v, err := time.ParseDuration(*d.text)
		if err == nil {
			err = d.check(v)
		}
		if err != nil {
			return rule{}, fmt.Errorf("%s %q: %w", d.name, *d.text, err)
		}
		*d.dst = Field[time.Duration]{Value: v, Set: true}
		r.sets |= d.bit
	}
	switches := []struct {
		value *bool
		bit   fieldMask
		dst   *Field[bool]
	}{
		{rf.ReadCache, fieldReadCache, &r.values.ReadCache},
		{rf.WriteCache, fieldWriteCache, &r.values.WriteCache},
		{rf.Compression, fieldCompression, &r.values.Compression},
		{rf.RAMCache, fieldRAMCache, &r.values.RAMCache},
		{rf.Hedging, fieldHedging, &r.values.Hedging},
	}
	for _, s := range switches {
		if s.value != nil {
			*s.dst = Field[bool]{Value: *s.value, Set: true}
			r.sets |= s.bit
		}
	}
	if r.sets == 0 {
		return rule{}, errors.New("the rule sets no setting")
	}
	return r, nil
}

func checkTTL(d time.Duration) error {
	switch {
	case d < 0:
		return errors.New("negative TTL")
	case d > MaxTTL:
		return fmt.Errorf("over the %v maximum", MaxTTL)
	}
	return nil
}

func checkHedgeAfter(d time.Duration) error {
	if d <= 0 {
		return errors.New("must be positive")
	}
	return nil
}

// apply copies the fields in mask from the rule into r.
func (ru *rule) apply(r *Resolved, mask fieldMask) {
	v := &ru.values
	for m := mask; m != 0; m &= m - 1 {
		switch m & -m { // the lowest bit left
		case fieldGetTTL:
			r.GetTTL = v.GetTTL
		case fieldHeadTTL:
			r.HeadTTL = v.HeadTTL
		case fieldPutTTL:
			r.PutTTL = v.PutTTL
		case fieldReadCache:
			r.ReadCache = v.ReadCache
		case fieldWriteCache:
			r.WriteCache = v.WriteCache
		case fieldCompression:
			r.Compression = v.Compression
		case fieldRAMCache:
			r.RAMCache = v.RAMCache
		case fieldHedging:
			r.Hedging = v.Hedging
		case fieldHedgeAfter:
			r.HedgeAfter = v.HedgeAfter
		}
	}
}

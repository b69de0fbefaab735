package rules

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokenKind is one element of a compiled pattern.
type tokenKind uint8

const (
	tokLiteral  tokenKind = iota // text that must appear as is
	tokOne                       // ?  : one character other than '/'
	tokStar                      // *  : any run of characters without '/'
	tokGlobstar                  // ** : any run of characters, '/' included
)

type token struct {
	kind tokenKind
	lit  string // tokLiteral only
}

// shape names the common pattern forms that match without the general
// matcher; they are what most rules look like.
type shape uint8

const (
	shapeAny          shape = iota // absent pattern, or "**"
	shapeExact                     // no wildcard
	shapePrefix                    // "lit**"
	shapeSuffix                    // "**lit"
	shapePrefixSuffix              // "lit**lit"
	shapeGeneral                   // anything else: token walk
)

// pattern is a glob compiled once per load. Matching allocates nothing.
type pattern struct {
	source string
	shape  shape
	prefix string  // the whole text for shapeExact; else the literal start
	suffix string  // the literal end
	tokens []token // shapeGeneral: what lies between prefix and suffix
}

// matchAll is the pattern of an absent "bucket" or "key": every name matches.
func matchAll() pattern { return pattern{shape: shapeAny} }

// compilePattern parses a glob. Besides the wildcards, a backslash makes the
// next '*', '?' or '\' literal (S3 keys may contain them). allowGlobstar is
// false for bucket patterns: bucket names have no '/', so "**" means nothing
// there and is more likely a mistake.
func compilePattern(src string, allowGlobstar bool) (pattern, error) {
	if src == "" {
		return pattern{}, errors.New("empty pattern (leave the field out to match everything)")
	}
	tokens, err := tokenize(src, allowGlobstar)
	if err != nil {
		return pattern{}, err
	}
	p := pattern{source: src, shape: shapeGeneral, tokens: tokens}
	switch kinds := tokenKinds(tokens); kinds {
	case "L":
		p.shape, p.prefix = shapeExact, tokens[0].lit
	case "G":
		p.shape = shapeAny
	case "S":
		if !allowGlobstar { // a bucket name has no '/': "*" takes them all
			p.shape = shapeAny
		}
	case "LG":
		p.shape, p.prefix = shapePrefix, tokens[0].lit
	case "GL":
		p.shape, p.suffix = shapeSuffix, tokens[1].lit
	case "LGL":
		p.shape, p.prefix, p.suffix = shapePrefixSuffix, tokens[0].lit, tokens[2].lit
	}
	if p.shape != shapeGeneral {
		p.tokens = nil
		return p, nil
	}
	// Literal ends are checked before the token walk: most keys that do
	// not match fail right there.
	if first := p.tokens[0]; first.kind == tokLiteral {
		p.prefix, p.tokens = first.lit, p.tokens[1:]
	}
	if last := p.tokens[len(p.tokens)-1]; last.kind == tokLiteral {
		p.suffix, p.tokens = last.lit, p.tokens[:len(p.tokens)-1]
	}
	return p, nil
}

// tokenize splits src into tokens, merging adjacent literal text.
func tokenize(src string, allowGlobstar bool) ([]token, error) {
	var tokens []token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			tokens = append(tokens, token{kind: tokLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '\\':
			if i+1 >= len(src) {
				return nil, errors.New("pattern ends in a lone backslash")
			}
			next := src[i+1]
			if next != '*' && next != '?' && next != '\\' {
				return nil, fmt.Errorf(`backslash before %q: only \*, \? and \\ are escapes`, rune(next))
			}
			lit.WriteByte(next)
			i += 2
		case '*':
			stars := len(src[i:]) - len(strings.TrimLeft(src[i:], "*"))
			flush()
			switch {
			case stars == 1:
				tokens = append(tokens, token{kind: tokStar})
			case stars == 2 && allowGlobstar:
				tokens = append(tokens, token{kind: tokGlobstar})
			case stars == 2:
				return nil, errors.New(`"**" in a bucket pattern (bucket names have no '/': use "*")`)
			default:
				return nil, fmt.Errorf("%d stars in a row: use * (one path segment) or ** (any depth)", stars)
			}
			i += stars
		case '?':
			flush()
			tokens = append(tokens, token{kind: tokOne})
			i++
		default:
			_, w := utf8.DecodeRuneInString(src[i:])
			lit.WriteString(src[i : i+w])
			i += w
		}
	}
	flush()
	return tokens, nil
}

// tokenKinds spells the token sequence as letters (L literal, G globstar,
// S star, O one) so compilePattern can recognise the simple shapes.
func tokenKinds(tokens []token) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte("LOSG"[t.kind])
	}
	return b.String()
}

// match reports whether s matches the whole pattern.
func (p *pattern) match(s string) bool {
	switch p.shape {
	case shapeAny:
		return true
	case shapeExact:
		return s == p.prefix
	case shapePrefix:
		return strings.HasPrefix(s, p.prefix)
	case shapeSuffix:
		return strings.HasSuffix(s, p.suffix)
	case shapePrefixSuffix:
		return len(s) >= len(p.prefix)+len(p.suffix) &&
			strings.HasPrefix(s, p.prefix) && strings.HasSuffix(s, p.suffix)
	}
	if len(s) < len(p.prefix)+len(p.suffix) || !strings.HasPrefix(s, p.prefix) || !strings.HasSuffix(s, p.suffix) {
		return false
	}
	return matchTokens(p.tokens, s[len(p.prefix):len(s)-len(p.suffix)])
}

// matchTokens is the general matcher: the classic greedy wildcard walk that
// remembers where to resume when a star should have swallowed more, extended
// to two kinds of star.
//
// On a mismatch the latest star takes one more character. A single-segment
// star cannot take a '/'; then the latest globstar takes one more instead.
// That is enough: a later star can do whatever an earlier one of the same
// reach could have done, and a '/' ends every single-segment star's choices
// (the '/' must be matched by the same literal '/' whatever they took), so
// only a globstar can get past it.
//
// Every backtrack moves the globstar's resume point forward, or else the
// latest star's, so the walk ends after at most len(s)² steps per token, and
// for realistic patterns after about len(s).
func matchTokens(tokens []token, s string) bool {
	ti, si := 0, 0
	starTok, starPos, starIsGlob := -1, 0, false // latest star: resume point
	globTok, globPos := -1, 0                    // latest globstar: resume point
	for {
		if ti < len(tokens) {
			switch t := tokens[ti]; t.kind {
			case tokStar, tokGlobstar:
				ti++
				starTok, starPos, starIsGlob = ti, si, t.kind == tokGlobstar
				if starIsGlob {
					globTok, globPos = ti, si
				}
				continue
			case tokOne:
				if si < len(s) && s[si] != '/' {
					_, w := utf8.DecodeRuneInString(s[si:])
					si += w
					ti++
					continue
				}
			case tokLiteral:
				if strings.HasPrefix(s[si:], t.lit) {
					si += len(t.lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		switch {
		case starTok >= 0 && starPos < len(s) && (starIsGlob || s[starPos] != '/'):
			_, w := utf8.DecodeRuneInString(s[starPos:])
			starPos += w
		case globTok >= 0 && globPos < len(s):
			_, w := utf8.DecodeRuneInString(s[globPos:])
			globPos += w
			starTok, starPos, starIsGlob = globTok, globPos, true
		default:
			return false
		}
		ti, si = starTok, starPos
	}
}

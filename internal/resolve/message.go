package resolve

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// ednsPayload is the UDP payload size advertised with EDNS0, the value the
// DNS flag day 2020 recommends to avoid fragmentation.
const ednsPayload = 1232

// maxCNAMEChain bounds how many aliases an answer may chain through.
const maxCNAMEChain = 8

// errNoSuchHost is the answer NXDOMAIN: authoritative, not worth asking
// another server.
var errNoSuchHost = errors.New("no such host")

// errServerFailed marks answers that another server might answer better
// (SERVFAIL, REFUSED, malformed).
var errServerFailed = errors.New("server failure")

// buildQuery encodes a recursive query for one name and type, with an EDNS0
// record advertising ednsPayload.
func buildQuery(id uint16, name dnsmessage.Name, qtype dnsmessage.Type) ([]byte, error) {
	b := dnsmessage.NewBuilder(make([]byte, 2, 514), dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(dnsmessage.Question{Name: name, Type: qtype, Class: dnsmessage.ClassINET}); err != nil {
		return nil, err
	}
	if err := b.StartAdditionals(); err != nil {
		return nil, err
	}
	var opt dnsmessage.ResourceHeader
	if err := opt.SetEDNS0(ednsPayload, dnsmessage.RCodeSuccess, false); err != nil {
		return nil, err
	}
	if err := b.OPTResource(opt, dnsmessage.OPTResource{}); err != nil {
		return nil, err
	}
	msg, err := b.Finish()
	if err != nil {
		return nil, err
	}
	return msg[2:], nil // the two spare bytes leave room for the TCP length prefix
}

// answer is what one response says about the queried name.
type answer struct {
	addrs     []netip.Addr
	ttl       uint32 // smallest TTL of the records used
	cname     string // where the chain ends when the server gave no address records
	truncated bool
}

// parseResponse checks that msg answers (id, name, qtype) and extracts the
// addresses of name, following CNAMEs inside the answer section.
func parseResponse(msg []byte, id uint16, name dnsmessage.Name, qtype dnsmessage.Type) (answer, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return answer{}, fmt.Errorf("parse header: %v: %w", err, errServerFailed)
	}
	if h.ID != id || !h.Response {
		return answer{}, errMismatch
	}
	q, err := p.Question()
	if err != nil || q.Type != qtype || q.Class != dnsmessage.ClassINET || !strings.EqualFold(q.Name.String(), name.String()) {
		return answer{}, errMismatch
	}
	if err := p.SkipAllQuestions(); err != nil {
		return answer{}, fmt.Errorf("parse questions: %v: %w", err, errServerFailed)
	}
	if h.Truncated {
		return answer{truncated: true}, nil
	}
	switch h.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return answer{}, errNoSuchHost
	default:
		return answer{}, fmt.Errorf("rcode %s: %w", h.RCode, errServerFailed)
	}
	return parseAnswers(&p, name, qtype)
}

// errMismatch marks a packet that is not the reply to our query (late,
// spoofed or for another question): keep waiting for the right one.
var errMismatch = errors.New("reply does not match the query")

func parseAnswers(p *dnsmessage.Parser, name dnsmessage.Name, qtype dnsmessage.Type) (answer, error) {
	type record struct {
		name string
		addr netip.Addr
		ttl  uint32
	}
	var records []record
	cnames := map[string]string{}
	cnameTTL := map[string]uint32{}
	for {
		rh, err := p.AnswerHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			break
		}
		if err != nil {
			return answer{}, fmt.Errorf("parse answer: %v: %w", err, errServerFailed)
		}
		owner := strings.ToLower(rh.Name.String())
		switch {
		case rh.Type == dnsmessage.TypeA && qtype == dnsmessage.TypeA && rh.Class == dnsmessage.ClassINET:
			r, err := p.AResource()
			if err != nil {
				return answer{}, fmt.Errorf("parse A: %v: %w", err, errServerFailed)
			}
			records = append(records, record{owner, netip.AddrFrom4(r.A), rh.TTL})
		case rh.Type == dnsmessage.TypeAAAA && qtype == dnsmessage.TypeAAAA && rh.Class == dnsmessage.ClassINET:
			r, err := p.AAAAResource()
			if err != nil {
				return answer{}, fmt.Errorf("parse AAAA: %v: %w", err, errServerFailed)
			}
			records = append(records, record{owner, netip.AddrFrom16(r.AAAA).Unmap(), rh.TTL})
		case rh.Type == dnsmessage.TypeCNAME:
			r, err := p.CNAMEResource()
			if err != nil {
				return answer{}, fmt.Errorf("parse CNAME: %v: %w", err, errServerFailed)
			}
			cnames[owner] = strings.ToLower(r.CNAME.String())
			cnameTTL[owner] = rh.TTL
		default:
			if err := p.SkipAnswer(); err != nil {
				return answer{}, fmt.Errorf("skip answer: %v: %w", err, errServerFailed)
			}
		}
	}

	target := strings.ToLower(name.String())
	var ans answer
	ans.ttl = ^uint32(0)
	for i := 0; ; i++ {
		next, ok := cnames[target]
		if !ok {
			break
		}
		if i >= maxCNAMEChain {
			return answer{}, fmt.Errorf("CNAME chain longer than %d: %w", maxCNAMEChain, errServerFailed)
		}
		ans.ttl = min(ans.ttl, cnameTTL[target])
		target = next
	}
	for _, r := range records {
		if r.name == target {
			ans.addrs = append(ans.addrs, r.addr)
			ans.ttl = min(ans.ttl, r.ttl)
		}
	}
	if len(ans.addrs) == 0 && target != strings.ToLower(name.String()) {
		ans.cname = target
	}
	if ans.ttl == ^uint32(0) {
		ans.ttl = 0
	}
	return ans, nil
}

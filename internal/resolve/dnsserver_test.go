package resolve

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// testDNS is a tiny authoritative DNS server on 127.0.0.1 (UDP and TCP, one
// port) for tests. Names are lower-case without the trailing dot.
type testDNS struct {
	addr    string
	udp     net.PacketConn
	tcp     net.Listener
	queries atomic.Int64
	wg      sync.WaitGroup

	mu        sync.Mutex
	records   map[string][]netip.Addr
	cnames    map[string]string
	ttl       uint32
	truncate  map[string]bool // answer these over UDP with TC set
	fail      bool            // answer SERVFAIL to everything
	tcpServed int
}

func startTestDNS(t *testing.T) *testDNS {
	t.Helper()
	s := &testDNS{
		records:  map[string][]netip.Addr{},
		cnames:   map[string]string{},
		truncate: map[string]bool{},
		ttl:      30,
	}
	// Bind UDP and TCP on the same port, retrying a few times if TCP's
	// port is taken.
	for attempt := 0; attempt < 10 && s.tcp == nil; attempt++ {
		udp, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen udp: %v", err)
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err != nil {
			udp.Close()
			continue
		}
		s.udp, s.tcp, s.addr = udp, tcp, udp.LocalAddr().String()
	}
	if s.tcp == nil {
		t.Fatal("could not bind a UDP+TCP port pair")
	}
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	t.Cleanup(func() {
		s.udp.Close()
		s.tcp.Close()
		s.wg.Wait()
	})
	return s
}

func (s *testDNS) set(name string, ips ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var addrs []netip.Addr
	for _, ip := range ips {
		addrs = append(addrs, netip.MustParseAddr(ip))
	}
	s.records[name] = addrs
}

func (s *testDNS) setTTL(ttl uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ttl = ttl
}

func (s *testDNS) setTruncated(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncate[name] = true
}

func (s *testDNS) setCNAME(name, target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cnames[name] = target
}

func (s *testDNS) setFailing() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = true
}

func (s *testDNS) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 4096)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		if reply := s.reply(buf[:n], true); reply != nil {
			_, _ = s.udp.WriteTo(reply, from)
		}
	}
}

func (s *testDNS) serveTCP() {
	defer s.wg.Done()
	for {
		conn, err := s.tcp.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.tcpServed++
		s.mu.Unlock()
		var size [2]byte
		if _, err := io.ReadFull(conn, size[:]); err == nil {
			msg := make([]byte, binary.BigEndian.Uint16(size[:]))
			if _, err := io.ReadFull(conn, msg); err == nil {
				if reply := s.reply(msg, false); reply != nil {
					framed := binary.BigEndian.AppendUint16(nil, uint16(len(reply)))
					_, _ = conn.Write(append(framed, reply...))
				}
			}
		}
		conn.Close()
	}
}

func (s *testDNS) reply(msg []byte, overUDP bool) []byte {
	s.queries.Add(1)
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	name := strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")

	s.mu.Lock()
	defer s.mu.Unlock()
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	switch {
	case s.fail:
		rh.RCode = dnsmessage.RCodeServerFailure
	case overUDP && s.truncate[name]:
		rh.Truncated = true
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	must(b.StartQuestions())
	must(b.Question(q))
	must(b.StartAnswers())
	if rh.RCode == dnsmessage.RCodeSuccess && !rh.Truncated {
		target := name
		if alias, ok := s.cnames[name]; ok {
			must(b.CNAMEResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: s.ttl},
				dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(alias + ".")}))
			target = alias
		}
		addrs, known := s.records[target]
		if !known && target == name {
			b = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RCode: dnsmessage.RCodeNameError})
			must(b.StartQuestions())
			must(b.Question(q))
		}
		owner := dnsmessage.MustNewName(target + ".")
		for _, a := range addrs {
			hdr := dnsmessage.ResourceHeader{Name: owner, Class: dnsmessage.ClassINET, TTL: s.ttl}
			switch {
			case a.Is4() && q.Type == dnsmessage.TypeA:
				must(b.AResource(hdr, dnsmessage.AResource{A: a.As4()}))
			case a.Is6() && q.Type == dnsmessage.TypeAAAA:
				must(b.AAAAResource(hdr, dnsmessage.AAAAResource{AAAA: a.As16()}))
			}
		}
	}
	out, err := b.Finish()
	must(err)
	return out
}

func must(err error) {
	if err != nil && !errors.Is(err, dnsmessage.ErrSectionDone) {
		panic(err)
	}
}

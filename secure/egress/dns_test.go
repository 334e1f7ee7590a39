package egress

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeDNS is a tiny UDP DNS server on loopback. answer decides the A/AAAA
// records for a name; it is called once per query, so it can change its
// answer from one lookup to the next, as a rebinding attacker's server does.
type fakeDNS struct {
	conn   net.PacketConn
	mu     sync.Mutex
	answer func(name string, qtype uint16) []netip.Addr
}

const (
	typeA    = 1
	typeAAAA = 28
)

func startFakeDNS(t *testing.T, answer func(name string, qtype uint16) []netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	d := &fakeDNS{conn: pc, answer: answer}
	go d.serve()
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "udp4", addr)
	}}
}

func (d *fakeDNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := d.reply(buf[:n]); resp != nil {
			d.conn.WriteTo(resp, from)
		}
	}
}

// reply answers the single question of query; names it has no records for
// get NXDOMAIN.
func (d *fakeDNS) reply(query []byte) []byte {
	if len(query) < 12 {
		return nil
	}
	name, end, ok := parseQName(query, 12)
	if !ok || end+4 > len(query) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(query[end:])
	d.mu.Lock()
	addrs := d.answer(strings.TrimSuffix(strings.ToLower(name), "."), qtype)
	d.mu.Unlock()
	var answers [][]byte
	for _, a := range addrs {
		if (qtype == typeA) == a.Is4() {
			answers = append(answers, a.AsSlice())
		}
	}
	resp := append([]byte(nil), query[:12]...)
	flags := uint16(0x8180) // response, recursion desired and available
	if addrs == nil {
		flags |= 3 // NXDOMAIN
	}
	binary.BigEndian.PutUint16(resp[2:], flags)
	binary.BigEndian.PutUint16(resp[4:], 1)
	binary.BigEndian.PutUint16(resp[6:], uint16(len(answers)))
	binary.BigEndian.PutUint32(resp[8:], 0) // no authority, no additional
	resp = append(resp, query[12:end+4]...)
	for _, rdata := range answers {
		resp = append(resp, 0xc0, 12) // pointer to the question name
		resp = binary.BigEndian.AppendUint16(resp, qtype)
		resp = binary.BigEndian.AppendUint16(resp, 1) // class IN
		resp = binary.BigEndian.AppendUint32(resp, 0) // TTL 0: no caching
		resp = binary.BigEndian.AppendUint16(resp, uint16(len(rdata)))
		resp = append(resp, rdata...)
	}
	return resp
}

func parseQName(msg []byte, off int) (string, int, bool) {
	var labels []string
	for off < len(msg) {
		l := int(msg[off])
		off++
		if l == 0 {
			return strings.Join(labels, ".") + ".", off, true
		}
		if l > 63 || off+l > len(msg) {
			return "", 0, false
		}
		labels = append(labels, string(msg[off:off+l]))
		off += l
	}
	return "", 0, false
}

// static answers fixed records per name.
func static(records map[string][]netip.Addr) func(string, uint16) []netip.Addr {
	return func(name string, _ uint16) []netip.Addr {
		if a, ok := records[name]; ok {
			return a
		}
		return nil
	}
}

func TestFakeDNS(t *testing.T) {
	res := startFakeDNS(t, static(map[string][]netip.Addr{"a.test": {netip.MustParseAddr("10.0.0.5")}}))
	got, err := res.LookupNetIP(context.Background(), "ip4", "a.test")
	if err != nil || len(got) != 1 || got[0] != netip.MustParseAddr("10.0.0.5") {
		t.Fatalf("lookup a.test = %v, %v", got, err)
	}
	if _, err := res.LookupNetIP(context.Background(), "ip4", "missing.test"); err == nil {
		t.Fatal("lookup of an unknown name succeeded")
	}
}

// TestDNSRebinding: the attacker's DNS answers a public address to the first
// lookup (what a check-then-connect guard would have checked) and 127.0.0.1
// to the next. The guard checks the address it actually dials, so it refuses.
func TestDNSRebinding(t *testing.T) {
	s, hits := server(t, hello)
	port := s.Listener.Addr().(*net.TCPAddr).Port
	var aQueries atomic.Int64
	res := startFakeDNS(t, func(name string, qtype uint16) []netip.Addr {
		if name != "rebind.test" {
			return nil
		}
		if qtype == typeA {
			if aQueries.Add(1) == 1 {
				return []netip.Addr{netip.MustParseAddr("93.184.215.14")}
			}
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	})
	first, err := res.LookupNetIP(context.Background(), "ip4", "rebind.test")
	if err != nil || first[0].String() != "93.184.215.14" {
		t.Fatalf("first lookup = %v, %v", first, err)
	}
	c, err := newClient(Policy{Ports: []int{port}}, res)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), fmt.Sprintf("http://rebind.test:%d/", port))
	wantRefused(t, err, "egress: refused: rebind.test resolves to 127.0.0.1, a loopback address")
	if hits.Load() != 0 || aQueries.Load() < 2 {
		t.Errorf("server hits %d, A queries %d", hits.Load(), aQueries.Load())
	}
}

// TestDialedAddressIsChecked: a name resolving to a private address is
// refused with that address named; the same name reaches the server once the
// resolved network is allowlisted, which shows the decision is made on the
// address dialed, not on the name.
func TestDialedAddressIsChecked(t *testing.T) {
	s, hits := server(t, hello)
	port := s.Listener.Addr().(*net.TCPAddr).Port
	res := startFakeDNS(t, static(map[string][]netip.Addr{
		"api.example.com": {netip.MustParseAddr("10.0.0.5")},
		"public.test":     {netip.MustParseAddr("127.0.0.1")},
	}))
	c, err := newClient(Policy{}, res)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), "https://api.example.com/v1")
	wantRefused(t, err)
	want := "egress: refused: api.example.com resolves to 10.0.0.5, a private address; an admin can allowlist the host in settings"
	if err.Error() != want {
		t.Errorf("err = %q\nwant %q", err, want)
	}
	url := fmt.Sprintf("http://public.test:%d/", port)
	if _, err := c.Get(context.Background(), url); !errors.Is(err, ErrRefused) {
		t.Fatalf("unallowlisted: err = %v", err)
	}
	c, _ = newClient(Policy{Allow: []string{"127.0.0.0/8"}}, res)
	defer c.CloseIdleConnections()
	if _, err := c.Get(context.Background(), url); err != nil || hits.Load() != 1 {
		t.Fatalf("allowlisted CIDR: err = %v, hits %d", err, hits.Load())
	}
}

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/signaling/client"
)

// selfSigned writes a certificate for 127.0.0.1 and returns the cert and
// key paths, and a pool that trusts it.
func selfSigned(t *testing.T) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "parley test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, keyPath, pool
}

// Given a certificate and key, the server speaks HTTPS and wss:// itself,
// and media flows over it as over plain HTTP.
func TestTLSServesHTTPSAndSecureWebSockets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cert, key, pool := selfSigned(t)
	ts := startServer(t, func(c *serveConfig) { c.TLSCert, c.TLSKey = cert, key })
	if !strings.HasPrefix(ts.BaseURL, "https://") {
		t.Fatalf("base URL %s, want https", ts.BaseURL)
	}
	ts.http = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	// Plain HTTP to the TLS port is refused.
	if resp, err := http.Get(strings.Replace(ts.BaseURL, "https", "http", 1) + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP answered on the TLS port")
		}
	}
	host := ts.signIn(t, ctx, "Host")
	room, err := host.api.CreateRoom(ctx, "Secure", "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := client.Dial(ctx, ts.BaseURL, host.api.Token, client.Options{Loopback: true, HTTPClient: ts.http})
	if err != nil {
		t.Fatalf("wss:// dial: %v", err)
	}
	defer s.Close()
	if _, err := s.Join(ctx, string(room.ID)); err != nil {
		t.Fatal(err)
	}
	if err := s.StartMedia(ctx, client.MediaOptions{Publish: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
}

// serverCandidates returns the ICE candidates the server signaled.
func serverCandidates(s *client.Session) []string {
	var out []string
	for _, e := range s.Events() {
		if e.Type != signaling.TypeCandidate {
			continue
		}
		var p signaling.CandidatePayload
		if json.Unmarshal(e.Payload, &p) == nil && p.Candidate != "" {
			out = append(out, p.Candidate)
		}
	}
	return out
}

// All media goes to one UDP port (the ICE UDP mux), and behind NAT the
// configured public IP is what the server advertises.
func TestMediaUsesOneUDPPortAndThePublicIP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const public = "203.0.113.7"
	ts := startServer(t, func(c *serveConfig) { c.PublicIPs, c.LoopbackOnly = []string{public}, false })
	port := ts.UDP.Port

	host := ts.signIn(t, ctx, "Host")
	room, err := host.api.CreateRoom(ctx, "Behind NAT", "")
	if err != nil {
		t.Fatal(err)
	}
	var sessions []*client.Session
	for i := range 3 {
		p := host
		if i > 0 {
			p = ts.signIn(t, ctx, "Guest")
		}
		s, err := client.Dial(ctx, ts.BaseURL, p.api.Token, client.Options{Loopback: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Join(ctx, string(room.ID)); err != nil {
			t.Fatal(err)
		}
		// No WaitConnected: the public IP is not reachable from here.
		if err := s.StartMedia(ctx, client.MediaOptions{Publish: i == 0}); err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	for i, s := range sessions {
		var cands []string
		for end := time.Now().Add(10 * time.Second); len(cands) == 0 && time.Now().Before(end); {
			cands = serverCandidates(s)
			if len(cands) == 0 {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if len(cands) == 0 {
			t.Fatalf("session %d got no server candidates", i)
		}
		sawPublic := false
		for _, c := range cands {
			f := strings.Fields(c)
			if len(f) < 8 {
				t.Fatalf("malformed candidate %q", c)
			}
			if f[2] != "udp" || f[5] != strconv.Itoa(port) {
				t.Errorf("session %d: candidate %q is not on the one media port udp/%d", i, c, port)
			}
			// A public IPv4 address stands in for every IPv4 host address;
			// IPv6 addresses, which NAT does not touch, are left as they are.
			if ip := net.ParseIP(f[4]); ip != nil && ip.To4() != nil {
				if f[4] != public {
					t.Errorf("session %d: IPv4 candidate %q does not advertise the public IP %s", i, c, public)
				}
				sawPublic = true
			}
		}
		if !sawPublic {
			t.Errorf("session %d: no candidate advertises the public IP: %v", i, cands)
		}
	}
}

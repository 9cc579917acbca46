package client

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/wire"
)

func TestCloseFailsTheCallInFlightAndLaterCalls(t *testing.T) {
	arrived := make(chan struct{})
	s := newFakeServer(t, step{stall: true, arrived: arrived})
	c, err := Dial(testContext(t), testOptions(s.addr()))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Ping(testContext(t)) }()
	<-arrived
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("in-flight call: %v, want closed", err)
	}
	if err := c.Ping(testContext(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("call after Close: %v, want closed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestHeartbeat(t *testing.T) {
	pings := make(chan struct{}, 100)
	s := newFakeServer(t, step{check: isCode(wire.CmdPing), repeat: true, notify: pings})
	opts := testOptions(s.addr())
	opts.Heartbeat = time.Millisecond
	c, err := Dial(testContext(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		<-pings
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Close waited for the heartbeat goroutine: nothing pings any more.
	for len(pings) > 0 {
		<-pings
	}
	select {
	case <-pings:
		t.Error("a ping after Close")
	default:
	}
}

func TestHeartbeatDoesNotDial(t *testing.T) {
	s := newFakeServer(t,
		step{reply: wire.AppendEviction(nil, vecClientID, wire.EvictStaleClient, 0, 0)},
		step{conn: 1, check: isCode(wire.CmdGetStats)})
	c := dialTest(t, testOptions(s.addr()))
	if err := c.Ping(testContext(t)); !errors.Is(err, ErrStaleClient) {
		t.Fatalf("ping: %v, want stale client", err)
	}
	// Without a connection the heartbeat sends nothing and does not dial.
	if err := c.heartbeatPing(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if s.dialed() != 1 {
		t.Errorf("dialed %d times, want 1", s.dialed())
	}
	if _, err := c.Do(testContext(t), wire.CmdGetStats, nil); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentCalls checks that calls from many goroutines keep the
// lockstep: one request, one reply.
func TestConcurrentCalls(t *testing.T) {
	s := newFakeServer(t, step{check: func(t *testing.T, h wire.Request, _ []byte) {
		if h.Code != wire.CmdPing && h.Code != wire.CmdGetStreams {
			t.Errorf("command %d", h.Code)
		}
	}, repeat: true})
	c := dialTest(t, testOptions(s.addr()))
	bindVectorSession(c)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for range 20 {
				var err error
				if i%2 == 0 {
					err = c.Ping(testContext(t))
				} else {
					_, err = c.GetStreams(testContext(t))
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestTLS runs a login over TLS, with the server name taken from the
// address.
func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := tls.NewListener(inner, &tls.Config{Certificates: []tls.Certificate{cert}})
	s := startFakeServer(t, ln, transcriptSteps(t, loadVector(t, "login_user")))
	opts := testOptions(s.addr())
	opts.TLS = &tls.Config{RootCAs: pool}
	opts.Username, opts.Password = "iggy", "iggy"
	c := dialTest(t, opts)
	if _, session, _ := c.state(); session != vecSession {
		t.Errorf("session %#x over TLS", session)
	}
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "shoal test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

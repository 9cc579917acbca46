package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/objstore/mem"
)

// selfSigned returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shoal-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	ts := startServer(t, mem.New(), Options{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	ctx := t.Context()
	c, err := client.Dial(ctx, client.Options{Address: ts.srv.Addr().String(), TLS: &tls.Config{RootCAs: pool}, Username: "iggy", Password: "iggy"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CreateStream(ctx, "over-tls"); err != nil {
		t.Fatal(err)
	}
	if s, err := c.GetStream(ctx, client.NamedID("over-tls")); err != nil || s.Name != "over-tls" {
		t.Fatalf("get stream over TLS: %+v %v", s, err)
	}
	// A plain-TCP client gets nowhere, and the server goes on.
	if _, err := client.Dial(ctx, client.Options{Address: ts.srv.Addr().String(), Username: "iggy", Password: "iggy", DialTimeout: 2 * time.Second, RequestTimeout: 2 * time.Second}); err == nil {
		t.Fatal("a plain-TCP client logged in to a TLS listener")
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

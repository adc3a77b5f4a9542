package registrytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certValidity is how long generated certificates stay valid; long enough
// for a demo registry left running for a while.
const certValidity = 30 * 24 * time.Hour

// pki is the throw-away certificate authority of one Registry, with the
// certificates issued from it.
type pki struct {
	caCert  *x509.Certificate
	caFile  string
	pool    *x509.CertPool
	server  tls.Certificate // for localhost, 127.0.0.1 and ::1
	certPEM string          // path of the server certificate
	keyPEM  string          // path of the server key
	signer  *ecdsa.PrivateKey
	signDER []byte // certificate of signer, issued by the CA
}

// newPKI generates a CA, a server certificate and a token-signing
// certificate, and writes the PEM files the registry needs into dir.
func newPKI(dir string) (*pki, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "registrytest CA", Organization: []string{"dxf-go registrytest"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}

	issue := func(tmpl *x509.Certificate) (*ecdsa.PrivateKey, []byte, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl.SerialNumber = serial()
		tmpl.NotBefore = now.Add(-time.Hour)
		tmpl.NotAfter = now.Add(certValidity)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		return key, der, err
	}

	serverKey, serverDER, err := issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("create server certificate: %w", err)
	}
	signKey, signDER, err := issue(&x509.Certificate{
		Subject:  pkix.Name{CommonName: "registrytest token signer"},
		KeyUsage: x509.KeyUsageDigitalSignature,
	})
	if err != nil {
		return nil, fmt.Errorf("create token signing certificate: %w", err)
	}

	p := &pki{
		caCert:  caCert,
		caFile:  filepath.Join(dir, "ca.pem"),
		pool:    x509.NewCertPool(),
		certPEM: filepath.Join(dir, "server.pem"),
		keyPEM:  filepath.Join(dir, "server-key.pem"),
		signer:  signKey,
		signDER: signDER,
		server: tls.Certificate{
			Certificate: [][]byte{serverDER, caDER},
			PrivateKey:  serverKey,
		},
	}
	p.pool.AddCert(caCert)

	serverKeyDER, err := x509.MarshalECPrivateKey(serverKey)
	if err != nil {
		return nil, err
	}
	files := []struct {
		path   string
		blocks []*pem.Block
	}{
		{p.caFile, []*pem.Block{{Type: "CERTIFICATE", Bytes: caDER}}},
		// The chain includes the CA so that clients see a complete chain.
		{p.certPEM, []*pem.Block{{Type: "CERTIFICATE", Bytes: serverDER}, {Type: "CERTIFICATE", Bytes: caDER}}},
		{p.keyPEM, []*pem.Block{{Type: "EC PRIVATE KEY", Bytes: serverKeyDER}}},
	}
	for _, f := range files {
		var data []byte
		for _, b := range f.blocks {
			data = append(data, pem.EncodeToMemory(b)...)
		}
		if err := os.WriteFile(f.path, data, 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return n
}

package registrytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseScope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want accessEntry
	}{
		{"repository:foo/bar:pull,push", accessEntry{Type: "repository", Name: "foo/bar", Actions: []string{"pull", "push"}}},
		{"repository:localhost:5000/foo:pull", accessEntry{Type: "repository", Name: "localhost:5000/foo", Actions: []string{"pull"}}},
		{"registry:catalog:*", accessEntry{Type: "registry", Name: "catalog", Actions: []string{"*"}}},
		{"repository(plugin):x:pull,pull,", accessEntry{Type: "repository", Class: "plugin", Name: "x", Actions: []string{"pull"}}},
	} {
		got, err := parseScope(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseScope(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "repository", "repository:foo", ":foo:pull"} {
		if _, err := parseScope(bad); err == nil {
			t.Errorf("parseScope(%q) succeeded", bad)
		}
	}
}

func TestSignES256(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signES256(key, map[string]string{"alg": "ES256"}, map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature: %d bytes, %v", len(sig), err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&key.PublicKey, digest[:], r, s) {
		t.Error("signature does not verify")
	}
}

// TestTokenClaims checks the JWT layout the registry's verifier relies on.
func TestTokenClaims(t *testing.T) {
	t.Parallel()
	p, err := newPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, exact := range []bool{false, true} {
		ts := &TokenServer{key: p.signer, x5c: base64.StdEncoding.EncodeToString(p.signDER),
			users: map[string]string{"fred": "pw"}, ttl: 10 * time.Second, exactExp: exact}
		before := time.Now().Unix()
		tok, err := ts.Token("fred", "repository:a/b:pull")
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(tok, ".")
		var header struct {
			Alg string   `json:"alg"`
			X5c []string `json:"x5c"`
		}
		var claims struct {
			Iss, Sub, Aud, Jti string
			Exp, Nbf, Iat      int64
			Access             []accessEntry
		}
		decode := func(s string, v any) {
			b, err := base64.RawURLEncoding.DecodeString(s)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatal(err)
			}
		}
		decode(parts[0], &header)
		decode(parts[1], &claims)
		if header.Alg != "ES256" || len(header.X5c) != 1 || header.X5c[0] != ts.x5c {
			t.Errorf("header %+v", header)
		}
		if claims.Iss != TokenIssuer || claims.Aud != TokenService || claims.Sub != "fred" || claims.Jti == "" ||
			len(claims.Access) != 1 || claims.Access[0].Name != "a/b" {
			t.Errorf("claims %+v", claims)
		}
		wantExp := before + 10
		if !exact {
			wantExp -= int64(tokenLeeway / time.Second)
		}
		if claims.Exp < wantExp || claims.Exp > wantExp+2 || claims.Nbf < before || claims.Iat < before {
			t.Errorf("exact=%v: exp %d nbf %d iat %d, issued at %d", exact, claims.Exp, claims.Nbf, claims.Iat, before)
		}
	}
}

func TestToolDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(CacheEnv, dir)
	got, err := toolDir("registry-" + RegistryVersion)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "tools", "registry-"+RegistryVersion); got != want {
		t.Errorf("toolDir() = %s, want %s", got, want)
	}
}

func TestTail(t *testing.T) {
	t.Parallel()
	if got := tail("short", 10); got != "short" {
		t.Errorf("tail(short) = %q", got)
	}
	if got := tail("line one\nline two\nline three\n", 14); got != "[…]\nline three\n" {
		t.Errorf("tail = %q", got)
	}
}

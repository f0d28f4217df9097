package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Key files in a key directory (JWT_KEY_DIR):
//
//	signing.key   the api's Ed25519 private key (PKCS#8 PEM); api only
//	<kid>.pub     a public key (PKIX PEM) whose tokens are accepted
//
// Rotation without downtime: add the new key's .pub everywhere first, then
// give the api the new signing.key; keep the old .pub until the old key's
// last access token has expired, then delete it.
const signingFile = "signing.key"

// KeyID is the key id (JWT "kid") of pub: the first 16 characters of the
// base64url SHA-256 of the raw public key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:])[:16]
}

// LoadPublicKeys reads every *.pub in dir, keyed by kid.
func LoadPublicKeys(dir string) (map[string]ed25519.PublicKey, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.pub"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	keys := make(map[string]ed25519.PublicKey, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("token: %s: not a PEM public key", p)
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("token: %s: %w", p, err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("token: %s: not an Ed25519 key", p)
		}
		keys[KeyID(pub)] = pub
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("token: no *.pub key in %s (JWT_KEY_DIR)", dir)
	}
	return keys, nil
}

// LoadSigningKey reads dir/signing.key. With generate set and no key present
// it makes one (and its .pub) first: for development only.
func LoadSigningKey(dir string, generate bool) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, signingFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && generate {
		if err := GenerateKey(dir); err != nil {
			return nil, err
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("token: signing key (JWT_KEY_DIR=%s): %w", dir, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("token: %s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("token: %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("token: %s: not an Ed25519 key", path)
	}
	return priv, nil
}

// GenerateKey writes a new signing.key and its <kid>.pub into dir. An
// existing signing.key is kept as signing.key.<unix time> (its .pub stays,
// so tokens it signed keep verifying until removed).
func GenerateKey(dir string) error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	pp, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, KeyID(pub)+".pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pp}), 0o644); err != nil {
		return err
	}
	path := filepath.Join(dir, signingFile)
	if _, err := os.Stat(path); err == nil {
		if err := os.Rename(path, fmt.Sprintf("%s.%d", path, time.Now().Unix())); err != nil {
			return err
		}
	}
	// Write then rename, so a reader never sees half a key.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// EnsureKey makes a signing key in dir when there is none.
func EnsureKey(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, signingFile)); err == nil {
		return nil
	}
	return GenerateKey(dir)
}

package token

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/chatterly/chatterly/shared/id"
)

// maxToken bounds a token's length; longer is malformed without a look.
const maxToken = 4096

// b64 is JWS's base64url without padding, strict: a segment has one
// spelling (no stray trailing bits), as RFC 7515 §2 asks.
var b64 = base64.RawURLEncoding.Strict()

// jwsHeader is the part of a JOSE header the Verifier reads. Crit is only
// looked at for presence: the Issuer never marks an extension critical, so
// a token that does (b64=false among them) is refused rather than read
// under rules this parser does not apply.
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// jwtClaims are the claims Chatterly reads. exp is a JSON number of
// seconds (RFC 7519 NumericDate, which may carry a fraction).
type jwtClaims struct {
	Sub string  `json:"sub"`
	SID string  `json:"sid"`
	JTI string  `json:"jti"`
	Exp float64 `json:"exp"`
}

// verify checks a compact JWS "header.payload.signature" as the Issuer
// makes it: alg EdDSA, a kid naming one of the keys, an Ed25519 signature
// over "header.payload", then the claims (sub and sid ids, a jti, an exp
// still ahead). Structure that cannot be read is ErrMalformed; a readable
// token that is not ours, or not valid, is ErrInvalid; the order of the
// checks matches what jwx answered, which the forgery tests pin down.
func (v *Verifier) verify(raw string, now time.Time) (Claims, error) {
	h64, rest, ok1 := strings.Cut(raw, ".")
	p64, s64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(s64, '.') >= 0 {
		return Claims{}, ErrMalformed
	}
	// One buffer for the three decoded segments: they are at most 3/4 of
	// the token's length together.
	var stack [1024]byte
	buf := stack[:0]
	if n := b64.DecodedLen(len(raw)); n > len(stack) {
		buf = make([]byte, 0, n)
	}
	hb, buf, err1 := decodeSegment(buf, h64)
	pb, buf, err2 := decodeSegment(buf, p64)
	sig, _, err3 := decodeSegment(buf, s64)
	var h jwsHeader
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &h) != nil {
		return Claims{}, ErrMalformed
	}
	pub, known := v.keys[h.Kid]
	if h.Alg != "EdDSA" || h.Crit != nil || !known || len(sig) != ed25519.SignatureSize {
		return Claims{}, ErrInvalid
	}
	if !ed25519.Verify(pub, []byte(raw[:len(h64)+1+len(p64)]), sig) {
		return Claims{}, ErrInvalid
	}
	var c jwtClaims
	if json.Unmarshal(pb, &c) != nil {
		return Claims{}, ErrInvalid
	}
	user, err1 := id.Parse(c.Sub)
	sid, err2 := id.Parse(c.SID)
	if err1 != nil || err2 != nil || c.JTI == "" || c.Exp <= 0 {
		return Claims{}, ErrInvalid
	}
	exp := time.Unix(int64(c.Exp), 0).UTC()
	if !now.Before(exp) {
		return Claims{}, ErrExpired
	}
	return Claims{UserID: user, SID: sid, JTI: c.JTI, ExpiresAt: exp}, nil
}

// decodeSegment appends the base64url segment s to buf and returns the
// decoded bytes and the grown buffer.
func decodeSegment(buf []byte, s string) ([]byte, []byte, error) {
	start := len(buf)
	out, err := b64.AppendDecode(buf, []byte(s))
	if err != nil {
		return nil, buf, err
	}
	return out[start:], out, nil
}

package file

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/chatterly/chatterly/shared/id"
)

// signer signs the api's download URLs: an HMAC-SHA256, under a key every
// api node derives alike (server wiring: from the token signing key), of
// the file, the variant, the person the URL was made for and its expiry.
// Whoever holds the URL fetches the file until it expires, as with any
// presigned URL; the person it names must still see the file then.
type signer struct{ key []byte }

func (s signer) sign(f id.ID, variant string, user id.ID, exp int64) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(f.String() + "\x00" + variant + "\x00" + user.String() + "\x00" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// valid reports whether sig is the signature of the other arguments and
// exp is not past at now.
func (s signer) valid(f id.ID, variant string, user id.ID, exp int64, sig string, now time.Time) bool {
	want := s.sign(f, variant, user, exp)
	return hmac.Equal([]byte(want), []byte(sig)) && now.Unix() <= exp
}

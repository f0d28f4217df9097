package call

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/chatterly/chatterly/shared/id"
)

// ICEConfig is where clients find STUN and TURN servers (STUN_URLS,
// TURN_URLS, TURN_SECRET, TURN_CREDENTIAL_TTL).
type ICEConfig struct {
	STUN []string
	TURN []string
	// Secret is the TURN server's shared secret (coturn's
	// static-auth-secret with use-auth-secret); credentials are derived
	// from it, never stored.
	Secret string
	// CredentialTTL is how long a TURN credential is accepted.
	CredentialTTL time.Duration
}

// ICEServer is one entry in the shape of the browser's RTCIceServer, so
// the client passes the list to new RTCPeerConnection({iceServers}) as is.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Servers returns the ICE servers for user at now: the STUN servers, and
// the TURN servers with a credential valid for CredentialTTL in the TURN
// REST API scheme coturn implements: username "<expiry unix time>:<user
// id>", credential base64(HMAC-SHA1(secret, username)). The TURN server
// checks the HMAC and the expiry itself, so no state is shared with it
// and a leaked credential dies on its own. Never nil, so an empty
// configuration renders as [].
func (c ICEConfig) Servers(user id.ID, now time.Time) []ICEServer {
	out := []ICEServer{}
	if len(c.STUN) > 0 {
		out = append(out, ICEServer{URLs: c.STUN})
	}
	if len(c.TURN) > 0 && c.Secret != "" {
		name := strconv.FormatInt(now.Add(c.CredentialTTL).Unix(), 10) + ":" + user.String()
		out = append(out, ICEServer{URLs: c.TURN, Username: name, Credential: turnCredential(c.Secret, name)})
	}
	return out
}

// turnCredential is coturn's password for a time-limited username.
func turnCredential(secret, username string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

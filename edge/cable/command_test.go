package cable

import (
	"testing"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	c, err := ParseCommand([]byte(`{"command":"subscribe","identifier":"{\"channel\":\"ConversationChannel\",\"id\":\"12\"}"}`))
	require.NoError(t, err)
	require.Equal(t, Subscribe, c.Kind)
	require.Equal(t, `"{\"channel\":\"ConversationChannel\",\"id\":\"12\"}"`, string(c.Identifier))
	require.Equal(t, `{"channel":"ConversationChannel","id":"12"}`, string(c.Params))
	require.Nil(t, c.Data)
	ident, err := ParseIdentifier(c.Params)
	require.NoError(t, err)
	require.Equal(t, Identifier{Channel: ConversationChannel, ID: id.ID(12)}, ident)

	// Member order, whitespace and unknown members do not matter; the
	// identifier literal is kept byte for byte, odd escapes included.
	c, err = ParseCommand([]byte(" {\n \"data\" : \"{\\\"action\\\":\\\"typing\\\"}\", \"x\":[1,{\"y\":null}],\"identifier\":\"{\\u0022channel\\u0022:\\\"CallChannel\\\"}\",\"command\":\"message\"} "))
	require.NoError(t, err)
	require.Equal(t, Message, c.Kind)
	require.Equal(t, `"{\u0022channel\u0022:\"CallChannel\"}"`, string(c.Identifier))
	require.Equal(t, `{"channel":"CallChannel"}`, string(c.Params))
	require.Equal(t, `{"action":"typing"}`, string(c.Data))
	a, err := ParseAction(c.Data)
	require.NoError(t, err)
	require.Equal(t, "typing", a.Name)

	bad := []string{
		``, `[]`, `{}`, `{"command":"subscribe"}`,
		`{"command":"dance","identifier":"{}"}`,
		`{"command":1,"identifier":"{}"}`,
		`{"command":"subscribe","identifier":{}}`,
		`{"command":"subscribe","identifier":"{}","identifier":"{}"}`,
		`{"command":"message","identifier":"{}"}`,
		`{"command":"subscribe","identifier":"{}"} x`,
		`{"command":"subscribe","identifier":"{}"`,
		`{"command":"subscribe","identifier":"\x01"}`,
		`{"command":"subscribe","identifier":"\q"}`,
		`{"command":"subscribe","identifier":"\u12"}`,
		`{"command":"subscribe" "identifier":"{}"}`,
		`{"command":"subscribe","identifier":"` + string(make([]byte, 600)) + `"}`,
	}
	for _, b := range bad {
		_, err := ParseCommand([]byte(b))
		require.ErrorIs(t, err, ErrMalformed, "%q", b)
	}
}

func TestParseIdentifier(t *testing.T) {
	t.Parallel()
	for params, want := range map[string]Identifier{
		`{"channel":"PresenceChannel"}`:                  {Channel: PresenceChannel},
		`{"channel":"CallChannel","extra":1}`:            {Channel: CallChannel},
		`{"id":"5","channel":"ConversationChannel"}`:     {Channel: ConversationChannel, ID: 5},
		`{"channel":"ConversationChannel","id":"99999"}`: {Channel: ConversationChannel, ID: 99999},
	} {
		got, err := ParseIdentifier([]byte(params))
		require.NoError(t, err, params)
		require.Equal(t, want, got, params)
	}
	for _, params := range []string{
		`{"channel":"ConversationChannel","id":5}`,
		`{"channel":"ConversationChannel","id":"-5"}`,
		`{"channel":"ConversationChannel"}`,
		`{"channel":"NopeChannel"}`,
		`"ConversationChannel"`,
		`{`,
	} {
		_, err := ParseIdentifier([]byte(params))
		require.ErrorIs(t, err, ErrMalformed, params)
	}
	_, err := ParseIdentifier([]byte(`{"channel":"NopeChannel"}`))
	require.ErrorIs(t, err, ErrUnknownChannel)
}

func TestUnquoteSurrogates(t *testing.T) {
	t.Parallel()
	c, err := ParseCommand([]byte(`{"command":"message","identifier":"{}","data":"\ud83d\ude00 \ud800 \u00e9\/"}`))
	require.NoError(t, err)
	require.Equal(t, "😀 \uFFFD é/", string(c.Data))
}

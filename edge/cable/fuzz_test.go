package cable

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzParseCommand checks the hand-written command scanner against
// encoding/json: it must never panic, and whenever it accepts valid JSON it
// must read the same command, identifier and data that encoding/json reads,
// and hand back an identifier literal that decodes to Params. The seeds are
// what the official client sends, plus near misses; `go test` runs them.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		`{"command":"subscribe","identifier":"{\"channel\":\"ConversationChannel\",\"id\":\"1\"}"}`,
		`{"command":"unsubscribe","identifier":"{\"channel\":\"PresenceChannel\"}"}`,
		`{"command":"message","identifier":"{\"channel\":\"ConversationChannel\",\"id\":\"1\"}","data":"{\"action\":\"typing\"}"}`,
		`{"command":"message","identifier":"{\"channel\":\"PresenceChannel\"}","data":"{\"user_ids\":[\"1\",\"2\"],\"action\":\"watch\"}"}`,
		`{"command":"message","identifier":"{\"channel\":\"CallChannel\"}","data":"{\"call_id\":\"9\",\"to\":\"2\",\"kind\":\"offer\",\"payload\":{\"sdp\":\"v=0\\r\\n\"},\"action\":\"send_signal\"}"}`,
		`{"identifier":"{\u0022channel\u0022:\u0022CallChannel\u0022}","command":"subscribe"}`,
		`{"command":"subscribe","identifier":"\ud83d\ude00","n":[1,2.5e3,true,null,{"a":"b"}]}`,
		`{"command":"subscribe","identifier":"{}","identifier":"{}"}`,
		`{"command":"subscribe","identifier":"{\"channel\":`,
		`{"command":"message","identifier":"{}","data":"\ud800"}`,
		`{"command":"subscribe","identifier":""}   `,
		` {} `, `[`, `"`, `{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cmd, err := ParseCommand(b)
		if err != nil {
			return
		}
		var lit string
		if e := json.Unmarshal(cmd.Identifier, &lit); e != nil {
			t.Fatalf("identifier %q is not a JSON string: %v", cmd.Identifier, e)
		}
		if !json.Valid(b) || !utf8.Valid(b) {
			return
		}
		var ref struct {
			Command    string  `json:"command"`
			Identifier string  `json:"identifier"`
			Data       *string `json:"data"`
		}
		if e := json.Unmarshal(b, &ref); e != nil {
			t.Fatalf("encoding/json refuses what ParseCommand accepted: %v", e)
		}
		if lit != string(cmd.Params) || ref.Identifier != string(cmd.Params) {
			t.Fatalf("params %q, encoding/json %q", cmd.Params, ref.Identifier)
		}
		if want := map[Kind]string{Subscribe: "subscribe", Unsubscribe: "unsubscribe", Message: "message"}[cmd.Kind]; ref.Command != want {
			t.Fatalf("command %q, encoding/json %q", want, ref.Command)
		}
		if (ref.Data == nil) != (cmd.Data == nil) || ref.Data != nil && *ref.Data != string(cmd.Data) {
			t.Fatalf("data %q, encoding/json %v", cmd.Data, ref.Data)
		}
	})
}

// FuzzNextFrame feeds a stream of frames in pieces split at the fuzzer's
// points and checks that incremental reading sees exactly the frames that
// reading the whole stream at once sees: a frame split over any number of
// TCP segments must come out whole, and no byte after it may be lost.
func FuzzNextFrame(f *testing.F) {
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	stream := append(clientFrame(OpText, true, []byte(`{"command":"subscribe","identifier":"{}"}`), mask),
		clientFrame(OpPing, true, []byte("hi"), mask)...)
	stream = append(stream, clientFrame(OpText, false, []byte(`{"comm`), mask)...)
	stream = append(stream, clientFrame(OpContinuation, true, []byte(`and":"x"}`), mask)...)
	stream = append(stream, clientFrame(OpText, true, make([]byte, 300), mask)...)
	f.Add(stream, []byte{1, 1, 1, 5, 200, 3})
	f.Add(stream, []byte{0, 13, 2})
	f.Add(clientFrame(OpClose, true, []byte{3, 232}, mask), []byte{1})
	f.Add([]byte{0x81, 0xFE, 0x00}, []byte{1, 1})
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		const max = 1 << 12
		type frame struct {
			op      byte
			fin     bool
			payload string
		}
		var whole []frame
		wholeErr := false
		for rest := stream; len(rest) > 0; {
			h, p, n, err := NextFrame(rest, max)
			if err != nil {
				wholeErr = true
				break
			}
			if n == 0 {
				break
			}
			q := append([]byte(nil), p...)
			Unmask(q, h.Mask, 0)
			whole = append(whole, frame{h.Op, h.Fin, string(q)})
			rest = rest[n:]
		}
		var got []frame
		var buf []byte
		pos := 0
		gotErr := false
		for i := 0; pos < len(stream) && !gotErr; i++ {
			step := 1
			if i < len(cuts) {
				step = int(cuts[i]) + 1
			}
			end := min(pos+step, len(stream))
			buf = append(buf, stream[pos:end]...)
			pos = end
			for {
				h, p, n, err := NextFrame(buf, max)
				if err != nil {
					gotErr = true
					break
				}
				if n == 0 {
					break
				}
				q := append([]byte(nil), p...)
				Unmask(q, h.Mask, 0)
				got = append(got, frame{h.Op, h.Fin, string(q)})
				buf = buf[n:]
			}
		}
		if gotErr != wholeErr || len(got) != len(whole) {
			t.Fatalf("split reading saw %d frames (err %v), whole reading %d (err %v)", len(got), gotErr, len(whole), wholeErr)
		}
		for i := range got {
			if got[i] != whole[i] {
				t.Fatalf("frame %d differs: %+v vs %+v", i, got[i], whole[i])
			}
		}
	})
}

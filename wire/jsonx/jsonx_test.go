package jsonx

import (
	"encoding/json"
	"testing"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quo"te\`, "tab\tnl\ncr\r\x00\x1f", "ünïcödé 🎉", "bad \xff utf8", "line\u2028sep\u2029"} {
		got := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q: %s is not JSON: %v", s, got, err)
		}
		want, _ := json.Marshal(s) // invalid UTF-8 becomes U+FFFD in both
		var w string
		_ = json.Unmarshal(want, &w)
		if back != w {
			t.Errorf("%q: round trip %q, want %q", s, back, w)
		}
		if s == "line\u2028sep\u2029" && string(got) != `"line\u2028sep\u2029"` {
			t.Errorf("U+2028/U+2029 not escaped: %s", got)
		}
		if string(AppendString(nil, []byte(s))) != string(got) {
			t.Errorf("%q: bytes and string differ", s)
		}
	}
}

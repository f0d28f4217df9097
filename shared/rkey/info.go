package rkey

import "strings"

// InfoField reads "name:value" from an INFO or CLUSTER INFO reply ("" when
// the reply has no such field).
func InfoField(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

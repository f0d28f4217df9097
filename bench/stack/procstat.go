package stack

import (
	"fmt"
	"os"
)

// OpenFDs counts pid's open file descriptors.
func OpenFDs(pid int) (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	return len(ents), nil
}

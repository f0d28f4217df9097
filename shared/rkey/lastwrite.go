package rkey

import "github.com/chatterly/chatterly/shared/id"

// LastWrite is user u's mark of their last write: the primary's WAL
// position after it, which their reads that may lag wait for on a replica
// (api/replica).
func (s Space) LastWrite(u id.ID) string { return s.Prefix + "lastwrite:" + u.String() }

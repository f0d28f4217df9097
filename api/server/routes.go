package server

import (
	"context"

	"github.com/chatterly/chatterly/api/rest"
)

// routes registers every component's routes. Components that run background
// loops append their stop functions to s.stops.
func (s *Server) routes(ctx context.Context, r *rest.Router) error {
	_ = ctx
	_ = r
	return nil
}

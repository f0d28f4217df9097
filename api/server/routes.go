package server

import "github.com/chatterly/chatterly/api/rest"

// mount registers every component's routes on r: one line per component.
// Mounting only adds routes; every component is already built (services),
// so the order of these lines changes nothing but the router's listing.
func (s *services) mount(r *rest.Router) {
	s.auth.Mount(r)
	s.conversations.Mount(r)
	s.messages.Mount(r)
	s.files.Mount(r)
	s.profiles.Mount(r)
	s.reactions.Mount(r)
	s.pins.Mount(r)
	s.saved.Mount(r)
	s.search.Mount(r)
	s.readState.Mount(r)
	s.users.Mount(r)
	s.blocks.Mount(r)
	s.calls.Mount(r)
	s.notifications.Mount(r)
}

package approval

import "slices"

// OnRevoked registers fn to be called with a script's name once its
// revocation is stored (scheduled jobs pause their jobs of that script,
// issue 14). Hooks run synchronously, in registration order.
func (s *Service) OnRevoked(fn func(name string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeHooks = append(s.revokeHooks, fn)
}

func (s *Service) revoked(name string) {
	s.mu.Lock()
	hooks := slices.Clone(s.revokeHooks)
	s.mu.Unlock()
	for _, fn := range hooks {
		fn(name)
	}
}

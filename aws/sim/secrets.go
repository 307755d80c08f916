package sim

// Secrets returns every secret the account has issued: the secret access
// key of each access key, long-term or temporary, and each session token.
// Tests use it to check that none of them reaches a journal, a log or a
// screen. (Console passwords are never kept, so they are not here.)
func (s *Sim) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, 2*len(s.acct.keys))
	for _, c := range s.acct.keys {
		if c.Secret != "" {
			out = append(out, c.Secret)
		}
		if c.Token != "" {
			out = append(out, c.Token)
		}
	}
	return out
}

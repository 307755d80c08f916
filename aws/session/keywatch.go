package session

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// keyWatch passes credentials through and calls a function when they
// carry an access key id not seen before: credentials that refresh
// (assume-role profiles, SSO, instance roles) sign with a new key id each
// time, and "ours" is judged by key id, so each must be journaled. It sits
// under a CredentialsCache of its own, and so runs only when the
// credentials under it refresh, never per call.
type keyWatch struct {
	next aws.CredentialsProvider

	mu   sync.Mutex
	seen map[string]bool
	fn   func(keyID string)
	// inherit, when set, is the base session's watch: a member session
	// (ForAccount) signs with its role session's keys, which are ours too,
	// and are told to the base session's function.
	inherit *keyWatch
}

// Retrieve implements aws.CredentialsProvider.
func (w *keyWatch) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := w.next.Retrieve(ctx)
	if err != nil || c.AccessKeyID == "" {
		return c, err
	}
	w.mu.Lock()
	fresh := !w.seen[c.AccessKeyID]
	w.seen[c.AccessKeyID] = true
	fn := w.fn
	w.mu.Unlock()
	if fn == nil && w.inherit != nil {
		w.inherit.mu.Lock()
		fn = w.inherit.fn
		w.inherit.mu.Unlock()
	}
	if fresh && fn != nil {
		fn(c.AccessKeyID)
	}
	return c, nil
}

// OnNewKey asks for fn to be called with each access key id (never the
// secret) the session signs with that it has not signed with before, from
// now on: the first one is Identify's Identity.KeyID. fn runs on the
// goroutine of the call that refreshed the credentials and must not block.
func (s *Session) OnNewKey(fn func(keyID string)) {
	if s.keys == nil {
		return
	}
	s.keys.mu.Lock()
	s.keys.fn = fn
	s.keys.mu.Unlock()
}

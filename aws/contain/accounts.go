package contain

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// MemberFunc opens the session of a member account of the organisation:
// the session of the role assumed there (through the SDK's assume-role
// provider) and that role's ARN. An error says why the account cannot be
// reached (the role denied, missing, or an SCP in the way).
type MemberFunc func(ctx context.Context, account string) (sess *session.Session, roleARN string, err error)

// members is an Env's cache of the Envs of member accounts.
type members struct {
	mu   sync.Mutex
	envs map[string]*memberEnv
	keys map[string]string // key id → its account, as GetAccessKeyInfo said
}

type memberEnv struct {
	once sync.Once
	env  *Env
	err  error
}

// Home reports whether account is the one the Env acts in (empty: the
// session's own).
func (e *Env) Home(account string) bool {
	return account == "" || account == e.Account || e.Account == "" && account == e.Self.AccountID
}

// ForAccount returns the Env that acts in account through the role
// Member assumes there: its own session, identity (the role session, so
// that nothing cuts off the credentials warroom acts on there), Account
// and Role set, the incident and clock of e. The Env of the account e acts
// in is e. An account Member cannot open, or where the role's identity
// cannot be read (sts:GetCallerIdentity: the role denied, missing, or
// blocked by an SCP), is an error naming the account and the role; the
// answer is kept for the Env's life, so a playbook asks once.
func (e *Env) ForAccount(ctx context.Context, account string) (*Env, error) {
	if e.Home(account) {
		return e, nil
	}
	root := e
	if e.parent != nil {
		root = e.parent
	}
	if root.Member == nil {
		return nil, fmt.Errorf("account %s: warroom acts in account %s only (no organisation role configured)", account, e.Self.AccountID)
	}
	root.accounts.mu.Lock()
	if root.accounts.envs == nil {
		root.accounts.envs = map[string]*memberEnv{}
	}
	m := root.accounts.envs[account]
	if m == nil {
		m = &memberEnv{}
		root.accounts.envs[account] = m
	}
	root.accounts.mu.Unlock()
	m.once.Do(func() {
		sess, role, err := root.Member(ctx, account)
		if err != nil {
			m.err = fmt.Errorf("account %s: %w", account, err)
			return
		}
		id, err := sess.Identify(ctx)
		if err != nil {
			m.err = fmt.Errorf("account %s, role %s: %w", account, role, err)
			return
		}
		if id.AccountID != account {
			m.err = fmt.Errorf("account %s, role %s: the credentials act in account %s", account, role, id.AccountID)
			return
		}
		env := NewEnv(sess, id, root.Incident)
		env.Account, env.Role, env.Now, env.parent = account, role, root.Now, root
		env.MemberRole = root.MemberRole
		m.env = env
	})
	return m.env, m.err
}

// In returns a Runner that acts through env (an Env of ForAccount): the
// same journal, path, actor and log as r.
func (r *Runner) In(env *Env) *Runner {
	if env == nil || env == r.Env {
		return r
	}
	root := r
	if r.parent != nil {
		root = r.parent
	}
	return &Runner{Env: env, Journal: r.Journal, Path: r.Path, Actor: r.Actor, Logf: r.Logf, VerifyWait: r.VerifyWait,
		afterIntent: r.afterIntent, afterCalls: r.afterCalls, parent: root}
}

// SessionMembers is the MemberFunc of sess: the member session
// sess.ForAccount makes (the role the session's options name, assumed by
// the SDK's assume-role provider), probed first (session.Probe), so that
// a role denied or missing, or an SCP in the way, is an error saying
// which.
func SessionMembers(sess *session.Session) MemberFunc {
	return func(ctx context.Context, account string) (*session.Session, string, error) {
		m, err := sess.ForAccount(account)
		if err != nil {
			return nil, "", err
		}
		if acc, err := m.Probe(ctx); acc != session.AccessOK {
			return nil, m.RoleARN(), fmt.Errorf("%s: %w", acc, err)
		}
		return m, m.RoleARN(), nil
	}
}

// MemberRoleName is the name of the role sess assumes in member accounts.
func MemberRoleName(sess *session.Session) string {
	if p, ok := state.ParsePrincipal(sess.RoleARNFor("000000000000")); ok {
		return p.Name
	}
	return OrgAccessRole
}

// keyAccount returns the account that owns key, as sts:GetAccessKeyInfo
// tells it (asked once per key): "" when it is the account the Env acts
// in, or the call failed (the journal's events then decide). A leaked key
// of a member account, with nothing of it in the journal yet, is read and
// contained in that account.
func (e *Env) keyAccount(ctx context.Context, key string) string {
	root := e
	if e.parent != nil {
		root = e.parent
	}
	if key == "" || root.Sess == nil || root.Member == nil {
		return ""
	}
	root.accounts.mu.Lock()
	a, ok := root.accounts.keys[key]
	root.accounts.mu.Unlock()
	if !ok {
		out, err := root.Sess.STS("").GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(key)})
		if err != nil {
			return "" // not kept: asked again next time
		}
		a = aws.ToString(out.Account)
		root.accounts.mu.Lock()
		if root.accounts.keys == nil {
			root.accounts.keys = map[string]string{}
		}
		root.accounts.keys[key] = a
		root.accounts.mu.Unlock()
	}
	if root.Home(a) {
		return ""
	}
	return a
}

package incident

import (
	"context"
	"time"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// Attach journals that a session attached to the incident rec writes (who,
// as what: fact) and, from then on, every new key the session runs on (the
// "ours" rule needs them).
func Attach(sess *session.Session, rec *state.Recorder, fact state.SessionStarted) error {
	if _, err := rec.Record(state.KindSessionStarted, fact); err != nil {
		return err
	}
	JournalNewKeys(sess, rec)
	return nil
}

// JournalNewKeys journals each access key id (never the secret) the
// session signs with after the one its session.started fact names: its
// credentials refreshed, and calls signed with the new key are ours too.
func JournalNewKeys(sess *session.Session, rec *state.Recorder) {
	sess.OnNewKey(func(keyID string) {
		// A failed write here fails every later fact too, and is said there.
		_, _ = rec.Record(state.KindSessionKey, state.SessionKey{KeyID: keyID})
	})
}

// NewRunner is the containment runner of the incident rec journals, acting
// through sess as id and journaling as actor: the one place warroom
// contain, the console (Core.Containment) and the drill's debrief get it.
// A Regional action finds its resource's Region from the journal file
// (FileLocator: read on the first question, not before). A family's
// footholds in another account of the organisation are contained through
// the role the session assumes there (contain.SessionMembers).
func NewRunner(sess *session.Session, id session.Identity, rec *state.Recorder, actor journal.Actor) *contain.Runner {
	incidentID, _, _ := rec.Head()
	env := contain.NewEnv(sess, id, incidentID)
	env.Locate = FileLocator(rec.Path())
	env.Member, env.MemberRole = contain.SessionMembers(sess), contain.MemberRoleName(sess)
	return &contain.Runner{Env: env, Journal: rec, Path: rec.Path(), Actor: actor}
}

// Resume verifies the actions a process that died left between intent and
// result (DESIGN: verified on start), each verification journaled. A
// read-only session changes nothing and resumes nothing.
func Resume(ctx context.Context, r *contain.Runner) ([]contain.Resumed, error) {
	if r.Env.Sess == nil || r.Env.Sess.ReadOnly() {
		return nil, nil
	}
	return r.Resume(ctx, false)
}

// ContainVerifyWait is how long warroom contain retries a verification that
// does not hold yet (IAM is eventually consistent).
const ContainVerifyWait = 10 * time.Second

// OpenContain is containment for a command that acts on the incident rec
// journals and then exits (warroom contain): the session is journaled
// (Attach), the runner built (NewRunner, retrying verifications for
// ContainVerifyWait), and what an earlier process left unfinished is
// verified now (Resume), before the command acts.
func OpenContain(ctx context.Context, sess *session.Session, id session.Identity, rec *state.Recorder, actor journal.Actor,
	fact state.SessionStarted) (*contain.Runner, []contain.Resumed, error) {
	if err := Attach(sess, rec, fact); err != nil {
		return nil, nil, err
	}
	r := NewRunner(sess, id, rec, actor)
	r.VerifyWait = ContainVerifyWait
	resumed, err := Resume(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	return r, resumed, nil
}

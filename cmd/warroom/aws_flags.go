package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// awsFlags are the flags of every command that talks to AWS.
type awsFlags struct {
	profile  string
	region   string
	endpoint string
	readOnly bool
	// role, when set (org_flags.go), is the role assumed in member accounts.
	role func() session.Role
}

func (f *awsFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.profile, "profile", "", "AWS shared-config profile (default: the SDK's chain, $AWS_PROFILE)")
	c.Flags().StringVar(&f.region, "region", "", "home Region (default: the profile's, $AWS_REGION, else us-east-1)")
	c.Flags().StringVar(&f.endpoint, "endpoint-url", "", "send every call to this endpoint (default: $AWS_ENDPOINT_URL when set)")
	c.Flags().BoolVar(&f.readOnly, "read-only", false, "never build a client that can change anything in AWS")
}

// session loads the AWS configuration and checks who it is. Without
// credentials it says so and points at the drill account.
func (f *awsFlags) session(ctx context.Context, e *env) (*session.Session, session.Identity, error) {
	s, err := session.Load(ctx, session.Options{
		Profile:    f.profile,
		Region:     f.region,
		Endpoint:   f.endpoint,
		ReadOnly:   f.readOnly,
		AppVersion: version,
		MFA:        mfaPrompt(e),
		Role:       f.memberRole(),
	})
	if err != nil {
		return nil, session.Identity{}, usageErr(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	id, err := s.Identify(cctx)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "no EC2 IMDS role found") || strings.Contains(msg, "failed to retrieve credentials") ||
			strings.Contains(msg, "get credentials") {
			return nil, id, usageErr(errors.New("no AWS credentials found (profile, environment, SSO cache or instance role). " +
				"To practise on a built-in compromised account instead, run: warroom drill"))
		}
		return nil, id, usageErr(err)
	}
	return s, id, nil
}

func (f *awsFlags) memberRole() session.Role {
	if f.role == nil {
		return session.Role{}
	}
	return f.role()
}

// mfaPrompt asks for an MFA code on the terminal, before any screen starts.
func mfaPrompt(e *env) func() (string, error) {
	return func() (string, error) {
		fmt.Fprint(e.stderr, "MFA code: ")
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", fmt.Errorf("reading MFA code: %w", err)
		}
		return strings.TrimSpace(line), nil
	}
}

// sessionFact is the session.started fact for a command run as id.
func sessionFact(command string, s *session.Session, id session.Identity) state.SessionStarted {
	mode := state.ModeLive
	if s.ReadOnly() {
		mode = state.ModeReadOnly
	}
	return state.SessionStarted{
		Command: command, Mode: mode, Version: version,
		AccountID: id.AccountID, Alias: id.Alias, Partition: id.Partition,
		CallerARN: id.ARN, CallerKeyID: id.KeyID, Endpoint: s.Endpoint(),
	}
}

// openIncident opens the journal at path, or makes a new incident folder in
// the current directory when path is empty, and says which on stderr.
func openIncident(e *env, path string) (*state.Recorder, error) {
	return openIncidentAs(e, path, state.IncidentOpened{}, state.LocalActor())
}

// openIncidentAs is openIncident writing as actor, with opened as line 1
// of a new journal.
func openIncidentAs(e *env, path string, opened state.IncidentOpened, actor journal.Actor) (*state.Recorder, error) {
	if path == "" {
		path = newIncidentPath(".", state.NewIncidentID(time.Now()))
	}
	rec, err := state.OpenRecorder(path, opened, actor)
	if err != nil {
		return nil, usageErr(err)
	}
	if rec.Created {
		fmt.Fprintf(e.stderr, "new incident journal: %s\n", path)
	}
	return rec, nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/org"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/state"
)

// orgFlags are the flags of the commands that read across accounts (the
// console, inventory, regions): which accounts, and the role assumed in each.
type orgFlags struct {
	org        bool
	accounts   string
	roleName   string
	externalID string
	mfaSerial  string
}

func (f *orgFlags) register(c *cobra.Command, a *awsFlags) {
	c.Flags().BoolVar(&f.org, "org", false, "read every account of the organisation (organizations:ListAccounts with these credentials: the management account or a delegated administrator)")
	c.Flags().StringVar(&f.accounts, "accounts", "", "read these accounts (ID,ID,…) through the role, without Organizations")
	c.Flags().StringVar(&f.roleName, "role-name", session.DefaultRoleName, "the role assumed in each member account")
	c.Flags().StringVar(&f.externalID, "external-id", "", "the external id the role's trust asks for")
	c.Flags().StringVar(&f.mfaSerial, "mfa-serial", "", "the MFA device (serial or ARN) AssumeRole is called with; the code is asked on the terminal")
	a.role = f.role
}

// role is the session.Role the flags say (awsFlags.session reads it).
func (f *orgFlags) role() session.Role {
	return session.Role{Name: f.roleName, ExternalID: f.externalID, MFASerial: f.mfaSerial}
}

// enabled reports whether the command reads across accounts.
func (f *orgFlags) enabled() bool { return f.org || f.accounts != "" }

// members lists the accounts to read, or nil when the command reads its
// own account alone.
func (f *orgFlags) members(ctx context.Context, s *session.Session) (*incident.Members, error) {
	if !f.enabled() {
		return nil, nil
	}
	if f.org && f.accounts != "" {
		return nil, usageErr(fmt.Errorf("--org and --accounts: give one"))
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	list, err := org.Discover(cctx, s, f.accounts)
	if err != nil {
		if f.org {
			return nil, usageErr(fmt.Errorf("listing the organisation's accounts: %w (without Organizations access, name them: --accounts ID,ID)", err))
		}
		return nil, usageErr(err)
	}
	return &incident.Members{Accounts: list}, nil
}

// readMembers reads every member once into rec's journal and prints one
// line per account: its access and what was read (inventory, regions).
func readMembers(ctx context.Context, w io.Writer, a *awsRead, f *orgFlags) error {
	m, err := f.members(ctx, a.sess)
	if err != nil || m == nil {
		return err
	}
	core := incident.New(a.sess, a.id, a.rec, incident.RealPacing())
	if err := core.ReadMembers(ctx, *m, time.Time{}); err != nil {
		return usageErr(err)
	}
	s, _, err := state.Replay(a.rec.Path())
	if err != nil {
		return usageErr(err)
	}
	for _, acct := range m.Accounts {
		af, ok := s.Account(acct.ID)
		status := "not read"
		if ok && af.Access != nil {
			status = af.Access.V.Status
			if af.Access.V.Error != "" {
				status += ": " + af.Access.V.Error
			}
		}
		users, sweeps := 0, len(af.Sweeps)
		if af.Inventory != nil {
			users = len(af.Inventory.Users)
		}
		fmt.Fprintf(w, "account %s %s  %s, %s, %s\n", acct.ID, cell(acct.Name, 24), cell(status, 100),
			state.Plural(users, "user"), state.Plural(sweeps, "sweep"))
	}
	return nil
}

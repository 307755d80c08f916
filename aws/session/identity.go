package session

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/state"
)

// Identity is who the session acts as.
type Identity struct {
	AccountID string
	ARN       string
	UserID    string
	Partition string // aws, aws-cn, aws-us-gov
	Alias     string // the account alias, when there is one and it may be read
	// KeyID is the access key id the session signs with (never the secret):
	// the console refuses to cut off its own credentials.
	KeyID string
	// AliasError says why the alias could not be read, when it could not.
	AliasError string
}

// Identify asks STS who the session is and IAM for the account alias. A
// denied alias lookup is recorded, not fatal.
func (s *Session) Identify(ctx context.Context) (Identity, error) {
	out, err := s.STS("").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, Wrap("sts:GetCallerIdentity", s.base.Region, err)
	}
	arn, _ := state.ParseARN(deref(out.Arn))
	id := Identity{
		AccountID: deref(out.Account),
		ARN:       deref(out.Arn),
		UserID:    deref(out.UserId),
		Partition: arn.Partition,
	}
	if s.parent == nil && arn.Partition != "" {
		s.SetPartition(arn.Partition)
	}
	if creds, err := s.base.Credentials.Retrieve(ctx); err == nil {
		id.KeyID = creds.AccessKeyID
	}
	al, err := s.IAM().ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
	switch {
	case err != nil:
		id.AliasError = Wrap("iam:ListAccountAliases", DefaultRegion, err).Error()
	case len(al.AccountAliases) > 0:
		id.Alias = al.AccountAliases[0]
	}
	return id, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// String is a one-line description for logs and the status line.
func (id Identity) String() string {
	s := fmt.Sprintf("%s (account %s", id.ARN, id.AccountID)
	if id.Alias != "" {
		s += " " + id.Alias
	}
	return s + ")"
}

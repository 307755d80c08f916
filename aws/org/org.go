// Package org lists the accounts warroom reads across: the organisation's
// accounts through Organizations (ListAccounts, paginated, with the base
// credentials: the management account or a delegated administrator), or the
// list the responder gives (--accounts) when Organizations may not be read.
package org

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/warroom-ir/warroom/aws/session"
)

// Account is one account of the organisation.
type Account struct {
	ID     string
	Name   string
	Email  string
	Status string // ACTIVE, SUSPENDED, PENDING_CLOSURE
	ARN    string
}

// Active reports whether the account may be read: a suspended or closing
// account refuses every call.
func (a Account) Active() bool { return a.Status == "" || a.Status == "ACTIVE" }

// Lister is the Organizations call List needs.
type Lister interface {
	organizations.ListAccountsAPIClient
}

// List reads every account of the organisation, in the order Organizations
// gives them, through the SDK's paginator.
func List(ctx context.Context, c Lister) ([]Account, error) {
	var out []Account
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, session.Wrap("organizations:ListAccounts", session.DefaultRegion, err)
		}
		for _, a := range page.Accounts {
			out = append(out, Account{ID: deref(a.Id), Name: deref(a.Name), Email: deref(a.Email),
				Status: string(a.Status), ARN: deref(a.Arn)})
		}
	}
	return out, nil
}

// Given is the account list a responder gives (--accounts), as Accounts
// with no name and an unknown status.
func Given(list string) ([]Account, error) {
	ids, err := session.ParseAccountIDs(list)
	if err != nil {
		return nil, fmt.Errorf("--accounts: %w", err)
	}
	out := make([]Account, len(ids))
	for i, id := range ids {
		out[i] = Account{ID: id}
	}
	return out, nil
}

// Discover is the accounts warroom reads: the given list when there is one,
// else the organisation's accounts read with s's credentials.
func Discover(ctx context.Context, s *session.Session, given string) ([]Account, error) {
	if given != "" {
		return Given(given)
	}
	return List(ctx, s.Base().Organizations())
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Describer is the Organizations call ID needs.
type Describer interface {
	DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
}

// ID is the organisation's id (o-…), read with organizations:DescribeOrganization.
func ID(ctx context.Context, c Describer) (string, error) {
	out, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return "", session.Wrap("organizations:DescribeOrganization", session.DefaultRegion, err)
	}
	if out.Organization == nil || deref(out.Organization.Id) == "" {
		return "", fmt.Errorf("organizations:DescribeOrganization in %s: no organisation id in the answer", session.DefaultRegion)
	}
	return deref(out.Organization.Id), nil
}

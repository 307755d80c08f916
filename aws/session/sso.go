package session

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
)

// SSOAdmin returns an IAM Identity Center (sso-admin) client for reading in
// region (empty: the home Region), where the instance lives.
func (s *Session) SSOAdmin(region string) *ssoadmin.Client {
	return client(s, "sso", region, false, func(c aws.Config) *ssoadmin.Client { return ssoadmin.NewFromConfig(c) })
}

// IdentityStore returns an identity store client for reading in region.
func (s *Session) IdentityStore(region string) *identitystore.Client {
	return client(s, "identitystore", region, false, func(c aws.Config) *identitystore.Client { return identitystore.NewFromConfig(c) })
}

// SSOAdmin returns an sso-admin client that may change things (the
// account assignments and permission set policies Identity Center
// containment removes and puts back).
func (m *Mutators) SSOAdmin(region string) *ssoadmin.Client {
	return client(m.s, "sso", region, true, func(c aws.Config) *ssoadmin.Client { return ssoadmin.NewFromConfig(c) })
}

package session

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// Organizations returns an Organizations client for reading. Its
// endpoint is global, in us-east-1.
func (s *Session) Organizations() *organizations.Client {
	return client(s, "organizations", DefaultRegion, false, func(c aws.Config) *organizations.Client { return organizations.NewFromConfig(c) })
}

// Organizations returns an Organizations client that may change things
// (service control policies).
func (m *Mutators) Organizations() *organizations.Client {
	return client(m.s, "organizations", DefaultRegion, true, func(c aws.Config) *organizations.Client { return organizations.NewFromConfig(c) })
}

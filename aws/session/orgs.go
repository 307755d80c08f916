package session

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// Organizations returns an Organizations client that may change things
// (the service control policies containment attaches and detaches).
func (m *Mutators) Organizations() *organizations.Client {
	return client(m.s, "organizations", DefaultRegion, true, func(c aws.Config) *organizations.Client { return organizations.NewFromConfig(c) })
}

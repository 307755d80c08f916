package contain

import "context"

// Temporary until the helpers' branches land (removed on merge).

// KindGroup is an IAM group.
const KindGroup Kind = "group"

// IngressRule is one security-group ingress rule.
type IngressRule struct {
	Protocol         string
	FromPort, ToPort int32
	CIDR             string
}

type stubAction struct{}

func (stubAction) Name() string                                        { return "stub" }
func (stubAction) Target() Target                                      { return Target{} }
func (stubAction) Plan(context.Context, *Env) (*Plan, error)           { return nil, ErrUnsupported }
func (stubAction) Verify(context.Context, *Env) (Verification, error) { return Verification{}, ErrUnsupported }

type RestoreTrust struct {
	stubAction
	Role, Document string
}
type DetachPolicy struct {
	stubAction
	Kind                                Kind
	Principal, PolicyARN, Inline string
}
type RemoveFromGroup struct {
	stubAction
	User, Group string
}
type RevokeIngress struct {
	stubAction
	Region, GroupID string
	Rules           []IngressRule
}
type RemovePermission struct {
	stubAction
	Region, Function, StatementID string
}
type RestoreEventSelectors struct {
	stubAction
	Region, Trail, Selectors string
}
type StartLogging struct {
	stubAction
	Region, Trail string
}

func RecreateTrailCommand(name, bucket, region string, multi bool) string { return "" }

package state

import "strings"

// ARN is an Amazon Resource Name split into its fields:
// arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE. It is the one reading of
// an ARN every package uses; ParsePrincipal reads the IAM principals among
// them. Its strings are the input's, unchecked beyond the shape: an ARN from
// CloudTrail is attacker-influenced text and is sanitized before drawing.
type ARN struct {
	Partition string // aws, aws-us-gov, aws-cn, …
	Service   string // iam, sts, lambda, cloudtrail, …
	Region    string // empty for global services (IAM, STS, S3)
	Account   string // empty for some (S3 buckets); "aws" for AWS-managed policies
	// Resource is all that follows the account, colons included:
	// "user/division/name", "assumed-role/Role/session", "function:f:1".
	Resource string
}

// ParseARN reads s as an ARN. It reports false unless s starts with "arn:"
// and has the six fields, with partition, service and resource not empty.
func ParseARN(s string) (ARN, bool) {
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return ARN{}, false
	}
	var f [4]string
	for i := range f {
		var found bool
		if f[i], rest, found = strings.Cut(rest, ":"); !found {
			return ARN{}, false
		}
	}
	a := ARN{Partition: f[0], Service: f[1], Region: f[2], Account: f[3], Resource: rest}
	if a.Partition == "" || a.Service == "" || a.Resource == "" {
		return ARN{}, false
	}
	return a, true
}

// String writes the ARN back as it was read.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// splitResource splits the resource at its type's separator, the first
// '/' or ':' ("user/division/name" → "user", '/', "division/name"); sep is
// 0 when the resource has neither (an S3 bucket, an SNS topic).
func (a ARN) splitResource() (typ string, sep byte, rest string) {
	i := strings.IndexAny(a.Resource, "/:")
	if i < 0 {
		return "", 0, a.Resource
	}
	return a.Resource[:i], a.Resource[i], a.Resource[i+1:]
}

// Type is the resource's type: what precedes the resource's first '/' or
// ':' ("user", "role", "assumed-role", "policy", "trail", "function"), or
// empty when it has neither.
func (a ARN) Type() string {
	typ, _, _ := a.splitResource()
	return typ
}

// Name is the resource's name: after a '/' type its last segment ("name" of
// "user/division/name", "AdministratorAccess" of "policy/AdministratorAccess"),
// after a ':' type the next field ("f" of "function:f:1"), else the whole
// resource. For an assumed-role ARN it is the session name; ParsePrincipal
// names the role.
func (a ARN) Name() string {
	_, sep, rest := a.splitResource()
	switch sep {
	case '/':
		return rest[strings.LastIndexByte(rest, '/')+1:]
	case ':':
		n, _, _ := strings.Cut(rest, ":")
		return n
	}
	return rest
}

// PrincipalKind is what kind of IAM identity an ARN names; its value is
// the ARN's resource type.
type PrincipalKind string

// The IAM identities ParsePrincipal reads.
const (
	PrincipalUser          PrincipalKind = "user"           // arn:aws:iam::ACCOUNT:user[/path]/NAME
	PrincipalGroup         PrincipalKind = "group"          // arn:aws:iam::ACCOUNT:group[/path]/NAME
	PrincipalRole          PrincipalKind = "role"           // arn:aws:iam::ACCOUNT:role[/path]/NAME
	PrincipalAssumedRole   PrincipalKind = "assumed-role"   // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
	PrincipalFederatedUser PrincipalKind = "federated-user" // arn:aws:sts::ACCOUNT:federated-user/NAME
	PrincipalRoot          PrincipalKind = "root"           // arn:aws:iam::ACCOUNT:root
)

// Principal is an IAM identity read from its ARN.
type Principal struct {
	ARN  ARN
	Kind PrincipalKind
	// Path is the IAM path of a user, group or role ("/division/"; "/"
	// when it has none); empty for the other kinds.
	Path string
	// Name is the user's, group's or role's name; for an assumed-role
	// session the role's name (a session is the role's); the federated
	// user's name; "root" for the root user.
	Name string
	// Session is an assumed-role session's name.
	Session string
}

// Role reports whether p is a role or a session of one: containing it
// means containing the role named Name.
func (p Principal) Role() bool { return p.Kind == PrincipalRole || p.Kind == PrincipalAssumedRole }

// ParsePrincipal reads s as the ARN of an IAM user, group, role, role
// session, federated user or root user, in any partition. It reports false
// for anything else, an ARN of another resource included.
func ParsePrincipal(s string) (Principal, bool) {
	a, ok := ParseARN(s)
	if !ok {
		return Principal{}, false
	}
	p := Principal{ARN: a}
	typ, sep, rest := a.splitResource()
	switch a.Service {
	case "iam":
		if a.Resource == "root" {
			p.Kind, p.Name = PrincipalRoot, "root"
			return p, true
		}
		switch PrincipalKind(typ) {
		case PrincipalUser, PrincipalGroup, PrincipalRole:
		default:
			return Principal{}, false
		}
		i := strings.LastIndexByte(rest, '/')
		p.Kind, p.Path, p.Name = PrincipalKind(typ), "/"+rest[:i+1], rest[i+1:]
	case "sts":
		switch PrincipalKind(typ) {
		case PrincipalAssumedRole:
			p.Kind = PrincipalAssumedRole
			p.Name, p.Session, _ = strings.Cut(rest, "/")
		case PrincipalFederatedUser:
			if strings.Contains(rest, "/") {
				return Principal{}, false
			}
			p.Kind, p.Name = PrincipalFederatedUser, rest
		default:
			return Principal{}, false
		}
	default:
		return Principal{}, false
	}
	if sep != '/' || p.Name == "" {
		return Principal{}, false
	}
	return p, true
}

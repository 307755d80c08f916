package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

func iamService(s *Sim) *Service {
	ro := func(h func(*Request) (any, error)) Op { return Op{Handle: h, ReadOnly: true} }
	rw := func(h func(*Request) (any, error)) Op { return Op{Handle: h} }
	return &Service{Name: "iam", EventSource: "iam.amazonaws.com", Protocol: ProtoQuery, XMLNS: xmlnsIAM, Global: true,
		Ops: map[string]Op{
			"ListUsers":                      ro(s.iamListUsers),
			"GetUser":                        ro(s.iamGetUser),
			"CreateUser":                     rw(s.iamCreateUser),
			"DeleteUser":                     rw(s.iamDeleteUser),
			"TagUser":                        rw(s.iamTagUser),
			"ListAccessKeys":                 ro(s.iamListAccessKeys),
			"GetAccessKeyLastUsed":           ro(s.iamGetAccessKeyLastUsed),
			"UpdateAccessKey":                rw(s.iamUpdateAccessKey),
			"CreateAccessKey":                rw(s.iamCreateAccessKey),
			"DeleteAccessKey":                rw(s.iamDeleteAccessKey),
			"ListUserPolicies":               ro(s.iamListUserPolicies),
			"GetUserPolicy":                  ro(s.iamGetUserPolicy),
			"PutUserPolicy":                  rw(s.iamPutUserPolicy),
			"DeleteUserPolicy":               rw(s.iamDeleteUserPolicy),
			"ListAttachedUserPolicies":       ro(s.iamListAttachedUserPolicies),
			"AttachUserPolicy":               rw(s.iamAttachUserPolicy),
			"DetachUserPolicy":               rw(s.iamDetachUserPolicy),
			"ListGroupsForUser":              ro(s.iamListGroupsForUser),
			"RemoveUserFromGroup":            rw(s.iamRemoveUserFromGroup),
			"GetLoginProfile":                ro(s.iamGetLoginProfile),
			"CreateLoginProfile":             rw(s.iamCreateLoginProfile),
			"DeleteLoginProfile":             rw(s.iamDeleteLoginProfile),
			"ListMFADevices":                 ro(s.iamListMFADevices),
			"CreateVirtualMFADevice":         rw(s.iamCreateVirtualMFADevice),
			"EnableMFADevice":                rw(s.iamEnableMFADevice),
			"DeactivateMFADevice":            rw(s.iamDeactivateMFADevice),
			"DeleteVirtualMFADevice":         rw(s.iamDeleteVirtualMFADevice),
			"ListSigningCertificates":        ro(s.iamListSigningCertificates),
			"ListSSHPublicKeys":              ro(s.iamListSSHPublicKeys),
			"ListServiceSpecificCredentials": ro(s.iamListServiceSpecificCredentials),
			"ListRoles":                      ro(s.iamListRoles),
			"GetRole":                        ro(s.iamGetRole),
			"TagRole":                        rw(s.iamTagRole),
			"PutRolePolicy":                  rw(s.iamPutRolePolicy),
			"DeleteRolePolicy":               rw(s.iamDeleteRolePolicy),
			"ListRolePolicies":               ro(s.iamListRolePolicies),
			"GetRolePolicy":                  ro(s.iamGetRolePolicy),
			"ListAttachedRolePolicies":       ro(s.iamListAttachedRolePolicies),
			"GenerateCredentialReport":       rw(s.iamGenerateCredentialReport),
			"GetCredentialReport":            ro(s.iamGetCredentialReport),
			"GetAccountSummary":              ro(s.iamGetAccountSummary),
			"ListAccountAliases":             ro(s.iamListAccountAliases),
		}}
}

// XML shapes of IAM answers.

type xTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xUser struct {
	Path             string `xml:"Path"`
	UserName         string `xml:"UserName"`
	UserID           string `xml:"UserId"`
	Arn              string `xml:"Arn"`
	CreateDate       string `xml:"CreateDate"`
	PasswordLastUsed string `xml:"PasswordLastUsed,omitempty"`
	Tags             []xTag `xml:"Tags>member,omitempty"`
}

type xAccessKeyMeta struct {
	UserName    string `xml:"UserName"`
	AccessKeyID string `xml:"AccessKeyId"`
	Status      string `xml:"Status"`
	CreateDate  string `xml:"CreateDate"`
}

type xAttached struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type xGroup struct {
	Path       string `xml:"Path"`
	GroupName  string `xml:"GroupName"`
	GroupID    string `xml:"GroupId"`
	Arn        string `xml:"Arn"`
	CreateDate string `xml:"CreateDate"`
}

type xLoginProfile struct {
	UserName              string `xml:"UserName"`
	CreateDate            string `xml:"CreateDate"`
	PasswordResetRequired bool   `xml:"PasswordResetRequired"`
}

type xMFA struct {
	UserName     string `xml:"UserName"`
	SerialNumber string `xml:"SerialNumber"`
	EnableDate   string `xml:"EnableDate"`
}

type xRoleLastUsed struct {
	LastUsedDate string `xml:"LastUsedDate,omitempty"`
	Region       string `xml:"Region,omitempty"`
}

type xRole struct {
	Path                     string         `xml:"Path"`
	RoleName                 string         `xml:"RoleName"`
	RoleID                   string         `xml:"RoleId"`
	Arn                      string         `xml:"Arn"`
	CreateDate               string         `xml:"CreateDate"`
	AssumeRolePolicyDocument string         `xml:"AssumeRolePolicyDocument"`
	Description              string         `xml:"Description,omitempty"`
	MaxSessionDuration       int32          `xml:"MaxSessionDuration"`
	RoleLastUsed             *xRoleLastUsed `xml:"RoleLastUsed,omitempty"`
	Tags                     []xTag         `xml:"Tags>member,omitempty"`
}

// page is a Marker/MaxItems window over a list.
type page struct {
	start, end int
	truncated  bool
	marker     string
}

// iamPage reads Marker and MaxItems and returns the window over n items.
func iamPage(r *Request, n int) (page, *Error) {
	p := page{end: n}
	if m := r.Param("Marker"); m != "" {
		b, err := base64.RawURLEncoding.DecodeString(m)
		i, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "m"))
		if err != nil || err2 != nil || i < 0 || i > n {
			return p, Errorf(400, "ValidationError", "Invalid Marker.")
		}
		p.start = i
	}
	max := 100
	if v := r.Param("MaxItems"); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 1 || i > 1000 {
			return p, Errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", v)
		}
		max = i
	}
	if p.start+max < n {
		p.end = p.start + max
		p.truncated = true
		p.marker = base64.RawURLEncoding.EncodeToString([]byte("m" + strconv.Itoa(p.end)))
	} else {
		p.end = n
	}
	return p, nil
}

func noSuchUser(name string) *Error {
	return Errorf(404, "NoSuchEntity", "The user with name %s cannot be found.", name)
}

// targetUser is the user a call names in UserName, or the calling user
// when it names none.
func (s *Sim) targetUser(r *Request) (*user, *Error) {
	name := r.Param("UserName")
	if name == "" {
		if r.Caller.Type != "IAMUser" {
			return nil, Errorf(400, "ValidationError", "Must specify userName when calling with non-User credentials")
		}
		name = r.Caller.UserName
	}
	u := s.acct.users[name]
	if u == nil {
		return nil, noSuchUser(name)
	}
	return u, nil
}

func (s *Sim) namedRole(r *Request) (*role, *Error) {
	name := r.Param("RoleName")
	ro := s.acct.roles[name]
	if ro == nil {
		return nil, Errorf(404, "NoSuchEntity", "The role with name %s cannot be found.", name)
	}
	return ro, nil
}

func xTags(ts []Tag) []xTag {
	out := make([]xTag, len(ts))
	for i, t := range ts {
		out[i] = xTag(t)
	}
	return out
}

func userXML(u *user, tags bool) xUser {
	x := xUser{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: isoTime(u.Created)}
	if !u.PasswordLastUsed.IsZero() {
		x.PasswordLastUsed = isoTime(u.PasswordLastUsed)
	}
	if tags {
		x.Tags = xTags(u.Tags)
	}
	return x
}

// userRecord is a user as CloudTrail's responseElements show it.
func userRecord(u *user) map[string]any {
	return map[string]any{"path": u.Path, "userName": u.Name, "userId": u.ID, "arn": u.ARN, "createDate": ctExpiration(u.Created)}
}

// encodeDoc URL-encodes a policy document as IAM returns it.
func encodeDoc(doc string) string { return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20") }

// decodeDoc undoes any URL encoding of a document sent to IAM.
func decodeDoc(doc string) string {
	if strings.HasPrefix(strings.TrimSpace(doc), "%7B") {
		if d, err := url.QueryUnescape(doc); err == nil {
			return d
		}
	}
	return doc
}

// policySize counts a policy's characters as IAM's quota does: without
// whitespace.
func policySize(doc string) int {
	n := 0
	for _, c := range doc {
		if c != ' ' && c != '\n' && c != '\t' && c != '\r' {
			n++
		}
	}
	return n
}

func (s *Sim) iamListUsers(r *Request) (any, error) {
	prefix := r.Param("PathPrefix")
	var users []*user
	for _, u := range s.acct.sortedUsers() {
		if strings.HasPrefix(u.Path, prefix) {
			users = append(users, u)
		}
	}
	p, e := iamPage(r, len(users))
	if e != nil {
		return nil, e
	}
	out := struct {
		Users       []xUser `xml:"Users>member"`
		IsTruncated bool    `xml:"IsTruncated"`
		Marker      string  `xml:"Marker,omitempty"`
	}{IsTruncated: p.truncated, Marker: p.marker}
	for _, u := range users[p.start:p.end] {
		out.Users = append(out.Users, userXML(u, false))
	}
	return out, nil
}

func (s *Sim) iamGetUser(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	return struct {
		User xUser `xml:"User"`
	}{userXML(u, true)}, nil
}

// iamTags reads Tags.member.N.Key / .Value.
func iamTags(r *Request) []Tag {
	var out []Tag
	for i := 1; ; i++ {
		k := r.Param(fmt.Sprintf("Tags.member.%d.Key", i))
		if k == "" {
			return out
		}
		out = append(out, Tag{Key: k, Value: r.Param(fmt.Sprintf("Tags.member.%d.Value", i))})
	}
}

func tagsRecord(ts []Tag) []map[string]string {
	out := make([]map[string]string, len(ts))
	for i, t := range ts {
		out[i] = map[string]string{"key": t.Key, "value": t.Value}
	}
	return out
}

func (s *Sim) iamCreateUser(r *Request) (any, error) {
	name := r.Param("UserName")
	if name == "" || len(name) > 64 {
		return nil, Errorf(400, "ValidationError", "1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must have length between 1 and 64")
	}
	for _, u := range s.acct.users {
		if strings.EqualFold(u.Name, name) {
			return nil, Errorf(409, "EntityAlreadyExists", "User with name %s already exists.", name)
		}
	}
	params := map[string]any{"userName": name}
	if p := r.Param("Path"); p != "" {
		params["path"] = p
	}
	tags := iamTags(r)
	if len(tags) > 0 {
		params["tags"] = tagsRecord(tags)
	}
	r.RequestParameters = params
	u := s.addUserLocked(name, r.Param("Path"), r.Now)
	u.Tags = tags
	r.ResponseElements = map[string]any{"user": userRecord(u)}
	return struct {
		User xUser `xml:"User"`
	}{userXML(u, true)}, nil
}

func (s *Sim) iamDeleteUser(r *Request) (any, error) {
	u := s.acct.users[r.Param("UserName")]
	if u == nil {
		return nil, noSuchUser(r.Param("UserName"))
	}
	conflict := func(what string) *Error {
		return Errorf(409, "DeleteConflict", "Cannot delete entity, must %s first.", what)
	}
	switch {
	case u.Login != nil:
		return nil, conflict("delete login profile")
	case len(u.Keys) > 0:
		return nil, conflict("delete access keys")
	case u.SigningCerts > 0:
		return nil, conflict("delete signing certificates")
	case u.SSHKeys > 0:
		return nil, conflict("delete SSH public keys")
	case u.ServiceCreds > 0:
		return nil, conflict("delete service-specific credentials")
	case len(u.MFA) > 0:
		return nil, conflict("delete MFA device")
	case len(u.Inline) > 0:
		return nil, conflict("delete policies")
	case len(u.Attached) > 0:
		return nil, conflict("detach all policies")
	case len(u.Groups) > 0:
		return nil, conflict("remove users from group")
	}
	u.Deleted = true
	delete(s.acct.users, u.Name)
	return nil, nil
}

func (s *Sim) iamTagUser(r *Request) (any, error) {
	u := s.acct.users[r.Param("UserName")]
	if u == nil {
		return nil, noSuchUser(r.Param("UserName"))
	}
	tags := iamTags(r)
	r.RequestParameters = map[string]any{"userName": u.Name, "tags": tagsRecord(tags)}
	for _, t := range tags {
		i := slices.IndexFunc(u.Tags, func(x Tag) bool { return x.Key == t.Key })
		if i >= 0 {
			u.Tags[i] = t
		} else {
			u.Tags = append(u.Tags, t)
		}
	}
	if len(u.Tags) > 50 {
		return nil, Errorf(409, "LimitExceeded", "The number of tags has reached the maximum limit.")
	}
	return nil, nil
}

func keyMeta(c *credential) xAccessKeyMeta {
	return xAccessKeyMeta{UserName: c.User.Name, AccessKeyID: c.ID, Status: c.Status, CreateDate: isoTime(c.Created)}
}

func (s *Sim) iamListAccessKeys(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	p, e := iamPage(r, len(u.Keys))
	if e != nil {
		return nil, e
	}
	out := struct {
		AccessKeyMetadata []xAccessKeyMeta `xml:"AccessKeyMetadata>member"`
		IsTruncated       bool             `xml:"IsTruncated"`
		Marker            string           `xml:"Marker,omitempty"`
	}{IsTruncated: p.truncated, Marker: p.marker}
	for _, c := range u.Keys[p.start:p.end] {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, keyMeta(c))
	}
	return out, nil
}

func (s *Sim) iamGetAccessKeyLastUsed(r *Request) (any, error) {
	id := r.Param("AccessKeyId")
	c := s.acct.keys[id]
	if c == nil || c.Kind != credLongTerm || c.Deleted {
		return nil, AccessDenied(ProtoQuery, r.Caller.ARN, "iam:GetAccessKeyLastUsed", "access key "+id, "")
	}
	type lastUsed struct {
		LastUsedDate string `xml:"LastUsedDate,omitempty"`
		ServiceName  string `xml:"ServiceName"`
		Region       string `xml:"Region"`
	}
	lu := lastUsed{ServiceName: "N/A", Region: "N/A"}
	if !c.LastUsed.IsZero() {
		// IAM records last use at 15-minute granularity... of the date;
		// service and Region are exact.
		lu = lastUsed{LastUsedDate: isoTime(c.LastUsed.Truncate(15 * time.Minute)), ServiceName: c.LastService, Region: c.LastRegion}
	}
	return struct {
		UserName          string   `xml:"UserName"`
		AccessKeyLastUsed lastUsed `xml:"AccessKeyLastUsed"`
	}{c.User.Name, lu}, nil
}

// userKey finds a user's access key named by AccessKeyId.
func (s *Sim) userKey(r *Request) (*user, *credential, *Error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, nil, e
	}
	id := r.Param("AccessKeyId")
	for _, c := range u.Keys {
		if c.ID == id {
			return u, c, nil
		}
	}
	return nil, nil, Errorf(404, "NoSuchEntity", "The Access Key with id %s cannot be found.", id)
}

func (s *Sim) iamUpdateAccessKey(r *Request) (any, error) {
	_, c, e := s.userKey(r)
	if e != nil {
		return nil, e
	}
	st := r.Param("Status")
	if st != "Active" && st != "Inactive" {
		return nil, Errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", st)
	}
	c.Status = st
	return nil, nil
}

func (s *Sim) iamCreateAccessKey(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	if len(u.Keys) >= 2 {
		return nil, Errorf(409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
	}
	c := s.addKeyLocked(u, r.Now)
	r.RequestParameters = map[string]any{"userName": u.Name}
	r.ResponseElements = map[string]any{"accessKey": map[string]any{"userName": u.Name, "accessKeyId": c.ID, "status": c.Status,
		"createDate": ctExpiration(c.Created)}}
	type accessKey struct {
		UserName        string `xml:"UserName"`
		AccessKeyID     string `xml:"AccessKeyId"`
		Status          string `xml:"Status"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		CreateDate      string `xml:"CreateDate"`
	}
	return struct {
		AccessKey accessKey `xml:"AccessKey"`
	}{accessKey{u.Name, c.ID, c.Status, c.Secret, isoTime(c.Created)}}, nil
}

func (s *Sim) iamDeleteAccessKey(r *Request) (any, error) {
	u, c, e := s.userKey(r)
	if e != nil {
		return nil, e
	}
	c.Deleted = true
	u.Keys = slices.DeleteFunc(u.Keys, func(x *credential) bool { return x == c })
	return nil, nil
}

func inlineNames(ps []namedPolicy) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	slices.Sort(out)
	return out
}

type policyNames struct {
	PolicyNames []string `xml:"PolicyNames>member"`
	IsTruncated bool     `xml:"IsTruncated"`
}

func (s *Sim) iamListUserPolicies(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	return policyNames{PolicyNames: inlineNames(u.Inline)}, nil
}

type inlinePolicyResult struct {
	UserName       string `xml:"UserName,omitempty"`
	RoleName       string `xml:"RoleName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func findInline(ps []namedPolicy, name string) int {
	return slices.IndexFunc(ps, func(p namedPolicy) bool { return p.Name == name })
}

func (s *Sim) iamGetUserPolicy(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	name := r.Param("PolicyName")
	i := findInline(u.Inline, name)
	if i < 0 {
		return nil, Errorf(404, "NoSuchEntity", "The user policy with name %s cannot be found.", name)
	}
	return inlinePolicyResult{UserName: u.Name, PolicyName: name, PolicyDocument: encodeDoc(u.Inline[i].Document)}, nil
}

// putInline adds or replaces an inline policy, within a size quota.
func putInline(ps []namedPolicy, name, doc string, quota int, who string) ([]namedPolicy, *Error) {
	if name == "" {
		return ps, Errorf(400, "ValidationError", "1 validation error detected: Value at 'policyName' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if _, err := parsePolicy(doc); err != nil {
		return ps, Errorf(400, "MalformedPolicyDocument", "Syntax errors in policy.")
	}
	out := slices.Clone(ps)
	if i := findInline(out, name); i >= 0 {
		out[i].Document = doc
	} else {
		out = append(out, namedPolicy{Name: name, Document: doc})
	}
	total := 0
	for _, p := range out {
		total += policySize(p.Document)
	}
	if total > quota {
		return ps, Errorf(409, "LimitExceeded", "Maximum policy size of %d bytes exceeded for %s.", quota, who)
	}
	return out, nil
}

func (s *Sim) iamPutUserPolicy(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	doc := decodeDoc(r.Param("PolicyDocument"))
	r.RequestParameters = map[string]any{"userName": u.Name, "policyName": r.Param("PolicyName"), "policyDocument": doc}
	ps, e := putInline(u.Inline, r.Param("PolicyName"), doc, 2048, "user "+u.Name)
	if e != nil {
		return nil, e
	}
	u.Inline = ps
	return nil, nil
}

func (s *Sim) iamDeleteUserPolicy(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	name := r.Param("PolicyName")
	i := findInline(u.Inline, name)
	if i < 0 {
		return nil, Errorf(404, "NoSuchEntity", "The user policy with name %s cannot be found.", name)
	}
	u.Inline = slices.Delete(u.Inline, i, i+1)
	return nil, nil
}

func (s *Sim) attachedXML(arns []string) []xAttached {
	var out []xAttached
	for _, a := range arns {
		name := a[strings.LastIndexByte(a, '/')+1:]
		if p := s.acct.policyByARN(a); p != nil {
			name = p.Name
		}
		out = append(out, xAttached{PolicyName: name, PolicyArn: a})
	}
	return out
}

type attachedResult struct {
	AttachedPolicies []xAttached `xml:"AttachedPolicies>member"`
	IsTruncated      bool        `xml:"IsTruncated"`
}

func (s *Sim) iamListAttachedUserPolicies(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	return attachedResult{AttachedPolicies: s.attachedXML(u.Attached)}, nil
}

func (s *Sim) iamAttachUserPolicy(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	arn := r.Param("PolicyArn")
	if s.acct.policyByARN(arn) == nil {
		return nil, Errorf(404, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
	}
	if !slices.Contains(u.Attached, arn) {
		if len(u.Attached) >= 10 {
			return nil, Errorf(409, "LimitExceeded", "Cannot exceed quota for PoliciesPerUser: 10")
		}
		u.Attached = append(u.Attached, arn)
	}
	return nil, nil
}

func (s *Sim) iamDetachUserPolicy(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	arn := r.Param("PolicyArn")
	i := slices.Index(u.Attached, arn)
	if i < 0 {
		return nil, Errorf(404, "NoSuchEntity", "Policy %s was not found.", arn)
	}
	u.Attached = slices.Delete(u.Attached, i, i+1)
	return nil, nil
}

func (s *Sim) iamListGroupsForUser(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	out := struct {
		Groups      []xGroup `xml:"Groups>member"`
		IsTruncated bool     `xml:"IsTruncated"`
	}{}
	for _, g := range u.Groups {
		if gr := s.acct.groups[g]; gr != nil {
			out.Groups = append(out.Groups, xGroup{Path: gr.Path, GroupName: gr.Name, GroupID: gr.ID, Arn: gr.ARN, CreateDate: isoTime(gr.Created)})
		}
	}
	return out, nil
}

func (s *Sim) iamRemoveUserFromGroup(r *Request) (any, error) {
	g := r.Param("GroupName")
	if s.acct.groups[g] == nil {
		return nil, Errorf(404, "NoSuchEntity", "The group with name %s cannot be found.", g)
	}
	u := s.acct.users[r.Param("UserName")]
	if u == nil {
		return nil, noSuchUser(r.Param("UserName"))
	}
	i := slices.Index(u.Groups, g)
	if i < 0 {
		return nil, Errorf(404, "NoSuchEntity", "The user with name %s cannot be found in group %s.", u.Name, g)
	}
	u.Groups = slices.Delete(u.Groups, i, i+1)
	return nil, nil
}

func loginXML(u *user) xLoginProfile {
	return xLoginProfile{UserName: u.Name, CreateDate: isoTime(u.Login.Created), PasswordResetRequired: u.Login.ResetRequired}
}

func (s *Sim) iamGetLoginProfile(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	if u.Login == nil {
		return nil, Errorf(404, "NoSuchEntity", "Login Profile for User %s cannot be found.", u.Name)
	}
	return struct {
		LoginProfile xLoginProfile `xml:"LoginProfile"`
	}{loginXML(u)}, nil
}

func (s *Sim) iamCreateLoginProfile(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	reset := r.Param("PasswordResetRequired") == "true"
	r.RequestParameters = map[string]any{"userName": u.Name, "passwordResetRequired": reset}
	if u.Login != nil {
		return nil, Errorf(409, "EntityAlreadyExists", "Login Profile for user %s already exists.", u.Name)
	}
	if len(r.Param("Password")) < 8 {
		return nil, Errorf(400, "PasswordPolicyViolation", "Password should have a minimum length of 8")
	}
	u.Login = &loginProfile{Created: r.Now.Truncate(time.Second), ResetRequired: reset}
	r.ResponseElements = map[string]any{"loginProfile": map[string]any{"userName": u.Name,
		"createDate": ctExpiration(u.Login.Created), "passwordResetRequired": reset}}
	return struct {
		LoginProfile xLoginProfile `xml:"LoginProfile"`
	}{loginXML(u)}, nil
}

func (s *Sim) iamDeleteLoginProfile(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	if u.Login == nil {
		return nil, Errorf(404, "NoSuchEntity", "Login Profile for User %s cannot be found.", u.Name)
	}
	u.Login = nil
	return nil, nil
}

func (s *Sim) iamListMFADevices(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	out := struct {
		MFADevices  []xMFA `xml:"MFADevices>member"`
		IsTruncated bool   `xml:"IsTruncated"`
	}{}
	for _, d := range u.MFA {
		out.MFADevices = append(out.MFADevices, xMFA{UserName: u.Name, SerialNumber: d.Serial, EnableDate: isoTime(d.Enabled)})
	}
	return out, nil
}

func (s *Sim) iamCreateVirtualMFADevice(r *Request) (any, error) {
	name := r.Param("VirtualMFADeviceName")
	if name == "" {
		return nil, Errorf(400, "ValidationError", "VirtualMFADeviceName is required")
	}
	serial := fmt.Sprintf("arn:aws:iam::%s:mfa%s%s", s.acct.ID, normPath(r.Param("Path")), name)
	if s.acct.mfa[serial] != nil {
		return nil, Errorf(409, "EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")
	}
	s.acct.mfa[serial] = &mfaDevice{Serial: serial, Created: r.Now.Truncate(time.Second)}
	r.ResponseElements = map[string]any{"virtualMFADevice": map[string]any{"serialNumber": serial}}
	type vmfa struct {
		SerialNumber     string `xml:"SerialNumber"`
		Base32StringSeed string `xml:"Base32StringSeed"`
	}
	return struct {
		VirtualMFADevice vmfa `xml:"VirtualMFADevice"`
	}{vmfa{serial, base64.StdEncoding.EncodeToString([]byte(s.ids.str(upperAlnum, 32)))}}, nil
}

func (s *Sim) iamEnableMFADevice(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	d := s.acct.mfa[r.Param("SerialNumber")]
	if d == nil {
		return nil, Errorf(404, "NoSuchEntity", "MFA device %s cannot be found.", r.Param("SerialNumber"))
	}
	if d.User != "" {
		return nil, Errorf(409, "EntityAlreadyExists", "MFA device is already in use.")
	}
	d.User, d.Enabled = u.Name, r.Now.Truncate(time.Second)
	u.MFA = append(u.MFA, d)
	return nil, nil
}

func (s *Sim) iamDeactivateMFADevice(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	serial := r.Param("SerialNumber")
	i := slices.IndexFunc(u.MFA, func(d *mfaDevice) bool { return d.Serial == serial })
	if i < 0 {
		return nil, Errorf(404, "NoSuchEntity", "MFA Device with serial number %s does not exist.", serial)
	}
	u.MFA[i].User = ""
	u.MFA = slices.Delete(u.MFA, i, i+1)
	return nil, nil
}

func (s *Sim) iamDeleteVirtualMFADevice(r *Request) (any, error) {
	serial := r.Param("SerialNumber")
	d := s.acct.mfa[serial]
	if d == nil {
		return nil, Errorf(404, "NoSuchEntity", "VirtualMFADevice with serial number %s doesn't exist.", serial)
	}
	if d.User != "" {
		return nil, Errorf(409, "DeleteConflict", "MFA Device is still in use")
	}
	delete(s.acct.mfa, serial)
	return nil, nil
}

func (s *Sim) iamListSigningCertificates(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	type cert struct {
		UserName        string `xml:"UserName"`
		CertificateID   string `xml:"CertificateId"`
		CertificateBody string `xml:"CertificateBody"`
		Status          string `xml:"Status"`
		UploadDate      string `xml:"UploadDate"`
	}
	out := struct {
		Certificates []cert `xml:"Certificates>member"`
		IsTruncated  bool   `xml:"IsTruncated"`
	}{}
	for i := range u.SigningCerts {
		out.Certificates = append(out.Certificates, cert{u.Name, fmt.Sprintf("%s%02d", strings.Repeat("C", 30), i),
			"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----", "Active", isoTime(u.Created)})
	}
	return out, nil
}

func (s *Sim) iamListSSHPublicKeys(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	type key struct {
		UserName       string `xml:"UserName"`
		SSHPublicKeyID string `xml:"SSHPublicKeyId"`
		Status         string `xml:"Status"`
		UploadDate     string `xml:"UploadDate"`
	}
	out := struct {
		SSHPublicKeys []key `xml:"SSHPublicKeys>member"`
		IsTruncated   bool  `xml:"IsTruncated"`
	}{}
	for i := range u.SSHKeys {
		out.SSHPublicKeys = append(out.SSHPublicKeys, key{u.Name, fmt.Sprintf("APKA%016d", i), "Active", isoTime(u.Created)})
	}
	return out, nil
}

func (s *Sim) iamListServiceSpecificCredentials(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	type cred struct {
		UserName                    string `xml:"UserName"`
		Status                      string `xml:"Status"`
		ServiceUserName             string `xml:"ServiceUserName"`
		CreateDate                  string `xml:"CreateDate"`
		ServiceSpecificCredentialID string `xml:"ServiceSpecificCredentialId"`
		ServiceName                 string `xml:"ServiceName"`
	}
	out := struct {
		ServiceSpecificCredentials []cred `xml:"ServiceSpecificCredentials>member"`
	}{}
	for i := range u.ServiceCreds {
		out.ServiceSpecificCredentials = append(out.ServiceSpecificCredentials, cred{u.Name, "Active",
			fmt.Sprintf("%s-at-%s", u.Name, s.acct.ID), isoTime(u.Created), fmt.Sprintf("ACCA%016d", i), "codecommit.amazonaws.com"})
	}
	return out, nil
}

func roleXML(ro *role, full bool) xRole {
	x := xRole{Path: ro.Path, RoleName: ro.Name, RoleID: ro.ID, Arn: ro.ARN, CreateDate: isoTime(ro.Created),
		AssumeRolePolicyDocument: encodeDoc(ro.Trust), Description: ro.Description, MaxSessionDuration: ro.MaxSession}
	if full {
		x.RoleLastUsed = &xRoleLastUsed{}
		if !ro.LastUsed.IsZero() {
			x.RoleLastUsed = &xRoleLastUsed{LastUsedDate: isoTime(ro.LastUsed), Region: ro.LastRegion}
		}
		x.Tags = xTags(ro.Tags)
	}
	return x
}

func (s *Sim) iamListRoles(r *Request) (any, error) {
	prefix := r.Param("PathPrefix")
	var roles []*role
	for _, ro := range s.acct.sortedRoles() {
		if strings.HasPrefix(ro.Path, prefix) {
			roles = append(roles, ro)
		}
	}
	p, e := iamPage(r, len(roles))
	if e != nil {
		return nil, e
	}
	out := struct {
		Roles       []xRole `xml:"Roles>member"`
		IsTruncated bool    `xml:"IsTruncated"`
		Marker      string  `xml:"Marker,omitempty"`
	}{IsTruncated: p.truncated, Marker: p.marker}
	for _, ro := range roles[p.start:p.end] {
		out.Roles = append(out.Roles, roleXML(ro, false))
	}
	return out, nil
}

func (s *Sim) iamGetRole(r *Request) (any, error) {
	ro, e := s.namedRole(r)
	if e != nil {
		return nil, e
	}
	return struct {
		Role xRole `xml:"Role"`
	}{roleXML(ro, true)}, nil
}

// iamTagRole adds or replaces tags on a role. CloudTrail records
// requestParameters {"roleName", "tags": [{"key", "value"}]} and no
// responseElements, as for TagUser.
func (s *Sim) iamTagRole(r *Request) (any, error) {
	ro, e := s.namedRole(r)
	if e != nil {
		return nil, e
	}
	tags := iamTags(r)
	r.RequestParameters = map[string]any{"roleName": ro.Name, "tags": tagsRecord(tags)}
	merged := slices.Clone(ro.Tags)
	for _, t := range tags {
		if i := slices.IndexFunc(merged, func(x Tag) bool { return x.Key == t.Key }); i >= 0 {
			merged[i] = t
		} else {
			merged = append(merged, t)
		}
	}
	if len(merged) > 50 {
		return nil, Errorf(409, "LimitExceeded", "The number of tags has reached the maximum limit.")
	}
	ro.Tags = merged
	return nil, nil
}

func (s *Sim) iamPutRolePolicy(r *Request) (any, error) {
	ro, e := s.namedRole(r)
	if e != nil {
		return nil, e
	}
	doc := decodeDoc(r.Param("PolicyDocument"))
	r.RequestParameters = map[string]any{"roleName": ro.Name, "policyName": r.Param("PolicyName"), "policyDocument": doc}
	ps, e := putInline(ro.Inline, r.Param("PolicyName"), doc, 10240, "role "+ro.Name)
	if e != nil {
		return nil, e
	}
	ro.Inline = ps
	return nil, nil
}

func (s *Sim) iamDeleteRolePolicy(r *Request) (any, error) {
	ro, e := s.namedRole(r)
	if e != nil {
		return nil, e
	}
	name := r.Param("PolicyName")
	i := findInline(ro.Inline, name)
	if i < 0 {
		return nil, Errorf(404, "NoSuchEntity", "The role policy with name %s cannot be found.", name)
	}
	ro.Inline = slices.Delete(ro.Inline, i, i+1)
	return nil, nil
}

func (s *Sim) iamListRolePolicies(r *Request) (any, error) {
	ro, e := s.namedRole(r)
	if e != nil {
		return nil, e
	}
	return policyNames{PolicyNames: inlineNames(ro.Inline)}, nil
}

func (s *Sim) iamGetRolePolicy(r *Request) (any, error) {
	ro, e := s.namedRole(r)
	if e != nil {
		return nil, e
	}
	name := r.Param("PolicyName")
	i := findInline(ro.Inline, name)
	if i < 0 {
		return nil, Errorf(404, "NoSuchEntity", "The role policy with name %s cannot be found.", name)
	}
	return inlinePolicyResult{RoleName: ro.Name, PolicyName: name, PolicyDocument: encodeDoc(ro.Inline[i].Document)}, nil
}

func (s *Sim) iamListAttachedRolePolicies(r *Request) (any, error) {
	ro, e := s.namedRole(r)
	if e != nil {
		return nil, e
	}
	return attachedResult{AttachedPolicies: s.attachedXML(ro.Attached)}, nil
}

// credentialReport builds the credential report CSV as IAM does.
func (s *Sim) credentialReport(now time.Time) []byte {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "N/A"
		}
		return t.UTC().Format("2006-01-02T15:04:05+00:00")
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
		"password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
		"access_key_1_last_used_region", "access_key_1_last_used_service", "access_key_2_active", "access_key_2_last_rotated",
		"access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active",
		"cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated"})
	root := fmt.Sprintf("arn:aws:iam::%s:root", s.acct.ID)
	_ = w.Write([]string{"<root_account>", root, ts(now.Add(-800 * 24 * time.Hour)), "not_supported", "N/A", "not_supported",
		"not_supported", "true", "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"})
	for _, u := range s.acct.sortedUsers() {
		row := []string{u.Name, u.ARN, ts(u.Created), strconv.FormatBool(u.Login != nil), "N/A", "N/A", "N/A", strconv.FormatBool(len(u.MFA) > 0)}
		if u.Login != nil {
			row[4] = "no_information"
			if !u.PasswordLastUsed.IsZero() {
				row[4] = ts(u.PasswordLastUsed)
			}
			row[5] = ts(u.Login.Created)
		}
		for i := range 2 {
			if i < len(u.Keys) {
				c := u.Keys[i]
				svc, reg := "N/A", "N/A"
				if !c.LastUsed.IsZero() {
					svc, reg = c.LastService, c.LastRegion
				}
				row = append(row, strconv.FormatBool(c.Status == "Active"), ts(c.Created), ts(c.LastUsed), reg, svc)
			} else {
				row = append(row, "false", "N/A", "N/A", "N/A", "N/A")
			}
		}
		row = append(row, strconv.FormatBool(u.SigningCerts > 0), "N/A", strconv.FormatBool(u.SigningCerts > 1), "N/A")
		_ = w.Write(row)
	}
	w.Flush()
	return b.Bytes()
}

func (s *Sim) iamGenerateCredentialReport(r *Request) (any, error) {
	state := "COMPLETE"
	if s.acct.reportAt.IsZero() || r.Now.Sub(s.acct.reportAt) >= 4*time.Hour {
		// AWS regenerates at most every four hours.
		if s.acct.reportAt.IsZero() {
			state = "STARTED"
		}
		s.acct.reportAt = r.Now.Truncate(time.Second)
		s.acct.reportCSV = s.credentialReport(r.Now)
	}
	return struct {
		State       string `xml:"State"`
		Description string `xml:"Description"`
	}{state, "No report exists. Starting a new report generation task"}, nil
}

func (s *Sim) iamGetCredentialReport(r *Request) (any, error) {
	if s.acct.reportAt.IsZero() {
		return nil, Errorf(410, "ReportNotPresent", "Credential report not present")
	}
	return struct {
		Content       string `xml:"Content"`
		ReportFormat  string `xml:"ReportFormat"`
		GeneratedTime string `xml:"GeneratedTime"`
	}{base64.StdEncoding.EncodeToString(s.acct.reportCSV), "text/csv", isoTime(s.acct.reportAt)}, nil
}

func (s *Sim) iamGetAccountSummary(r *Request) (any, error) {
	type entry struct {
		Key   string `xml:"key"`
		Value int    `xml:"value"`
	}
	mfa := 0
	for _, u := range s.acct.users {
		mfa += len(u.MFA)
	}
	policies := 0
	for _, p := range s.acct.policies {
		if !strings.Contains(p.ARN, ":aws:policy/") {
			policies++
		}
	}
	entries := []entry{
		{"Users", len(s.acct.users)}, {"UsersQuota", 5000}, {"Roles", len(s.acct.roles)}, {"RolesQuota", 1000},
		{"Groups", len(s.acct.groups)}, {"GroupsQuota", 300}, {"Policies", policies}, {"PoliciesQuota", 1500},
		{"AccessKeysPerUserQuota", 2}, {"AccountAccessKeysPresent", 0}, {"AccountMFAEnabled", 1},
		{"MFADevices", len(s.acct.mfa)}, {"MFADevicesInUse", mfa}, {"AttachedPoliciesPerUserQuota", 10},
		{"UserPolicySizeQuota", 2048}, {"RolePolicySizeQuota", 10240}, {"ServerCertificates", 0},
	}
	return struct {
		SummaryMap []entry `xml:"SummaryMap>entry"`
	}{entries}, nil
}

func (s *Sim) iamListAccountAliases(r *Request) (any, error) {
	out := struct {
		AccountAliases []string `xml:"AccountAliases>member"`
		IsTruncated    bool     `xml:"IsTruncated"`
	}{}
	if s.acct.Alias != "" {
		out.AccountAliases = []string{s.acct.Alias}
	}
	return out, nil
}

// iamAddToGroup puts a user in a group (tests and scenarios).
func (s *Sim) iamAddToGroup(userName, groupName string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, g := s.acct.users[userName], s.acct.groups[groupName]
	if u == nil || g == nil {
		return false, fmt.Errorf("sim: no user %s or group %s", userName, groupName)
	}
	if slices.Contains(u.Groups, groupName) {
		return false, nil
	}
	u.Groups = append(u.Groups, groupName)
	return true, nil
}

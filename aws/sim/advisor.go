package sim

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// IAM Access Advisor: iam:GenerateServiceLastAccessedDetails starts a job
// for a user or role, iam:GetServiceLastAccessedDetails reads it. The
// drill computes the answer from its own truth: the services the entity's
// policies allow (policy.go's Allow statements; every service the drill
// serves is a candidate) and the last authenticated access the sim noted
// per principal and service in serveLocked (noteAccessLocked). A job is
// IN_PROGRESS for its first AdvisorPolls reads, then COMPLETED, as AWS's
// jobs take a moment.

// advisorState is the Access Advisor's state: the accesses noted and the
// jobs generated.
type advisorState struct {
	// access maps an entity ARN (user or role) to its services' last
	// access, by service namespace.
	access map[string]map[string]*lastAccess
	jobs   map[string]*advisorJob
	// polls is how many reads a job answers IN_PROGRESS (SetAdvisorPolls).
	polls int
}

// lastAccess is one entity's last authenticated call to one service.
type lastAccess struct {
	At      time.Time
	Region  string
	Entity  string
	Actions map[string]*lastAccess // ACTION_LEVEL: by action name, for the services AWS tracks actions of
}

// advisorJob is one generated report, computed when generated.
type advisorJob struct {
	ID, ARN, Granularity string
	Created              time.Time
	reads                int
	services             []xServiceLastAccessed
}

// actionTracked are the services AWS reports action-level data for.
var actionTracked = map[string]bool{"iam": true, "ec2": true, "s3": true, "lambda": true}

// serviceNames are AWS's names of the services the drill serves.
var serviceNames = map[string]string{
	"iam": "AWS Identity and Access Management", "sts": "AWS Security Token Service", "ec2": "Amazon EC2",
	"s3": "Amazon S3", "lambda": "AWS Lambda", "cloudtrail": "AWS CloudTrail", "athena": "Amazon Athena",
	"organizations": "AWS Organizations", "config": "AWS Config", "guardduty": "Amazon GuardDuty",
	"sso": "AWS IAM Identity Center", "identitystore": "AWS Identity Store", "glue": "AWS Glue",
}

func (s *Sim) advisor() *advisorState {
	return s.State("advisor", func() any {
		return &advisorState{access: map[string]map[string]*lastAccess{}, jobs: map[string]*advisorJob{}, polls: 1}
	}).(*advisorState)
}

// SetAdvisorPolls sets how many GetServiceLastAccessedDetails reads a job
// answers IN_PROGRESS before COMPLETED (1 by default; a large number keeps
// jobs running, for a client's give-up path).
func (s *Sim) SetAdvisorPolls(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advisor().polls = n
}

// accessEntity is the IAM entity Access Advisor charges a credential's
// calls to: the user (its keys, its sessions, its federated users) or the
// role (its sessions). Another account's key is charged nothing here.
func (s *Sim) accessEntity(c *credential) string {
	switch {
	case c.Account != "":
		return ""
	case c.Kind == credRole && c.Role != nil:
		return c.Role.ARN
	case c.User != nil:
		return c.User.ARN
	}
	return ""
}

// noteAccessLocked records an authenticated call for Access Advisor, as
// AWS does for every authenticated attempt, allowed or not.
func (s *Sim) noteAccessLocked(c *credential, svc *Service, action, region string, now time.Time) {
	ent := s.accessEntity(c)
	if ent == "" {
		return
	}
	if svc.Global {
		region = HomeRegion
	}
	ns, name, _ := strings.Cut(action, ":")
	st := s.advisor()
	m := st.access[ent]
	if m == nil {
		m = map[string]*lastAccess{}
		st.access[ent] = m
	}
	la := m[ns]
	if la == nil {
		la = &lastAccess{Actions: map[string]*lastAccess{}}
		m[ns] = la
	}
	la.At, la.Region, la.Entity = now, region, ent
	if actionTracked[ns] {
		la.Actions[name] = &lastAccess{At: now, Region: region, Entity: ent}
	}
}

// LastAccess returns when the entity (a user or role ARN) last called the
// service namespace, as Access Advisor will report it: the ground truth
// tests compare warroom's report with.
func (s *Sim) LastAccess(entityARN, namespace string) (time.Time, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	la := s.advisor().access[entityARN][namespace]
	if la == nil {
		return time.Time{}, "", false
	}
	return la.At, la.Region, true
}

type xTrackedAction struct {
	ActionName         string `xml:"ActionName"`
	LastAccessedEntity string `xml:"LastAccessedEntity,omitempty"`
	LastAccessedRegion string `xml:"LastAccessedRegion,omitempty"`
	LastAccessedTime   string `xml:"LastAccessedTime,omitempty"`
}

type xServiceLastAccessed struct {
	ServiceName                string           `xml:"ServiceName"`
	ServiceNamespace           string           `xml:"ServiceNamespace"`
	LastAuthenticated          string           `xml:"LastAuthenticated,omitempty"`
	LastAuthenticatedEntity    string           `xml:"LastAuthenticatedEntity,omitempty"`
	LastAuthenticatedRegion    string           `xml:"LastAuthenticatedRegion,omitempty"`
	TotalAuthenticatedEntities int              `xml:"TotalAuthenticatedEntities"`
	TrackedActions             []xTrackedAction `xml:"TrackedActionsLastAccessed>member,omitempty"`
}

// iamAdvisorOps adds Access Advisor's operations to IAM.
func (s *Sim) iamAdvisorOps() {
	svc := s.services["iam"]
	if svc == nil {
		return
	}
	// Both are read-level actions (the IAM read-only policy grants
	// them) and CloudTrail records them readOnly.
	svc.Ops["GenerateServiceLastAccessedDetails"] = Op{Handle: s.iamGenerateServiceLastAccessed, ReadOnly: true}
	svc.Ops["GetServiceLastAccessedDetails"] = Op{Handle: s.iamGetServiceLastAccessed, ReadOnly: true}
}

// entityDocsLocked returns the policy documents of the user or role arn
// names, and whether it exists.
func (s *Sim) entityDocsLocked(arn string) ([]string, bool) {
	for _, u := range s.acct.users {
		if u.ARN == arn && !u.Deleted {
			return s.policiesOfLocked(&credential{User: u}), true
		}
	}
	for _, ro := range s.acct.roles {
		if ro.ARN == arn {
			return s.policiesOfLocked(&credential{Kind: credRole, Role: ro}), true
		}
	}
	return nil, false
}

// allowedNamespaces are the services some Allow statement of docs names
// an action of (conditions aside, as Access Advisor lists them).
func (s *Sim) allowedNamespaces(docs []string) []string {
	var parsed []*policyDoc
	for _, d := range docs {
		if p, err := parsePolicy(d); err == nil {
			parsed = append(parsed, p)
		}
	}
	var out []string
	for name, svc := range s.services {
		allowed := false
		for opName, op := range svc.Ops {
			action := actionOf(svc, opName, op)
			for _, p := range parsed {
				for _, st := range p.Statement {
					if st.Effect == "Allow" && stmtNamesAction(st, action) {
						allowed = true
					}
				}
			}
			if allowed {
				break
			}
		}
		if allowed {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// stmtNamesAction reports whether a statement's Action (or NotAction)
// covers action.
func stmtNamesAction(st stmt, action string) bool {
	if len(st.Action) > 0 {
		return slices.ContainsFunc(st.Action, func(a string) bool { return actionMatch(a, action) })
	}
	return !slices.ContainsFunc(st.NotAction, func(a string) bool { return actionMatch(a, action) })
}

func (s *Sim) iamGenerateServiceLastAccessed(r *Request) (any, error) {
	arn := r.Param("Arn")
	gran := r.Param("Granularity")
	if gran == "" {
		gran = "SERVICE_LEVEL"
	}
	if gran != "SERVICE_LEVEL" && gran != "ACTION_LEVEL" {
		return nil, Errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'granularity' failed to satisfy constraint: Member must satisfy enum value set: [SERVICE_LEVEL, ACTION_LEVEL]", gran)
	}
	p, perr := parseARNParts(arn)
	if perr || p.service != "iam" || (p.kind != "user" && p.kind != "role") {
		return nil, Errorf(400, "InvalidInput", "ARN %s is not valid.", arn)
	}
	docs, ok := s.entityDocsLocked(arn)
	if !ok || p.account != s.acct.ID {
		return nil, Errorf(404, "NoSuchEntity", "The entity %s cannot be found.", arn)
	}
	st := s.advisor()
	job := &advisorJob{ID: s.ids.uuid(), ARN: arn, Granularity: gran, Created: r.Now}
	used := st.access[arn]
	for _, ns := range s.allowedNamespaces(docs) {
		out := xServiceLastAccessed{ServiceNamespace: ns, ServiceName: serviceNames[ns]}
		if out.ServiceName == "" {
			out.ServiceName = ns
		}
		if la := used[ns]; la != nil {
			out.LastAuthenticated, out.LastAuthenticatedEntity, out.LastAuthenticatedRegion = isoTime(la.At), la.Entity, la.Region
			out.TotalAuthenticatedEntities = 1
		}
		if gran == "ACTION_LEVEL" && actionTracked[ns] {
			out.TrackedActions = []xTrackedAction{}
			for name, a := range used[ns].actions() {
				out.TrackedActions = append(out.TrackedActions, xTrackedAction{ActionName: name,
					LastAccessedEntity: a.Entity, LastAccessedRegion: a.Region, LastAccessedTime: isoTime(a.At)})
			}
			sort.Slice(out.TrackedActions, func(i, j int) bool { return out.TrackedActions[i].ActionName < out.TrackedActions[j].ActionName })
		}
		job.services = append(job.services, out)
	}
	st.jobs[job.ID] = job
	r.RequestParameters = map[string]any{"arn": arn, "granularity": gran}
	r.ResponseElements = map[string]any{"jobId": job.ID}
	return struct {
		JobID string `xml:"JobId"`
	}{job.ID}, nil
}

// actions returns la's actions (none for a nil la).
func (la *lastAccess) actions() map[string]*lastAccess {
	if la == nil {
		return nil
	}
	return la.Actions
}

func (s *Sim) iamGetServiceLastAccessed(r *Request) (any, error) {
	id := r.Param("JobId")
	st := s.advisor()
	job := st.jobs[id]
	if job == nil {
		return nil, Errorf(400, "InvalidInput", "Invalid job ID %s.", id)
	}
	job.reads++
	type result struct {
		JobStatus            string                 `xml:"JobStatus"`
		JobType              string                 `xml:"JobType"`
		JobCreationDate      string                 `xml:"JobCreationDate"`
		ServicesLastAccessed []xServiceLastAccessed `xml:"ServicesLastAccessed>member"`
		JobCompletionDate    string                 `xml:"JobCompletionDate,omitempty"`
		IsTruncated          bool                   `xml:"IsTruncated"`
		Marker               string                 `xml:"Marker,omitempty"`
	}
	out := result{JobStatus: "IN_PROGRESS", JobType: job.Granularity, JobCreationDate: isoTime(job.Created), ServicesLastAccessed: []xServiceLastAccessed{}}
	if job.reads <= st.polls {
		return out, nil
	}
	out.JobStatus, out.JobCompletionDate = "COMPLETED", isoTime(job.Created.Add(time.Second))
	pg, e := iamPage(r, len(job.services))
	if e != nil {
		return nil, e
	}
	out.ServicesLastAccessed = append(out.ServicesLastAccessed, job.services[pg.start:pg.end]...)
	out.IsTruncated, out.Marker = pg.truncated, pg.marker
	return out, nil
}

// arnParts is an ARN cut at its colons and its resource's first slash.
type arnParts struct{ service, account, kind, name string }

// parseARNParts cuts an IAM-style ARN; bad is true when it is not one.
func parseARNParts(arn string) (p arnParts, bad bool) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[2] == "" {
		return p, true
	}
	p.service, p.account = f[2], f[4]
	p.kind, p.name, _ = strings.Cut(f[5], "/")
	if p.name == "" {
		return p, true
	}
	if i := strings.LastIndexByte(p.name, '/'); i >= 0 {
		p.name = p.name[i+1:]
	}
	return p, false
}

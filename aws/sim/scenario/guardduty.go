package scenario

import (
	"context"
	"fmt"
	"strings"

	"github.com/warroom-ir/warroom/aws/sim"
)

// GuardDuty in the drill: the company turned it on in its home Region only
// (enableGuardDuty, at setup) — and, as the drill has it, in the first
// Region the attacker runs miners in, so that one set of miners is found
// and the others run where GuardDuty is not enabled, which the console
// must say. runGuardDuty plays GuardDuty's analysis of CloudTrail: every
// round it reads the calls the attacker's keys made since the last round
// and the instances it runs, and reports the findings GuardDuty would,
// with their real types and severities; repeated activity adds to a
// finding's count, as GuardDuty aggregates.

// minerPool is the mining pool the miners resolve.
const minerPool = "xmr.pool.minergate.com"

func (sc *Scenario) enableGuardDuty() error {
	_, err := sc.sim.EnableGuardDuty(homeRgn)
	return err
}

// gdRule is one finding type and what makes it.
type gdRule struct {
	typ      string
	severity float64
	match    func(c sim.Call) bool
	title    func(c sim.Call, user string) string
	desc     func(c sim.Call, user string) string
}

func isRead(op string) bool {
	return strings.HasPrefix(op, "List") || strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "Describe")
}

var gdRules = []gdRule{
	{typ: "Recon:IAMUser/MaliciousIPCaller", severity: 5,
		match: func(c sim.Call) bool { return c.Service == "iam" && isRead(c.Operation) },
		title: func(c sim.Call, _ string) string {
			return fmt.Sprintf("Reconnaissance API %s was invoked from a known malicious IP address.", c.Operation)
		},
		desc: func(c sim.Call, user string) string {
			return fmt.Sprintf("API %s, commonly used in reconnaissance attacks, was invoked from IP address %s on the custom threat list. The user %s invoked it.", c.Operation, c.SourceIP, user)
		}},
	{typ: "Discovery:IAMUser/AnomalousBehavior", severity: 2,
		match: func(c sim.Call) bool { return c.Service != "iam" && c.Service != "sts" && isRead(c.Operation) },
		title: func(_ sim.Call, user string) string {
			return fmt.Sprintf("User %s is anomalously invoking APIs commonly used in Discovery tactics.", user)
		},
		desc: func(c sim.Call, user string) string {
			return fmt.Sprintf("APIs commonly used in Discovery tactics were invoked by user %s under unusual circumstances: %s from %s.", user, c.Operation, c.SourceIP)
		}},
	{typ: "Persistence:IAMUser/AnomalousBehavior", severity: 5,
		match: func(c sim.Call) bool {
			return c.Service == "iam" && (strings.HasPrefix(c.Operation, "Create") || strings.HasPrefix(c.Operation, "Attach") ||
				strings.HasPrefix(c.Operation, "Put") || strings.HasPrefix(c.Operation, "Update") || strings.HasPrefix(c.Operation, "Add"))
		},
		title: func(_ sim.Call, user string) string {
			return fmt.Sprintf("User %s is anomalously invoking APIs commonly used in Persistence tactics.", user)
		},
		desc: func(c sim.Call, user string) string {
			return fmt.Sprintf("APIs commonly used in Persistence tactics were invoked by user %s under unusual circumstances: %s from %s.", user, c.Operation, c.SourceIP)
		}},
	{typ: "Stealth:IAMUser/CloudTrailLoggingDisabled", severity: 2,
		match: func(c sim.Call) bool {
			return c.Service == "cloudtrail" && (c.Operation == "StopLogging" || c.Operation == "DeleteTrail" || c.Operation == "PutEventSelectors")
		},
		title: func(_ sim.Call, _ string) string { return "AWS CloudTrail trail was disabled." },
		desc: func(c sim.Call, user string) string {
			return fmt.Sprintf("The user %s called %s from %s, which may stop CloudTrail from recording.", user, c.Operation, c.SourceIP)
		}},
}

// principalName is the user (or role) name of a principal ARN and its
// GuardDuty userType.
func principalName(arn string) (name, typ string) {
	switch {
	case strings.Contains(arn, ":assumed-role/"):
		rest := arn[strings.Index(arn, ":assumed-role/")+len(":assumed-role/"):]
		name, _, _ = strings.Cut(rest, "/")
		return name, "AssumedRole"
	case strings.Contains(arn, ":federated-user/"):
		return arn[strings.LastIndex(arn, "/")+1:], "FederatedUser"
	}
	return arn[strings.LastIndex(arn, "/")+1:], "IAMUser"
}

// runGuardDuty reports GuardDuty's findings on the attacker's activity,
// a round at a time.
func (sc *Scenario) runGuardDuty(ctx context.Context) {
	seen := 0
	minerRegion := ""
	for ctx.Err() == nil {
		a := sc.attacker
		if minerRegion == "" {
			if rs := a.Regions(); len(rs) > 0 {
				minerRegion = rs[0]
				if _, err := sc.sim.EnableGuardDuty(minerRegion); err != nil {
					sc.logf("guardduty: %v", err)
				}
			}
		}
		calls := sc.sim.Calls()
		arns := map[string]bool{}
		for _, c := range calls {
			if c.PrincipalARN != "" && a.owns(c.AccessKeyID) {
				arns[c.PrincipalARN] = true
			}
		}
		for _, c := range calls[min(seen, len(calls)):] {
			// GuardDuty judges the caller, not the key: the key's owner's
			// application (runReporting) calls with the leaked key too,
			// from an address no threat list holds.
			if !a.owns(c.AccessKeyID) || c.SourceIP != attackerIP || c.PrincipalARN == "" || c.Region == "" {
				continue
			}
			user, typ := principalName(c.PrincipalARN)
			for _, r := range gdRules {
				if !r.match(c) {
					continue
				}
				sc.sim.ReportFinding(c.Region, sim.GuardDutyFinding{Type: r.typ, Severity: r.severity, ResourceType: "AccessKey",
					Title: r.title(c, user), Description: r.desc(c, user), AccessKeyID: c.AccessKeyID, UserName: user, UserType: typ,
					API: c.Operation, ServiceName: c.Service + ".amazonaws.com", RemoteIP: c.SourceIP, UserAgent: c.UserAgent, At: c.Time})
			}
		}
		seen = len(calls)
		for _, in := range sc.sim.Instances() {
			if !arns[in.Requester] || in.State != "running" && in.State != "pending" {
				continue
			}
			sc.sim.ReportFinding(in.Region, sim.GuardDutyFinding{Type: "CryptoCurrency:EC2/BitcoinTool.B!DNS", Severity: 8, ResourceType: "Instance",
				Title:       fmt.Sprintf("Bitcoin-related domain name queried by EC2 instance %s.", in.ID),
				Description: fmt.Sprintf("EC2 instance %s is querying a domain name that is associated with Bitcoin-related activity: %s.", in.ID, minerPool),
				InstanceID:  in.ID, AvailabilityZone: in.Region + "a", Domain: minerPool})
		}
		if sc.pace(ctx, sc.opts.Round) != nil {
			return
		}
	}
}

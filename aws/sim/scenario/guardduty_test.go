package scenario

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warroom-ir/warroom/aws/findings"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// TestGuardDutyFindsTheAttacker: as the attacker acts, GuardDuty has
// findings for it — its leaked key's reconnaissance from its address in
// the home Region, and the miners in the first Region it runs them in —
// while the other Regions it mines in answer that GuardDuty is not
// enabled. Read through the SDK over HTTP, as warroom reads it.
func TestGuardDutyFindsTheAttacker(t *testing.T) {
	d := startDrill(t, 11, 2000)
	a := d.sc.Attacker()
	select {
	case <-a.Established():
	case <-time.After(60 * time.Second):
		t.Fatal("the attacker never established its footholds")
	}
	c := d.sim.Responder()
	sess, err := session.Load(context.Background(), session.Options{Endpoint: d.endpoint, MaxBackoff: 10 * time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	miners := a.Regions()
	if len(miners) < 2 {
		t.Fatalf("the attacker mines in %v: the drill needs two Regions", miners)
	}
	regions := append([]string{homeRgn}, miners...)
	var gd state.GuardDuty
	byRegion := map[string]state.GuardDutyRegion{}
	waitFor(t, "GuardDuty's findings on the leaked key and the miners", func() bool {
		gd = findings.Read(context.Background(), findings.SessionClient(sess), findings.Options{Regions: regions})
		for _, r := range gd.Regions {
			byRegion[r.Region] = r
		}
		has := func(region, typ string) bool {
			return slices.ContainsFunc(byRegion[region].Findings, func(f state.GuardDutyFinding) bool { return f.Type == typ })
		}
		return has(homeRgn, "Recon:IAMUser/MaliciousIPCaller") && has(miners[0], "CryptoCurrency:EC2/BitcoinTool.B!DNS")
	})
	attackerIPs := map[string]bool{}
	for _, call := range a.CallsSince(time.Time{}) {
		attackerIPs[call.SourceIP] = true
	}
	for _, f := range byRegion[homeRgn].Findings {
		if f.Type != "Recon:IAMUser/MaliciousIPCaller" {
			continue
		}
		if !a.owns(f.AccessKeyID) || !attackerIPs[f.RemoteIP] || f.UserName == "" || f.Severity != 5 || f.Count < 1 {
			t.Errorf("recon finding does not name the attacker: %+v", f)
		}
	}
	launched := map[string]bool{}
	arns := map[string]bool{}
	for _, call := range a.CallsSince(time.Time{}) {
		arns[call.PrincipalARN] = true
	}
	for _, in := range d.sim.Instances() {
		if arns[in.Requester] {
			launched[in.ID] = true
		}
	}
	for _, f := range byRegion[miners[0]].Findings {
		if f.Type == "CryptoCurrency:EC2/BitcoinTool.B!DNS" && (!launched[f.InstanceID] || f.Severity != 8 || f.Domain == "") {
			t.Errorf("miner finding does not name an attacker's instance: %+v", f)
		}
	}
	for _, r := range miners[1:] {
		if byRegion[r].Status != state.GuardDutyNotEnabled || len(byRegion[r].Findings) != 0 {
			t.Errorf("%s, where the attacker mines unseen: %+v", r, byRegion[r])
		}
	}
	if byRegion[homeRgn].Status != state.GuardDutyEnabled {
		t.Errorf("home Region %+v", byRegion[homeRgn])
	}
}

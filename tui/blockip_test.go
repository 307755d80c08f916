package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/warroom-ir/warroom/state"
)

// blockIPContainment plans block-ip as the engine does for the drill: the
// suspect family's address by default, refusing the responder's own.
type blockIPContainment struct {
	fakeContainment
	asked []Target
}

const denyDoc = `{"Version":"2012-10-17","Statement":[{"Sid":"WarroomDenySourceIps","Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["%s"]}}}]}`

func (c *blockIPContainment) Plan(_ context.Context, action string, t Target) (Plan, error) {
	c.asked = append(c.asked, t)
	if t.Kind != TargetIPs {
		return Plan{}, fmt.Errorf("%s does not apply to %s", action, t.ID)
	}
	ip := t.ID
	if ip == "" {
		ip = "203.0.113.7/32"
	}
	if strings.HasPrefix(ip, "198.51.100.") {
		return Plan{}, errors.New("block-ip " + ip + ": refused: this would deny the responder's own source IP address: " + ip +
			" covers 198.51.100.20, the address CloudTrail records for warroom's own calls")
	}
	p := Plan{ID: "plan-ip", Action: action, Target: Target{Kind: TargetIPs, ID: ip}, Title: "Block source IPs " + ip,
		Undo: "block-ip " + ip + " --undo (unblock-ip)",
		Warnings: []string{"preflight: the responder's own source IP (198.51.100.20, from CloudTrail's record of warroom's calls) is not covered",
			"preflight: 2 of 2 principals get inline policy warroom-deny-ips (deny requests from these IPs); 0 already do",
			"preflight: skipped: service-linked role AWSServiceRoleForSupport cannot take an inline policy (AWS manages its policies)"}}
	for _, pr := range []string{"UserName:ci-deploy", "RoleName:deploy"} {
		k, v, _ := strings.Cut(pr, ":")
		api := "iam:PutUserPolicy"
		if k == "RoleName" {
			api = "iam:PutRolePolicy"
		}
		p.Calls = append(p.Calls, state.Call{API: api, Params: map[string]string{k: v, "PolicyName": "warroom-deny-ips", "PolicyDocument": fmt.Sprintf(denyDoc, ip)}})
	}
	for _, eg := range []string{"false", "true"} {
		p.Calls = append(p.Calls, state.Call{API: "ec2:CreateNetworkAclEntry", Region: "eu-west-1", Params: map[string]string{"NetworkAclId": "acl-0a1b2c3d4e5f60718",
			"RuleNumber": "1", "Protocol": "-1", "RuleAction": "deny", "Egress": eg, "CidrBlock": ip}})
	}
	return p, nil
}

func TestBlockIPCommand(t *testing.T) {
	command := func(line string) []tea.KeyPressMsg {
		return append(append([]tea.KeyPressMsg{key1(':')}, runes(line)...), keyEnter)
	}
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		t.Run(fmt.Sprintf("preview/%dx%d", sz[0], sz[1]), func(t *testing.T) {
			c := &blockIPContainment{}
			m, clk := newTestModel(t, Options{Theme: "dark", Containment: c, Journal: &recJournal{}}, sz[0], sz[1])
			for _, k := range command("block-ip") {
				exec(m, press(m, k))
			}
			if m.dialog == nil || m.dialog.kind != dialogPlan {
				t.Fatalf("no plan dialog; message %q", m.message)
			}
			if len(c.asked) != 1 || c.asked[0].Kind != TargetIPs || c.asked[0].ID != "" {
				t.Errorf("asked to plan %+v, want the defaults (no IP)", c.asked)
			}
			out := m.Render()
			checkFrame(t, out, sz[0], sz[1])
			golden.RequireEqual(t, out)
			// Confirm: tab to the run button, enter.
			clk.advance(time.Second)
			press(m, keyTab)
			exec(m, press(m, keyEnter))
			if len(c.runs) != 1 || c.runs[0].Action != ActionBlockIP {
				t.Errorf("runs %+v; message %q", c.runs, m.message)
			}
		})
	}
	t.Run("addresses and undo", func(t *testing.T) {
		c := &blockIPContainment{}
		m, _ := newTestModel(t, Options{Containment: c}, 160, 48)
		for _, k := range command("block-ip 203.0.113.9, 192.0.2.0/24 --undo") {
			exec(m, press(m, k))
		}
		if len(c.asked) != 1 || c.asked[0].ID != "203.0.113.9 192.0.2.0/24" {
			t.Fatalf("asked %+v", c.asked)
		}
		if m.dialog == nil || !strings.Contains(ansi.Strip(m.Render()), "unblock-ip") && !strings.Contains(ansi.Strip(m.Render()), "Block source IPs") {
			t.Errorf("no dialog for the undo; message %q", m.message)
		}
	})
	t.Run("the responder's address is refused, saying why", func(t *testing.T) {
		c := &blockIPContainment{}
		m, _ := newTestModel(t, Options{Containment: c}, 160, 48)
		for _, k := range command("block-ip 198.51.100.0/24") {
			exec(m, press(m, k))
		}
		if m.dialog != nil {
			t.Fatal("a refused plan opened a dialog")
		}
		if footer := ansi.Strip(m.Render()); !strings.Contains(footer, "responder's own source IP") {
			t.Errorf("the refusal is not shown: %q", m.message)
		}
	})
	t.Run("read-only has no block-ip", func(t *testing.T) {
		m, _ := newTestModel(t, Options{Mode: ModeReadOnly, Containment: &blockIPContainment{}}, 160, 48)
		for _, k := range command("block-ip 203.0.113.9") {
			exec(m, press(m, k))
		}
		if m.dialog != nil || !strings.Contains(m.message, "no such command") {
			t.Errorf("read-only: dialog %v, message %q", m.dialog != nil, m.message)
		}
	})
}

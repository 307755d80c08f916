package contain

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// TestSCPDocument: the deny SCP denies everything unless the principal is
// one of the account's incident-response roles, and the preview shows the
// document CreatePolicy sends.
func TestSCPDocument(t *testing.T) {
	doc := SCPDocument("aws", "222222222222", "warroom-ir", OrgAccessRole, "")
	var d struct {
		Version   string
		Statement []struct {
			Effect, Action, Resource string
			Condition                map[string]map[string][]string
		}
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	if d.Version != "2012-10-17" || len(d.Statement) != 1 {
		t.Fatalf("document %s", doc)
	}
	st := d.Statement[0]
	if st.Effect != "Deny" || st.Action != "*" || st.Resource != "*" {
		t.Errorf("statement %+v", st)
	}
	want := []string{"arn:aws:iam::222222222222:role/OrganizationAccountAccessRole", "arn:aws:iam::222222222222:role/warroom-ir"}
	if got := st.Condition["ArnNotLike"]["aws:PrincipalARN"]; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("spared %v, want %v", got, want)
	}
	if got := scpSpared(doc); len(got) != 2 {
		t.Errorf("scpSpared %v", got)
	}
}

// TestSCPRefusesOwnAccount: the account warroom acts from is refused
// before anything is read.
func TestSCPRefusesOwnAccount(t *testing.T) {
	env := &Env{Self: session.Identity{AccountID: "111111111111", ARN: "arn:aws:iam::111111111111:user/responder"}}
	for _, acct := range []string{"111111111111", "12345", "abcdefghijkl"} {
		if _, err := (&AccountSCP{Account: acct}).Plan(context.Background(), env); err == nil {
			t.Errorf("account-scp %s planned", acct)
		}
	}
	if _, err := ParseArg("account-scp", "account/222222222222", ""); err != nil {
		t.Error(err)
	}
	if _, err := ParseArg("account-scp", "2222", ""); err == nil {
		t.Error("a short account id parsed")
	}
	tg, err := ParseTarget(KindAccount, "account/222222222222", "")
	if err != nil || tg.ID != "222222222222" || tg.String() != "account/222222222222" {
		t.Errorf("ParseTarget: %+v %v", tg, err)
	}
	a, err := FromIntent(state.ActionIntent{ActionID: "x", Action: "remove-account-scp", Target: "account/222222222222"})
	if err != nil || a.(*RemoveAccountSCP).Account != "222222222222" {
		t.Errorf("FromIntent: %v %v", a, err)
	}
}

package contain

import (
	"testing"

	"github.com/warroom-ir/warroom/state"
)

// TestPlaybookIrreversibleOnlyByItsCalls: a second run whose irreversible
// steps read back held (nothing to call) is not irreversible: the dialog
// asked to type the key for a run whose only call was a deactivation.
func TestPlaybookIrreversibleOnlyByItsCalls(t *testing.T) {
	held := &Step{Plan: &Plan{Action: "delete-login-profile", Irreversible: true}}
	deactivate := &Step{Plan: &Plan{Action: "deactivate-key", Calls: []state.Call{{API: "iam:UpdateAccessKey"}}}}
	if (&Playbook{Steps: []*Step{held, deactivate}}).Irreversible() {
		t.Error("a held irreversible step made the playbook irreversible")
	}
	deleteProfile := &Step{Plan: &Plan{Action: "delete-login-profile", Irreversible: true, Calls: []state.Call{{API: "iam:DeleteLoginProfile", Irreversible: true}}}}
	if !(&Playbook{Steps: []*Step{deleteProfile, deactivate}}).Irreversible() {
		t.Error("a step that deletes a login profile is not irreversible")
	}
}

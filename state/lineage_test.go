package state

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// mintRec is event n at minute m: key signs call, minting child (with role
// for AssumeRole).
func mintRec(n, m int, key, call, child, role string) *ctlog.Record {
	return rec(n, m, func(r *ctlog.Record) {
		r.AccessKeyID, r.EventName, r.EventSource = key, call, "sts.amazonaws.com"
		r.Minted = &ctlog.Minted{AccessKeyID: child, Expiration: r.EventTime.Add(time.Hour), RoleARN: role}
	})
}

// useRec is event n at minute m, signed by key.
func useRec(n, m int, key string) *ctlog.Record {
	return rec(n, m, func(r *ctlog.Record) { r.AccessKeyID = key })
}

const (
	roleA = "arn:aws:iam::111122223333:role/ops"
	roleB = "arn:aws:iam::111122223333:role/admin"
)

// chain is the role-chaining incident: AKIA1 → ASIA1 (GetSessionToken) →
// ASIA2 (AssumeRole ops) → ASIA3 (AssumeRole admin), a sibling AKIA1 →
// ASIA4, and an unrelated family AKIA9 → ASIA9.
func chain() []*ctlog.Record {
	return []*ctlog.Record{
		useRec(1, 1, "AKIA1"),
		mintRec(2, 2, "AKIA1", "GetSessionToken", "ASIA1", ""),
		useRec(3, 3, "ASIA1"),
		mintRec(4, 4, "ASIA1", "AssumeRole", "ASIA2", roleA),
		useRec(5, 5, "ASIA2"),
		mintRec(6, 6, "ASIA2", "AssumeRole", "ASIA3", roleB),
		useRec(7, 7, "ASIA3"),
		mintRec(8, 8, "AKIA1", "AssumeRole", "ASIA4", roleA),
		useRec(9, 9, "ASIA4"),
		mintRec(10, 10, "AKIA9", "GetFederationToken", "ASIA9", ""),
		useRec(11, 11, "ASIA9"),
	}
}

func TestFamily(t *testing.T) {
	type want struct {
		key, issuer string
		depth       int
		call, role  string
		event       int // the minting event's number; 0 when none
	}
	tests := []struct {
		name  string
		recs  []*ctlog.Record
		order []int // arrival order of recs (indexes); nil = as listed
		key   string
		want  []want
	}{
		{"role chaining from the long-term key", chain(), nil, "AKIA1", []want{
			{"AKIA1", "", 0, "", "", 0},
			{"ASIA1", "AKIA1", 1, "GetSessionToken", "", 2},
			{"ASIA2", "ASIA1", 2, "AssumeRole", roleA, 4},
			{"ASIA3", "ASIA2", 3, "AssumeRole", roleB, 6},
			{"ASIA4", "AKIA1", 1, "AssumeRole", roleA, 8},
		}},
		{"arrival order does not matter", chain(), []int{10, 6, 4, 9, 0, 1, 2, 3, 5, 7, 8}, "AKIA1", []want{
			{"AKIA1", "", 0, "", "", 0},
			{"ASIA1", "AKIA1", 1, "GetSessionToken", "", 2},
			{"ASIA2", "ASIA1", 2, "AssumeRole", roleA, 4},
			{"ASIA3", "ASIA2", 3, "AssumeRole", roleB, 6},
			{"ASIA4", "AKIA1", 1, "AssumeRole", roleA, 8},
		}},
		{"from the middle of the chain", chain(), nil, "ASIA2", []want{
			{"ASIA2", "ASIA1", 0, "AssumeRole", roleA, 4},
			{"ASIA3", "ASIA2", 1, "AssumeRole", roleB, 6},
		}},
		{"a leaf", chain(), nil, "ASIA3", []want{{"ASIA3", "ASIA2", 0, "AssumeRole", roleB, 6}}},
		{"another family", chain(), nil, "AKIA9", []want{
			{"AKIA9", "", 0, "", "", 0},
			{"ASIA9", "AKIA9", 1, "GetFederationToken", "", 10},
		}},
		{"unknown key", chain(), nil, "AKIANOPE", nil},
		{"a forged cycle is cut", append(chain(), mintRec(12, 12, "ASIA3", "AssumeRole", "AKIA1", roleA)), nil, "AKIA1", []want{
			{"AKIA1", "ASIA3", 0, "AssumeRole", roleA, 12},
			{"ASIA1", "AKIA1", 1, "GetSessionToken", "", 2},
			{"ASIA2", "ASIA1", 2, "AssumeRole", roleA, 4},
			{"ASIA3", "ASIA2", 3, "AssumeRole", roleB, 6},
			{"ASIA4", "AKIA1", 1, "AssumeRole", roleA, 8},
		}},
		{"a second claim on a key keeps the first", append(chain(), mintRec(12, 12, "AKIA9", "AssumeRole", "ASIA2", roleB)), nil, "AKIA9", []want{
			{"AKIA9", "", 0, "", "", 0},
			{"ASIA9", "AKIA9", 1, "GetFederationToken", "", 10},
		}},
		// A cross-account AssumeRole is recorded in both accounts: the
		// role's account's copy names no caller key (userIdentity
		// AWSAccount) and may be read first (its member's stream); the
		// caller's copy, read later, links the session to its key.
		{"the role account's copy first, then the caller's", append(chain(),
			mintRec(12, 12, "", "AssumeRole", "ASIAX", "arn:aws:iam::444455556666:role/deploy-cross"),
			mintRec(13, 13, "AKIA1", "AssumeRole", "ASIAX", "arn:aws:iam::444455556666:role/deploy-cross")), nil, "AKIA1", []want{
			{"AKIA1", "", 0, "", "", 0},
			{"ASIA1", "AKIA1", 1, "GetSessionToken", "", 2},
			{"ASIA2", "ASIA1", 2, "AssumeRole", roleA, 4},
			{"ASIA3", "ASIA2", 3, "AssumeRole", roleB, 6},
			{"ASIA4", "AKIA1", 1, "AssumeRole", roleA, 8},
			{"ASIAX", "AKIA1", 1, "AssumeRole", "arn:aws:iam::444455556666:role/deploy-cross", 13},
		}},
		{"a forged addendum that moves a minting event to another key is a conflict: the first copy keeps the link", append(chain(), func() *ctlog.Record {
			r := mintRec(8, 8, "AKIA9", "AssumeRole", "ASIA4", roleB)
			r.Addendum = &ctlog.Addendum{Reason: "UPDATED_DATA", UpdatedFields: "userIdentity,requestParameters"}
			return r
		}()), nil, "AKIA9", []want{
			{"AKIA9", "", 0, "", "", 0},
			{"ASIA9", "AKIA9", 1, "GetFederationToken", "", 10},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := NewEventTable()
			order := tc.order
			if order == nil {
				for i := range tc.recs {
					order = append(order, i)
				}
			}
			for _, i := range order {
				tb.Add(tc.recs[i], EventRef{})
			}
			got := tb.Family(tc.key)
			if len(got) != len(tc.want) {
				t.Fatalf("Family(%s) = %+v, want %d keys", tc.key, got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Key != w.key || g.Issuer != w.issuer || g.Depth != w.depth || g.Call != w.call || g.RoleARN != w.role {
					t.Errorf("Family(%s)[%d] = %+v, want %+v", tc.key, i, g, w)
				}
				if g.Minted != (w.event != 0) {
					t.Errorf("Family(%s)[%d].Minted = %v", tc.key, i, g.Minted)
				}
				if w.event != 0 {
					at := t0.Add(time.Duration(w.event) * time.Minute)
					if g.EventID != uuidOf(w.event) || !g.MintedAt.Equal(at) || !g.Expires.Equal(at.Add(time.Hour)) ||
						tb.Event(g.Event).EventID != g.EventID {
						t.Errorf("Family(%s)[%d] mint details = %+v, want event %d at %v", tc.key, i, g, w.event, at)
					}
				}
			}
		})
	}
}

func TestFamilyFilter(t *testing.T) {
	tb := NewEventTable()
	for _, r := range chain() {
		tb.Add(r, EventRef{})
	}
	tests := []struct {
		filter string
		want   []int
	}{
		{"family:AKIA1", []int{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"family:ASIA2", []int{5, 6, 7}},
		{"family:AKIA9", []int{10, 11}},
		{"family:AKIA1,AKIA9", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"family:akia1 minted", []int{2, 4, 6, 8}},
		{"-family:AKIA1", []int{10, 11}},
		{"family:AKIA*", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"family:ASIA3", []int{7}},
		{"family:AKIANOPE", nil},
		{"key:AKIA1", []int{1, 2, 8}},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			f, err := ParseFilter(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got := eventNums(t, tb, tb.QueryAt(f, t0)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// createKeyRec is event n at minute m: key creates access key child for user.
func createKeyRec(n, m int, key, user, child string) *ctlog.Record {
	return rec(n, m, func(r *ctlog.Record) {
		r.AccessKeyID, r.EventName, r.EventSource = key, "CreateAccessKey", "iam.amazonaws.com"
		r.Raw = []byte(fmt.Sprintf(`{"eventName":"CreateAccessKey","requestParameters":{"userName":%q},"responseElements":{"accessKey":{"userName":%q,"accessKeyId":%q,"status":"Active"}}}`, user, user, child))
	})
}

// createUserRec is event n at minute m: key creates user name.
func createUserRec(n, m int, key, name string) *ctlog.Record {
	return rec(n, m, func(r *ctlog.Record) {
		r.AccessKeyID, r.EventName, r.EventSource = key, "CreateUser", "iam.amazonaws.com"
		r.Raw = []byte(fmt.Sprintf(`{"eventName":"CreateUser","requestParameters":{"userName":%q},"responseElements":{"user":{"userName":%q}}}`, name, name))
	})
}

// TestFamilyCreatedKeys: the family holds the keys it created on any
// user, the keys created for users it created (by anyone, in any arrival
// order), and what those minted; failed calls and other families' keys
// stay out.
func TestFamilyCreatedKeys(t *testing.T) {
	recs := []*ctlog.Record{
		createUserRec(1, 1, "AKIALEAK", "backdoor"),
		createKeyRec(2, 2, "AKIALEAK", "backdoor", "AKIABACK1"),
		createKeyRec(3, 3, "AKIALEAK", "alice", "AKIAALICE2"), // a key on an existing user
		mintRec(4, 4, "AKIABACK1", "GetSessionToken", "ASIABACK", ""),
		createKeyRec(5, 5, "AKIAADMIN", "backdoor", "AKIABACK2"), // an outsider's key for the backdoor user
		createKeyRec(6, 6, "AKIAROT", "rotator", "AKIAROT2"),     // another family
		rec(7, 7, func(r *ctlog.Record) { // failed: creates nothing
			r.AccessKeyID, r.EventName, r.EventSource, r.ErrorCode = "AKIALEAK", "CreateAccessKey", "iam.amazonaws.com", "AccessDenied"
			r.Raw = []byte(`{"responseElements":{"accessKey":{"userName":"bob","accessKeyId":"AKIABOB9"}}}`)
		}),
	}
	want := []string{"AKIALEAK", "AKIABACK1", "ASIABACK", "AKIAALICE2", "AKIABACK2"}
	for _, order := range [][]int{nil, {6, 5, 4, 3, 2, 1, 0}, {4, 1, 3, 0, 6, 2, 5}} {
		tb := NewEventTable()
		for i := range recs {
			j := i
			if order != nil {
				j = order[i]
			}
			tb.Add(recs[j], EventRef{Offset: int64(j)})
		}
		var got []string
		for _, l := range tb.Family("AKIALEAK") {
			got = append(got, l.Key)
			if strings.HasPrefix(l.Key, "AKIA") && l.Key != "AKIALEAK" && (!l.Created || l.Call != "CreateAccessKey" || l.User == "") {
				t.Errorf("order %v: %s: %+v, want a created key with its user", order, l.Key, l)
			}
		}
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("order %v: family %v, want %v", order, got, w)
		}
		if fam := tb.Family("AKIAROT"); len(fam) != 2 || fam[1].Key != "AKIAROT2" {
			t.Errorf("order %v: the rotator's family %v", order, fam)
		}
	}
}

// TestUserCreator: the key whose CreateUser made a user is found by the
// user's name; the first CreateUser is the evidence; unknown users and
// failed calls give nothing.
func TestUserCreator(t *testing.T) {
	tb := NewEventTable()
	tb.Add(createUserRec(1, 1, "AKIALEAK", "backdoor"), EventRef{Offset: 1})
	tb.Add(createUserRec(2, 2, "AKIAOTHER", "backdoor"), EventRef{Offset: 2})
	tb.Add(rec(3, 3, func(r *ctlog.Record) {
		r.AccessKeyID, r.EventName, r.EventSource, r.ErrorCode = "AKIALEAK", "CreateUser", "iam.amazonaws.com", "AccessDenied"
		r.Raw = []byte(`{"responseElements":{"user":{"userName":"denied"}}}`)
	}), EventRef{Offset: 3})
	if k, ok := tb.UserCreator("backdoor"); !ok || k != "AKIALEAK" {
		t.Errorf("UserCreator(backdoor) = %q, %v; want AKIALEAK", k, ok)
	}
	for _, name := range []string{"denied", "nobody"} {
		if k, ok := tb.UserCreator(name); ok {
			t.Errorf("UserCreator(%s) = %q", name, k)
		}
	}
}

// TestFamilyCrossAccountAssumeRole: a cross-account AssumeRole is recorded
// in both accounts; the role account's copy names no key (userIdentity
// AWSAccount) and may arrive first. The session it minted is still the
// family's, through the caller's copy, in either order (found by playing
// the drill organisation: the pivot account's session was "not in the
// journal's suspect family").
func TestFamilyCrossAccountAssumeRole(t *testing.T) {
	const pivot = "arn:aws:iam::444455556666:role/deploy-cross"
	roleCopy := mintRec(2, 2, "", "AssumeRole", "ASIAPIVOT", pivot)
	callerCopy := mintRec(3, 2, "AKIALEAK", "AssumeRole", "ASIAPIVOT", pivot)
	for name, order := range map[string][]*ctlog.Record{
		"role account's copy first": {useRec(1, 1, "AKIALEAK"), roleCopy, callerCopy, useRec(4, 4, "ASIAPIVOT")},
		"caller's copy first":       {useRec(1, 1, "AKIALEAK"), callerCopy, roleCopy, useRec(4, 4, "ASIAPIVOT")},
	} {
		t.Run(name, func(t *testing.T) {
			tb := NewEventTable()
			for _, r := range order {
				tb.Add(r, EventRef{})
			}
			fam := tb.Family("AKIALEAK")
			if !slices.ContainsFunc(fam, func(l Lineage) bool { return l.Key == "ASIAPIVOT" && l.Issuer == "AKIALEAK" }) {
				t.Fatalf("family of AKIALEAK = %+v, want ASIAPIVOT issued by AKIALEAK", fam)
			}
		})
	}
}

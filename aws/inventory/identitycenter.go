package inventory

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idstypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// IdentityCenter reads the account's IAM Identity Center in region (where
// its instance is): every user of the identity store (ListUsers) with the
// permission sets reaching it in account — each permission set's
// assignments in the account (ListPermissionSets, DescribePermissionSet,
// ListAccountAssignments), a group's through its members
// (ListGroupMemberships, DescribeGroup). No instance: status not-enabled.
// A failed read: status unreadable, with AWS's error code (AccessDenied,
// Throttling …) as the reason; the rest of warroom goes on.
func IdentityCenter(ctx context.Context, sess *session.Session, region, account string) state.IdentityCenter {
	ic := state.IdentityCenter{Region: region, TakenAt: time.Now().UTC()}
	fail := func(err error) state.IdentityCenter {
		ic.Status, ic.Reason, ic.Error, ic.Users = state.IdentityCenterUnreadable, reasonOf(err), err.Error(), nil
		return ic
	}
	sso, ids := sess.SSOAdmin(region), sess.IdentityStore(region)
	insts, err := sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		return fail(session.Wrap("sso:ListInstances", region, err))
	}
	for _, in := range insts.Instances {
		if in.Status == "" || in.Status == ssotypes.InstanceStatusActive {
			ic.InstanceARN, ic.StoreID = aws.ToString(in.InstanceArn), aws.ToString(in.IdentityStoreId)
			break
		}
	}
	if ic.InstanceARN == "" {
		ic.Status = state.IdentityCenterNotEnabled
		return ic
	}
	inst, store := aws.String(ic.InstanceARN), aws.String(ic.StoreID)
	// Who reaches what in the account.
	access := map[string][]string{} // user id → "PS" / "PS (via G)"
	groupMembers := map[string][]string{}
	groupName := map[string]string{}
	psp := ssoadmin.NewListPermissionSetsPaginator(sso, &ssoadmin.ListPermissionSetsInput{InstanceArn: inst})
	for psp.HasMorePages() {
		page, err := psp.NextPage(ctx)
		if err != nil {
			return fail(session.Wrap("sso:ListPermissionSets", region, err))
		}
		for _, ps := range page.PermissionSets {
			d, err := sso.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(ps)})
			if err != nil {
				return fail(session.Wrap("sso:DescribePermissionSet", region, err))
			}
			name := aws.ToString(d.PermissionSet.Name)
			ap := ssoadmin.NewListAccountAssignmentsPaginator(sso, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: inst, PermissionSetArn: aws.String(ps), AccountId: aws.String(account)})
			for ap.HasMorePages() {
				ass, err := ap.NextPage(ctx)
				if err != nil {
					return fail(session.Wrap("sso:ListAccountAssignments", region, err))
				}
				for _, a := range ass.AccountAssignments {
					pid := aws.ToString(a.PrincipalId)
					if a.PrincipalType == ssotypes.PrincipalTypeUser {
						access[pid] = append(access[pid], name)
						continue
					}
					members, ok := groupMembers[pid]
					if !ok {
						if members, err = groupOf(ctx, ids, store, pid); err != nil {
							return fail(session.Wrap("identitystore:ListGroupMemberships", region, err))
						}
						groupMembers[pid] = members
						g, err := ids.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: store, GroupId: aws.String(pid)})
						if err != nil {
							return fail(session.Wrap("identitystore:DescribeGroup", region, err))
						}
						groupName[pid] = aws.ToString(g.DisplayName)
					}
					for _, m := range members {
						access[m] = append(access[m], name+" (via "+groupName[pid]+")")
					}
				}
			}
		}
	}
	up := identitystore.NewListUsersPaginator(ids, &identitystore.ListUsersInput{IdentityStoreId: store})
	for up.HasMorePages() {
		page, err := up.NextPage(ctx)
		if err != nil {
			return fail(session.Wrap("identitystore:ListUsers", region, err))
		}
		for _, u := range page.Users {
			su := state.SSOUser{ID: aws.ToString(u.UserId), UserName: aws.ToString(u.UserName), DisplayName: aws.ToString(u.DisplayName)}
			for _, e := range u.Emails {
				su.Emails = append(su.Emails, aws.ToString(e.Value))
			}
			su.Access = access[su.ID]
			sort.Strings(su.Access)
			su.Access = slices.Compact(su.Access)
			ic.Users = append(ic.Users, su)
		}
	}
	sort.Slice(ic.Users, func(i, j int) bool { return ic.Users[i].UserName < ic.Users[j].UserName })
	ic.Status = state.IdentityCenterOK
	return ic
}

// groupOf lists a group's members' user ids.
func groupOf(ctx context.Context, ids *identitystore.Client, store *string, group string) ([]string, error) {
	var out []string
	p := identitystore.NewListGroupMembershipsPaginator(ids, &identitystore.ListGroupMembershipsInput{IdentityStoreId: store, GroupId: aws.String(group)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range page.GroupMemberships {
			if u, ok := m.MemberId.(*idstypes.MemberIdMemberUserId); ok {
				out = append(out, u.Value)
			}
		}
	}
	return out, nil
}

// reasonOf is a failed read's reason as the console shows it: AWS's error
// code without "Exception" (AccessDenied, Throttling …), else the class.
func reasonOf(err error) string {
	switch session.Classify(err) {
	case session.ClassDenied:
		return "AccessDenied"
	case session.ClassThrottled:
		return "Throttling"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return string(session.Classify(err))
}

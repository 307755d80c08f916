package sweep

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

func init() { Register(securityGroups{}) }

// securityGroups sweeps security groups, noting which ports are open to
// the whole internet.
type securityGroups struct{}

func (securityGroups) Name() string { return "ec2:security-group" }

func (securityGroups) Sweep(ctx context.Context, sess *session.Session, region string) ([]state.Resource, error) {
	var out []state.Resource
	p := ec2.NewDescribeSecurityGroupsPaginator(sess.EC2(region), &ec2.DescribeSecurityGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("ec2:DescribeSecurityGroups", region, err)
		}
		for _, g := range page.SecurityGroups {
			r := state.Resource{
				ID: aws.ToString(g.GroupId), Name: aws.ToString(g.GroupName), Tags: tags(g.Tags),
				Attrs: map[string]string{},
			}
			set := func(k, v string) {
				if v != "" {
					r.Attrs[k] = v
				}
			}
			set("vpc", aws.ToString(g.VpcId))
			set("description", aws.ToString(g.Description))
			set("open_to_world", openToWorld(g.IpPermissions))
			out = append(out, r)
		}
	}
	return out, nil
}

// openToWorld lists the ingress rules open to 0.0.0.0/0 or ::/0, as
// "tcp:22", "all" ….
func openToWorld(perms []types.IpPermission) string {
	var open []string
	for _, p := range perms {
		world := slices.ContainsFunc(p.IpRanges, func(r types.IpRange) bool { return aws.ToString(r.CidrIp) == "0.0.0.0/0" }) ||
			slices.ContainsFunc(p.Ipv6Ranges, func(r types.Ipv6Range) bool { return aws.ToString(r.CidrIpv6) == "::/0" })
		if !world {
			continue
		}
		proto := aws.ToString(p.IpProtocol)
		switch {
		case proto == "-1":
			open = append(open, "all")
		case p.FromPort == nil || aws.ToInt32(p.FromPort) == aws.ToInt32(p.ToPort):
			open = append(open, fmt.Sprintf("%s:%d", proto, aws.ToInt32(p.FromPort)))
		default:
			open = append(open, fmt.Sprintf("%s:%d-%d", proto, aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort)))
		}
	}
	return strings.Join(open, ",")
}

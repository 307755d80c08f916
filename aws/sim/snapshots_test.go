package sim

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

func TestEC2RootVolumeSnapshot(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	c := env.ec2(env.sim.Responder(), "sa-east-1")
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	desc, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	bd := desc.Reservations[0].Instances[0].BlockDeviceMappings
	if len(bd) != 1 || bd[0].Ebs == nil || aws.ToString(bd[0].Ebs.VolumeId) == "" {
		t.Fatalf("block devices %+v", bd)
	}
	vol := aws.ToString(bd[0].Ebs.VolumeId)
	snap, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol), Description: aws.String("IR-1 evidence")})
	if err != nil || aws.ToString(snap.VolumeId) != vol || aws.ToString(snap.SnapshotId) == "" {
		t.Fatalf("CreateSnapshot: %v %+v", err, snap)
	}
	rec := recordOf(t, env.sim, "CreateSnapshot")
	if dig(rec, "requestParameters", "volumeId") != vol || dig(rec, "responseElements", "snapshotId") != aws.ToString(snap.SnapshotId) {
		t.Errorf("CreateSnapshot record %s", mustJSON(t, rec))
	}
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol)})
	if code := errCode(t, err); code != "InvalidVolume.NotFound" {
		t.Errorf("snapshot of a deleted volume: %q", code)
	}
}

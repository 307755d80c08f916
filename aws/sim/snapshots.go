package sim

import "strings"

// EBS in the drill account: every instance has one 8 GiB root volume
// (vol- and the instance's own hex id), deleted with the instance, and
// CreateSnapshot snapshots it (forensics before containment).

type ec2EBS struct {
	VolumeID            string `xml:"volumeId"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type ec2BlockDevice struct {
	DeviceName string `xml:"deviceName"`
	EBS        ec2EBS `xml:"ebs"`
}

// rootVolume is the id of the instance's root volume.
func (in *instance) rootVolume() string { return "vol-" + strings.TrimPrefix(in.ID, "i-") }

// snapshot is an EBS snapshot.
type snapshot struct {
	ID, VolumeID, Description string
}

type createSnapshotResult struct {
	SnapshotID  string   `xml:"snapshotId"`
	VolumeID    string   `xml:"volumeId"`
	Status      string   `xml:"status"`
	StartTime   string   `xml:"startTime"`
	Progress    string   `xml:"progress"`
	OwnerID     string   `xml:"ownerId"`
	VolumeSize  int      `xml:"volumeSize"`
	Description string   `xml:"description"`
	Encrypted   bool     `xml:"encrypted"`
	TagSet      []ec2Tag `xml:"tagSet>item"`
}

func (s *Sim) ec2CreateSnapshot(r *Request) (any, error) {
	vol, desc := r.Param("VolumeId"), r.Param("Description")
	params := map[string]any{"volumeId": vol}
	if desc != "" {
		params["description"] = desc
	}
	r.RequestParameters = params
	if vol == "" {
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameter volumeId")
	}
	rg := s.ec2region(r.Region)
	var owner *instance
	for _, in := range rg.instances {
		if in.rootVolume() == vol && in.State != stateTerminated && in.State != stateShuttingDown {
			owner = in
		}
	}
	if owner == nil {
		return nil, Errorf(400, "InvalidVolume.NotFound", "The volume '%s' does not exist.", vol)
	}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	if rg.snapshots == nil {
		rg.snapshots = map[string]*snapshot{}
	}
	sn := &snapshot{ID: s.ids.hexID("snap", 17), VolumeID: vol, Description: desc}
	rg.snapshots[sn.ID] = sn
	out := createSnapshotResult{SnapshotID: sn.ID, VolumeID: vol, Status: "pending", StartTime: isoTime(r.Now), Progress: "",
		OwnerID: s.acct.ID, VolumeSize: 8, Description: desc, TagSet: ec2Tags(ec2TagSpecs(r.Form, "snapshot"))}
	r.Resources = []EventResource{{ARN: "arn:aws:ec2:" + r.Region + "::snapshot/" + sn.ID, AccountID: s.acct.ID, Type: "AWS::EC2::Snapshot"}}
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "snapshotId": sn.ID, "volumeId": vol, "status": "pending",
		"startTime": r.Now.UnixMilli(), "progress": "", "ownerId": s.acct.ID, "volumeSize": 8, "description": desc, "encrypted": false}
	return out, nil
}

package sim

func iamService(s *Sim) *Service {
	return &Service{Name: "iam", EventSource: "iam.amazonaws.com", Protocol: ProtoQuery, XMLNS: xmlnsIAM, Global: true,
		Ops: map[string]Op{}}
}

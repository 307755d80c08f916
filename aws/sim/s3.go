package sim

func s3Service(s *Sim) *Service {
	return &Service{Name: "s3", EventSource: "s3.amazonaws.com", Protocol: ProtoRESTXML, Ops: map[string]Op{}}
}

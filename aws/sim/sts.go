package sim

func stsService(s *Sim) *Service {
	return &Service{Name: "sts", EventSource: "sts.amazonaws.com", Protocol: ProtoQuery, XMLNS: xmlnsSTS,
		Ops: map[string]Op{
			"GetCallerIdentity": {Handle: s.stsGetCallerIdentity, ReadOnly: true, NoAuthz: true},
		}}
}

type callerIdentityResult struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

func (s *Sim) stsGetCallerIdentity(r *Request) (any, error) {
	c := r.Caller
	return callerIdentityResult{UserID: c.PrincipalID, Account: c.AccountID, Arn: c.ARN}, nil
}

package sim

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// s3Service serves the trail bucket, path-style: /bucket and /bucket/key.
// S3 object reads are data events: CloudTrail does not record them (the
// trail has no data event selectors), so they appear in Calls only.
func s3Service(s *Sim) *Service {
	return &Service{Name: "s3", EventSource: "s3.amazonaws.com", Protocol: ProtoRESTXML, Route: s3Route,
		Ops: map[string]Op{
			"ListBuckets":   {Handle: s.s3ListBuckets, ReadOnly: true, Action: "s3:ListAllMyBuckets"},
			"ListObjectsV2": {Handle: s.s3ListObjectsV2, ReadOnly: true, Action: "s3:ListBucket", DataEvent: true},
			"GetObject":     {Handle: s.s3GetObject, ReadOnly: true, DataEvent: true},
			"HeadObject":    {Handle: s.s3GetObject, ReadOnly: true, Action: "s3:GetObject", DataEvent: true},
		}}
}

func s3Route(r *Request) (string, *Error) {
	path := strings.TrimPrefix(r.HTTP.URL.Path, "/")
	bucket, key, hasKey := strings.Cut(path, "/")
	r.Path["Bucket"], r.Path["Key"] = bucket, key
	q := r.HTTP.URL.Query()
	switch {
	case r.HTTP.Method == http.MethodGet && bucket == "":
		return "ListBuckets", nil
	case r.HTTP.Method == http.MethodGet && (!hasKey || key == "") && q.Get("list-type") == "2":
		return "ListObjectsV2", nil
	case r.HTTP.Method == http.MethodGet && hasKey && key != "":
		return "GetObject", nil
	case r.HTTP.Method == http.MethodHead && hasKey && key != "":
		return "HeadObject", nil
	}
	return "", errUnknownOp(ProtoRESTXML, "")
}

func (s *Sim) s3Bucket(r *Request) *Error {
	if b := r.Path["Bucket"]; b != s.trail.bucket {
		return Errorf(404, "NoSuchBucket", "The specified bucket does not exist")
	}
	return nil
}

type s3Contents struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int    `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

type s3Prefix struct {
	Prefix string `xml:"Prefix"`
}

type listBucketResult struct {
	XMLName               xml.Name     `xml:"ListBucketResult"`
	XMLNS                 string       `xml:"xmlns,attr"`
	Name                  string       `xml:"Name"`
	Prefix                string       `xml:"Prefix"`
	Delimiter             string       `xml:"Delimiter,omitempty"`
	MaxKeys               int          `xml:"MaxKeys"`
	KeyCount              int          `xml:"KeyCount"`
	IsTruncated           bool         `xml:"IsTruncated"`
	EncodingType          string       `xml:"EncodingType,omitempty"`
	ContinuationToken     string       `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string       `xml:"NextContinuationToken,omitempty"`
	StartAfter            string       `xml:"StartAfter,omitempty"`
	Contents              []s3Contents `xml:"Contents"`
	CommonPrefixes        []s3Prefix   `xml:"CommonPrefixes"`
}

func (s *Sim) s3ListBuckets(r *Request) (any, error) {
	type bucket struct {
		Name         string `xml:"Name"`
		CreationDate string `xml:"CreationDate"`
	}
	return struct {
		XMLName xml.Name `xml:"ListAllMyBucketsResult"`
		XMLNS   string   `xml:"xmlns,attr"`
		Owner   struct {
			ID string `xml:"ID"`
		} `xml:"Owner"`
		Buckets []bucket `xml:"Buckets>Bucket"`
	}{XMLNS: xmlnsS3, Buckets: []bucket{{s.trail.bucket, isoTime(s.trail.created)}}}, nil
}

func (s *Sim) s3ListObjectsV2(r *Request) (any, error) {
	if e := s.s3Bucket(r); e != nil {
		return nil, e
	}
	s.deliverLocked(r.Now)
	q := r.HTTP.URL.Query()
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	max := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, Errorf(400, "InvalidArgument", "Provided max-keys not an integer or within integer range")
		}
		max = min(n, 1000)
	}
	after := q.Get("start-after")
	if tok := q.Get("continuation-token"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return nil, Errorf(400, "InvalidArgument", "The continuation token provided is incorrect")
		}
		after = string(b)
	}
	keys := make([]string, 0, len(s.trail.objects))
	for k := range s.trail.objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := listBucketResult{XMLNS: xmlnsS3, Name: s.trail.bucket, Prefix: prefix, Delimiter: delim, MaxKeys: max,
		ContinuationToken: q.Get("continuation-token"), StartAfter: q.Get("start-after"), EncodingType: q.Get("encoding-type")}
	enc := func(k string) string {
		if out.EncodingType == "url" {
			return strings.ReplaceAll(url.QueryEscape(k), "%2F", "/")
		}
		return k
	}
	seen := map[string]bool{}
	last := ""
	for _, k := range keys {
		if out.KeyCount == max {
			out.IsTruncated = true
			out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(last))
			break
		}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+len(delim)]
				if !seen[cp] {
					seen[cp] = true
					out.CommonPrefixes = append(out.CommonPrefixes, s3Prefix{enc(cp)})
					out.KeyCount++
				}
				// Skip past every key under this common prefix.
				last = cp + "\xff"
				continue
			}
		}
		o := s.trail.objects[k]
		out.Contents = append(out.Contents, s3Contents{Key: enc(k), LastModified: o.Modified.UTC().Format("2006-01-02T15:04:05.000Z"),
			ETag: o.ETag, Size: len(o.Body), StorageClass: "STANDARD"})
		out.KeyCount++
		last = k
	}
	return out, nil
}

func (s *Sim) s3GetObject(r *Request) (any, error) {
	if e := s.s3Bucket(r); e != nil {
		return nil, e
	}
	s.deliverLocked(r.Now)
	o := s.trail.objects[r.Path["Key"]]
	if o == nil {
		if r.Op == "HeadObject" {
			return nil, Errorf(404, "NotFound", "Not Found")
		}
		return nil, Errorf(404, "NoSuchKey", "The specified key does not exist.")
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Encoding", "gzip")
	h.Set("ETag", o.ETag)
	h.Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
	h.Set("Content-Length", strconv.Itoa(len(o.Body)))
	h.Set("X-Amz-Server-Side-Encryption", "AES256")
	body := o.Body
	if r.Op == "HeadObject" {
		body = []byte{}
	}
	return &Reply{Header: h, Body: body}, nil
}

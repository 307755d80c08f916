package sim

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// s3Service serves the trail bucket, path-style: /bucket and /bucket/key.
// Object-level calls are data events: CloudTrail records them only for a
// trail whose event selectors select the object (AWS::S3::Object), never
// in the event history; listings are not recorded at all here. Every call
// appears in Calls.
func s3Service(s *Sim) *Service {
	return &Service{Name: "s3", EventSource: "s3.amazonaws.com", Protocol: ProtoRESTXML, Route: s3Route,
		Ops: map[string]Op{
			"ListBuckets":       {Handle: s.s3ListBuckets, ReadOnly: true, Action: "s3:ListAllMyBuckets"},
			"GetBucketLocation": {Handle: s.s3GetBucketLocation, ReadOnly: true},
			"ListObjects":       {Handle: s.s3ListObjects, ReadOnly: true, Action: "s3:ListBucket", DataEvent: true},
			"ListObjectsV2":     {Handle: s.s3ListObjectsV2, ReadOnly: true, Action: "s3:ListBucket", DataEvent: true},
			"GetObject":         {Handle: s.s3GetObject, ReadOnly: true, DataEvent: true},
			"HeadObject":        {Handle: s.s3GetObject, ReadOnly: true, Action: "s3:GetObject", DataEvent: true},
			"PutObject":         {Handle: s.s3PutObject, DataEvent: true},
			"DeleteObject":      {Handle: s.s3DeleteObject, DataEvent: true},
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
	case r.HTTP.Method == http.MethodGet && (!hasKey || key == "") && q.Has("location"):
		return "GetBucketLocation", nil
	case r.HTTP.Method == http.MethodGet && (!hasKey || key == "") && q.Get("list-type") == "2":
		return "ListObjectsV2", nil
	case r.HTTP.Method == http.MethodGet && (!hasKey || key == ""):
		return "ListObjects", nil
	case r.HTTP.Method == http.MethodGet && hasKey && key != "":
		return "GetObject", nil
	case r.HTTP.Method == http.MethodHead && hasKey && key != "":
		return "HeadObject", nil
	case r.HTTP.Method == http.MethodPut && hasKey && key != "" && !q.Has("uploads") && !q.Has("uploadId") && !q.Has("tagging"):
		return "PutObject", nil
	case r.HTTP.Method == http.MethodDelete && hasKey && key != "" && !q.Has("uploads") && !q.Has("uploadId") && !q.Has("tagging"):
		return "DeleteObject", nil
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
	max, err := maxKeys(q)
	if err != nil {
		return nil, err
	}
	after := q.Get("start-after")
	if tok := q.Get("continuation-token"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return nil, Errorf(400, "InvalidArgument", "The continuation token provided is incorrect")
		}
		after = string(b)
	}
	out := listBucketResult{XMLNS: xmlnsS3, Name: s.trail.bucket, Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"), MaxKeys: max,
		ContinuationToken: q.Get("continuation-token"), StartAfter: q.Get("start-after"), EncodingType: q.Get("encoding-type")}
	var next string
	out.Contents, out.CommonPrefixes, out.KeyCount, next = s.s3List(out.Prefix, out.Delimiter, after, false, max, out.EncodingType == "url")
	if next != "" {
		if out.Delimiter != "" && strings.HasSuffix(next, out.Delimiter) {
			next += "\xff" // a common prefix: go on past every key under it
		}
		out.IsTruncated, out.NextContinuationToken = true, base64.RawURLEncoding.EncodeToString([]byte(next))
	}
	return out, nil
}

// maxKeys reads a listing's max-keys (1000 when absent, at most 1000).
func maxKeys(q url.Values) (int, error) {
	v := q.Get("max-keys")
	if v == "" {
		return 1000, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, Errorf(400, "InvalidArgument", "Provided max-keys not an integer or within integer range")
	}
	return min(n, 1000), nil
}

// s3List lists the bucket as both list calls do: the keys under prefix
// that sort after after (with skipUnder, past every key under it when it
// is a common prefix: ListObjects' NextMarker), rolled up at delim, at
// most max entries. next is the last entry listed when more remain.
func (s *Sim) s3List(prefix, delim, after string, skipUnder bool, max int, urlEncode bool) (contents []s3Contents, prefixes []s3Prefix, n int, next string) {
	enc := func(k string) string {
		if urlEncode {
			return strings.ReplaceAll(url.QueryEscape(k), "%2F", "/")
		}
		return k
	}
	keys := make([]string, 0, len(s.trail.objects))
	for k := range s.trail.objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	skip := "" // a common prefix listed: the keys under it are passed over
	if skipUnder && delim != "" && strings.HasSuffix(after, delim) {
		skip = after
	}
	last := ""
	for _, k := range keys {
		if skip != "" && strings.HasPrefix(k, skip) {
			continue
		}
		if n == max {
			return contents, prefixes, n, last
		}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+len(delim)]
				prefixes = append(prefixes, s3Prefix{enc(cp)})
				n++
				last, skip = cp, cp
				continue
			}
		}
		o := s.trail.objects[k]
		contents = append(contents, s3Contents{Key: enc(k), LastModified: o.Modified.UTC().Format("2006-01-02T15:04:05.000Z"),
			ETag: o.ETag, Size: len(o.Body), StorageClass: "STANDARD"})
		n++
		last = k
	}
	return contents, prefixes, n, ""
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
	r.RequestParameters = s3ObjectParams(r)
	h := http.Header{}
	ct := o.ContentType
	if ct == "" {
		ct = "application/json"
	}
	h.Set("Content-Type", ct)
	if strings.HasSuffix(o.Key, ".gz") {
		h.Set("Content-Encoding", "gzip")
	}
	for k, v := range o.Meta {
		h["x-amz-meta-"+k] = []string{v} // lower case, as S3 sends them
	}
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

// s3ObjectParams is an object-level call's requestParameters as CloudTrail
// records them, and sets the record's resources (the object, the bucket).
func s3ObjectParams(r *Request) map[string]any {
	b, k := r.Path["Bucket"], r.Path["Key"]
	r.Resources = []EventResource{{ARN: "arn:aws:s3:::" + b + "/" + k, Type: "AWS::S3::Object"},
		{ARN: "arn:aws:s3:::" + b, AccountID: r.Sim.acct.ID, Type: "AWS::S3::Bucket"}}
	return map[string]any{"bucketName": b, "Host": b + ".s3." + r.Region + ".amazonaws.com", "key": k}
}

// s3GetBucketLocation answers the bucket's Region: empty for us-east-1.
func (s *Sim) s3GetBucketLocation(r *Request) (any, error) {
	r.RequestParameters = map[string]any{"bucketName": r.Path["Bucket"], "Host": "s3.amazonaws.com", "location": ""}
	if e := s.s3Bucket(r); e != nil {
		return nil, e
	}
	r.Resources = []EventResource{{ARN: "arn:aws:s3:::" + r.Path["Bucket"], AccountID: s.acct.ID, Type: "AWS::S3::Bucket"}}
	return struct {
		XMLName xml.Name `xml:"LocationConstraint"`
		XMLNS   string   `xml:"xmlns,attr"`
		Value   string   `xml:",chardata"`
	}{XMLNS: xmlnsS3}, nil
}

// s3ListObjects is ListObjects (version 1): Marker, and NextMarker when a
// delimiter is given.
func (s *Sim) s3ListObjects(r *Request) (any, error) {
	if e := s.s3Bucket(r); e != nil {
		return nil, e
	}
	s.deliverLocked(r.Now)
	q := r.HTTP.URL.Query()
	max, err := maxKeys(q)
	if err != nil {
		return nil, err
	}
	type result struct {
		XMLName        xml.Name     `xml:"ListBucketResult"`
		XMLNS          string       `xml:"xmlns,attr"`
		Name           string       `xml:"Name"`
		Prefix         string       `xml:"Prefix"`
		Marker         string       `xml:"Marker"`
		NextMarker     string       `xml:"NextMarker,omitempty"`
		MaxKeys        int          `xml:"MaxKeys"`
		Delimiter      string       `xml:"Delimiter,omitempty"`
		IsTruncated    bool         `xml:"IsTruncated"`
		EncodingType   string       `xml:"EncodingType,omitempty"`
		Contents       []s3Contents `xml:"Contents"`
		CommonPrefixes []s3Prefix   `xml:"CommonPrefixes"`
	}
	out := result{XMLNS: xmlnsS3, Name: s.trail.bucket, Prefix: q.Get("prefix"), Marker: q.Get("marker"), MaxKeys: max,
		Delimiter: q.Get("delimiter"), EncodingType: q.Get("encoding-type")}
	var next string
	out.Contents, out.CommonPrefixes, _, next = s.s3List(out.Prefix, out.Delimiter, out.Marker, true, max, out.EncodingType == "url")
	if next != "" {
		out.IsTruncated = true
		if out.Delimiter != "" {
			// Without a delimiter S3 leaves it out: the next marker is the last key.
			out.NextMarker = next
		}
	}
	return out, nil
}

// s3PutObject stores (or overwrites) an object, keeping its Content-Type
// and x-amz-meta-* headers as its metadata.
func (s *Sim) s3PutObject(r *Request) (any, error) {
	r.RequestParameters = s3ObjectParams(r)
	if e := s.s3Bucket(r); e != nil {
		return nil, e
	}
	s.deliverLocked(r.Now)
	body, err := s3Payload(r)
	if err != nil {
		return nil, err
	}
	key := r.Path["Key"]
	o := &s3Object{Key: key, Body: body, Modified: r.Now.UTC().Truncate(time.Second), ETag: etagOf(body),
		ContentType: r.HTTP.Header.Get("Content-Type")}
	for name, vs := range r.HTTP.Header {
		if m, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-meta-"); ok && len(vs) > 0 {
			if o.Meta == nil {
				o.Meta = map[string]string{}
			}
			o.Meta[m] = vs[0]
		}
	}
	s.trail.objects[key] = o
	r.AdditionalEventData = map[string]any{"SignatureVersion": "SigV4", "AuthenticationMethod": "AuthHeader",
		"bytesTransferredIn": len(body), "bytesTransferredOut": 0, "x-amz-id-2": r.RequestID}
	h := http.Header{}
	h.Set("ETag", o.ETag)
	h.Set("X-Amz-Server-Side-Encryption", "AES256")
	return &Reply{Header: h, Body: []byte{}}, nil
}

// s3DeleteObject deletes an object; a key that is not there is no error.
func (s *Sim) s3DeleteObject(r *Request) (any, error) {
	r.RequestParameters = s3ObjectParams(r)
	if e := s.s3Bucket(r); e != nil {
		return nil, e
	}
	s.deliverLocked(r.Now)
	delete(s.trail.objects, r.Path["Key"])
	return &Reply{Status: http.StatusNoContent, Body: []byte{}}, nil
}

// s3Payload is a PutObject's object bytes: the body, or its aws-chunked
// content (the SDKs' streaming uploads) without the chunk framing.
func s3Payload(r *Request) ([]byte, error) {
	sha := r.HTTP.Header.Get("X-Amz-Content-Sha256")
	if !strings.HasPrefix(sha, "STREAMING-") && !strings.Contains(r.HTTP.Header.Get("Content-Encoding"), "aws-chunked") {
		return r.Body, nil
	}
	var out []byte
	rest := r.Body
	for {
		line, after, ok := strings.Cut(string(rest), "\r\n")
		if !ok {
			return nil, Errorf(400, "IncompleteBody", "The request body terminated unexpectedly")
		}
		size, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(line, ";", 2)[0]), 16, 64)
		if err != nil || size < 0 || size > int64(len(after)) {
			return nil, Errorf(400, "IncompleteBody", "The request body terminated unexpectedly")
		}
		if size == 0 {
			return out, nil
		}
		out = append(out, after[:size]...)
		rest = []byte(strings.TrimPrefix(after[size:], "\r\n"))
	}
}

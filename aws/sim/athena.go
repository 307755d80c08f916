package sim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/warroom-ir/warroom/aws/sim/athenasql"
)

// Athena: the drill's Amazon Athena over its own S3 (the trail bucket),
// the Glue Data Catalog (AwsDataCatalog) it keeps, and a real SQL engine
// (athenasql: Trino's SQL translated for a pure-Go SQLite) running each
// SELECT over the records of the log files under the table's LOCATION.
// Queries run in the background, as Athena's do: StartQueryExecution
// answers at once, GetQueryExecution shows QUEUED, RUNNING, then
// SUCCEEDED, FAILED or CANCELLED.

const athenaCatalog = "AwsDataCatalog"

func athenaService(s *Sim) *Service {
	return &Service{Name: "athena", EventSource: "athena.amazonaws.com", Protocol: ProtoJSON,
		Ops: map[string]Op{
			"StartQueryExecution": {Handle: s.athenaStart},
			"GetQueryExecution":   {Handle: s.athenaGetExecution, ReadOnly: true},
			"GetQueryResults":     {Handle: s.athenaGetResults, ReadOnly: true},
			"StopQueryExecution":  {Handle: s.athenaStop},
			"ListQueryExecutions": {Handle: s.athenaListExecutions, ReadOnly: true},
			"GetTableMetadata":    {Handle: s.athenaGetTable, ReadOnly: true},
			"ListTableMetadata":   {Handle: s.athenaListTables, ReadOnly: true},
			"GetDatabase":         {Handle: s.athenaGetDatabase, ReadOnly: true},
			"ListDatabases":       {Handle: s.athenaListDatabases, ReadOnly: true},
			"GetWorkGroup":        {Handle: s.athenaGetWorkGroup, ReadOnly: true},
		}}
}

type athenaState struct {
	engine  *athenasql.Engine
	regions map[string]*athenaRegion
	// startLimit throttles StartQueryExecution (SetAthenaStartLimit).
	startLimit *rate.Limiter
}

type athenaRegion struct {
	dbs     map[string]*athenaDB
	queries map[string]*athenaQuery
	order   []string          // query ids, oldest first
	tokens  map[string]string // ClientRequestToken → query id
}

type athenaDB struct {
	name, comment string
	created       time.Time
	tables        map[string]*athenaTable
}

type athenaTable struct {
	def     *athenasql.Table
	created time.Time
}

type athenaQuery struct {
	id, sql, db, catalog, workgroup, output string
	stmtType                                string // DDL, DML, UTILITY
	state, reason, errType                  string
	submitted, completed                    time.Time
	engineMs                                int64
	scanned                                 int64
	result                                  *athenasql.Result
	cancel                                  context.CancelFunc
}

func (s *Sim) athena() *athenaState {
	return s.State("athena", func() any { return &athenaState{regions: map[string]*athenaRegion{}} }).(*athenaState)
}

func (st *athenaState) region(r string, now time.Time) *athenaRegion {
	ar := st.regions[r]
	if ar == nil {
		ar = &athenaRegion{dbs: map[string]*athenaDB{"default": {name: "default", comment: "Default Hive database", created: now, tables: map[string]*athenaTable{}}},
			queries: map[string]*athenaQuery{}, tokens: map[string]string{}}
		st.regions[r] = ar
	}
	return ar
}

// SetAthenaStartLimit throttles StartQueryExecution to perSecond calls
// (burst at once) with TooManyRequestsException, as Athena's account
// limits do; zero removes the limit.
func (s *Sim) SetAthenaStartLimit(perSecond float64, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.athena()
	if perSecond <= 0 {
		st.startLimit = nil
		return
	}
	st.startLimit = rate.NewLimiter(rate.Limit(perSecond), max(1, burst))
}

// athenaThrottled is Athena's throttling error.
func athenaThrottled() *Error {
	return Errorf(400, "TooManyRequestsException", "Rate exceeded")
}

func athenaInvalid(format string, args ...any) *Error {
	return Errorf(400, "InvalidRequestException", format, args...)
}

// decodeAthena reads a request body into in and records it, keys in
// lowerCamelCase, as CloudTrail shows Athena's requestParameters.
func decodeAthena(r *Request, in any) error {
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, in); err != nil {
			return Errorf(400, "SerializationException", "Cannot parse the request body")
		}
		var raw any
		if json.Unmarshal(r.Body, &raw) == nil {
			r.RequestParameters = lowerKeys(raw)
		}
	}
	return nil
}

func lowerKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[lowerFirst(k)] = lowerKeys(val)
		}
		return out
	case []any:
		for i := range x {
			x[i] = lowerKeys(x[i])
		}
	}
	return v
}

type startQueryInput struct {
	QueryString           string
	ClientRequestToken    string
	QueryExecutionContext *struct{ Database, Catalog string }
	ResultConfiguration   *struct{ OutputLocation string }
	WorkGroup             string
	ExecutionParameters   []string
}

var athenaIDRe = regexp.MustCompile(`^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$`)

func (s *Sim) athenaStart(r *Request) (any, error) {
	var in startQueryInput
	if err := decodeAthena(r, &in); err != nil {
		return nil, err
	}
	st := s.athena()
	if st.startLimit != nil && !st.startLimit.AllowN(s.budgetTime(r.Now), 1) {
		return nil, athenaThrottled()
	}
	ar := st.region(r.Region, r.Now)
	if in.ClientRequestToken != "" {
		if len(in.ClientRequestToken) < 32 || len(in.ClientRequestToken) > 128 {
			return nil, athenaInvalid("ClientRequestToken must be 32 to 128 characters long")
		}
		if id, ok := ar.tokens[in.ClientRequestToken]; ok {
			if q := ar.queries[id]; q != nil && q.sql == in.QueryString {
				r.ResponseElements = map[string]any{"queryExecutionId": id}
				return map[string]string{"QueryExecutionId": id}, nil
			}
			return nil, Errorf(400, "InvalidRequestException", "Idempotent parameters do not match")
		}
	}
	if len(in.QueryString) == 0 || len(in.QueryString) > 262144 {
		return nil, athenaInvalid("QueryString must be 1 to 262144 characters long")
	}
	wg := in.WorkGroup
	if wg == "" {
		wg = "primary"
	}
	if wg != "primary" {
		return nil, athenaInvalid("WorkGroup %s is not found.", wg)
	}
	q := &athenaQuery{id: s.ids.uuid(), sql: in.QueryString, db: "default", catalog: athenaCatalog, workgroup: wg,
		state: "QUEUED", submitted: r.Now}
	if c := in.QueryExecutionContext; c != nil {
		if c.Database != "" {
			q.db = strings.ToLower(c.Database)
		}
		if c.Catalog != "" && !strings.EqualFold(c.Catalog, athenaCatalog) {
			return nil, athenaInvalid("Catalog %s does not exist", c.Catalog)
		}
	}
	if in.ResultConfiguration != nil {
		q.output = in.ResultConfiguration.OutputLocation
	}
	if q.output == "" {
		return nil, athenaInvalid("No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.")
	}
	if !strings.HasPrefix(q.output, "s3://") {
		return nil, athenaInvalid("outputLocation must be an s3:// URI")
	}
	ar.queries[q.id] = q
	ar.order = append(ar.order, q.id)
	if in.ClientRequestToken != "" {
		ar.tokens[in.ClientRequestToken] = q.id
	}
	ctx, cancel := context.WithCancel(context.Background())
	q.cancel = cancel
	region := r.Region
	go s.athenaRun(ctx, region, q)
	r.ResponseElements = map[string]any{"queryExecutionId": q.id}
	return map[string]string{"QueryExecutionId": q.id}, nil
}

// athenaRun executes q in the background: DDL against the catalog under
// the sim's lock, SELECT on the engine with the lock released.
func (s *Sim) athenaRun(ctx context.Context, region string, q *athenaQuery) {
	defer q.cancel()
	began := time.Now()
	finish := func(state, errType, reason string) {
		q.state, q.errType, q.reason = state, errType, reason
		q.engineMs = time.Since(began).Milliseconds()
		q.completed = q.submitted.Add(time.Since(began))
	}
	stmt, perr := athenasql.Parse(q.sql)
	s.mu.Lock()
	if q.state != "QUEUED" { // stopped before it ran
		s.mu.Unlock()
		return
	}
	q.state = "RUNNING"
	st := s.athena()
	ar := st.region(region, q.submitted)
	if perr != nil {
		q.stmtType = "DML"
		finish("FAILED", errTypeOf(perr), perr.Error())
		s.mu.Unlock()
		return
	}
	sel, isQuery := stmt.(*athenasql.Query)
	if !isQuery {
		q.stmtType = "DDL"
		if err := s.athenaDDLLocked(ar, q, stmt); err != nil {
			finish("FAILED", errTypeOf(err), err.Error())
		} else {
			finish("SUCCEEDED", "", "")
		}
		s.mu.Unlock()
		return
	}
	q.stmtType = "DML"
	bucket, _, _ := strings.Cut(strings.TrimPrefix(q.output, "s3://"), "/")
	if bucket != s.trail.bucket {
		finish("FAILED", "GENERIC_USER_ERROR", "Unable to verify/create output bucket "+bucket)
		s.mu.Unlock()
		return
	}
	if _, ok := ar.dbs[q.db]; !ok {
		finish("FAILED", "SCHEMA_NOT_FOUND", fmt.Sprintf("SCHEMA_NOT_FOUND: line 1:1: Schema '%s' does not exist", q.db))
		s.mu.Unlock()
		return
	}
	if st.engine == nil {
		e, err := athenasql.New()
		if err != nil {
			finish("FAILED", "GENERIC_INTERNAL_ERROR", "GENERIC_INTERNAL_ERROR: "+err.Error())
			s.mu.Unlock()
			return
		}
		st.engine = e
	}
	engine := st.engine
	now := s.clock.Now().UTC()
	s.deliverLocked(now)
	objects := make([]athenasql.Object, 0, len(s.trail.objects))
	for _, o := range s.trail.objects {
		objects = append(objects, athenasql.Object{Bucket: s.trail.bucket, Key: o.Key, Body: o.Body, ETag: o.ETag})
	}
	tables := map[string]*athenasql.Table{}
	for dn, d := range ar.dbs {
		for tn, t := range d.tables {
			tables[dn+"."+tn] = t.def
		}
	}
	s.mu.Unlock()

	lookup := func(db, name string) (*athenasql.Table, bool) {
		if db == "" {
			db = q.db
		}
		t, ok := tables[db+"."+name]
		return t, ok
	}
	res, err := engine.Run(ctx, sel, q.db, lookup, objects, now)

	s.mu.Lock()
	defer s.mu.Unlock()
	if q.state != "RUNNING" { // stopped meanwhile
		return
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			finish("CANCELLED", "", "Query was cancelled by user")
			return
		}
		finish("FAILED", errTypeOf(err), err.Error())
		return
	}
	q.result, q.scanned = res, res.Scanned
	s.athenaWriteCSVLocked(q)
	finish("SUCCEEDED", "", "")
}

// errTypeOf is the Athena error type of a failure.
func errTypeOf(err error) string {
	var ae *athenasql.Error
	if errors.As(err, &ae) {
		return ae.Type
	}
	return "GENERIC_INTERNAL_ERROR"
}

// athenaWriteCSVLocked writes the result as Athena does: every value
// quoted, NULL as an empty field, at OutputLocation/QueryExecutionId.csv.
func (s *Sim) athenaWriteCSVLocked(q *athenaQuery) {
	var b bytes.Buffer
	line := func(vals []*string) {
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			if v != nil {
				b.WriteString(`"` + strings.ReplaceAll(*v, `"`, `""`) + `"`)
			}
		}
		b.WriteByte('\n')
	}
	hdr := make([]*string, len(q.result.Columns))
	for i := range q.result.Columns {
		hdr[i] = &q.result.Columns[i].Name
	}
	line(hdr)
	for _, row := range q.result.Rows {
		line(row)
	}
	_, prefix, _ := strings.Cut(strings.TrimPrefix(q.output, "s3://"), "/")
	key := q.id + ".csv"
	if prefix = strings.TrimSuffix(prefix, "/"); prefix != "" {
		key = prefix + "/" + key
	}
	body := b.Bytes()
	s.trail.objects[key] = &s3Object{Key: key, Body: body, Modified: q.submitted.UTC().Truncate(time.Second), ETag: etagOf(body), ContentType: "text/csv"}
}

// athenaDDLLocked applies a DDL statement to the catalog.
func (s *Sim) athenaDDLLocked(ar *athenaRegion, q *athenaQuery, stmt any) error {
	dbOf := func(name string) string {
		if name == "" {
			return q.db
		}
		return name
	}
	switch d := stmt.(type) {
	case *athenasql.CreateDatabase:
		if _, ok := ar.dbs[d.Name]; ok {
			if d.IfNotExists {
				return nil
			}
			return &athenasql.Error{Type: "ALREADY_EXISTS", Msg: fmt.Sprintf("Database %s already exists", d.Name)}
		}
		ar.dbs[d.Name] = &athenaDB{name: d.Name, comment: d.Comment, created: q.submitted, tables: map[string]*athenaTable{}}
	case *athenasql.DropDatabase:
		db, ok := ar.dbs[d.Name]
		if !ok {
			if d.IfExists {
				return nil
			}
			return &athenasql.Error{Type: "SCHEMA_NOT_FOUND", Msg: fmt.Sprintf("Database %s not found", d.Name)}
		}
		if len(db.tables) > 0 && !d.Cascade {
			return &athenasql.Error{Type: "GENERIC_USER_ERROR", Msg: fmt.Sprintf("Database %s is not empty. One or more tables exist.", d.Name)}
		}
		delete(ar.dbs, d.Name)
	case *athenasql.CreateTable:
		dn := dbOf(d.Table.Database)
		db, ok := ar.dbs[dn]
		if !ok {
			return &athenasql.Error{Type: "SCHEMA_NOT_FOUND", Msg: fmt.Sprintf("Database %s not found", dn)}
		}
		if _, ok := db.tables[d.Table.Name]; ok {
			if d.IfNotExists {
				return nil
			}
			return &athenasql.Error{Type: "ALREADY_EXISTS", Msg: fmt.Sprintf("Table %s.%s already exists", dn, d.Table.Name)}
		}
		d.Table.Database = dn
		db.tables[d.Table.Name] = &athenaTable{def: d.Table, created: q.submitted}
	case *athenasql.DropTable:
		dn := dbOf(d.Database)
		db, ok := ar.dbs[dn]
		if !ok || db.tables[d.Name] == nil {
			if d.IfExists {
				return nil
			}
			return &athenasql.Error{Type: "TABLE_NOT_FOUND", Msg: fmt.Sprintf("Table %s.%s does not exist", dn, d.Name)}
		}
		delete(db.tables, d.Name)
		if st := s.athena(); st.engine != nil {
			go st.engine.Forget(dn, d.Name)
		}
	case *athenasql.AddPartitions:
		dn := dbOf(d.Database)
		db, ok := ar.dbs[dn]
		if !ok || db.tables[d.Name] == nil {
			return &athenasql.Error{Type: "TABLE_NOT_FOUND", Msg: fmt.Sprintf("Table %s.%s does not exist", dn, d.Name)}
		}
		old := db.tables[d.Name].def
		nt := *old
		nt.Partitions = append([]athenasql.Partition{}, old.Partitions...)
		for _, p := range d.Partitions {
			if len(p.Values) != len(old.PartitionKeys) {
				return &athenasql.Error{Type: "GENERIC_USER_ERROR", Msg: "Partition spec does not name every partition key"}
			}
			dup := false
			for _, e := range nt.Partitions {
				same := true
				for k, v := range p.Values {
					same = same && e.Values[k] == v
				}
				dup = dup || same
			}
			if dup {
				if d.IfNotExists {
					continue
				}
				return &athenasql.Error{Type: "ALREADY_EXISTS", Msg: "Partition already exists."}
			}
			nt.Partitions = append(nt.Partitions, p)
		}
		db.tables[d.Name].def = &nt
	default:
		return &athenasql.Error{Type: "NOT_SUPPORTED", Msg: "statement not supported by the drill"}
	}
	return nil
}

type queryIDInput struct {
	QueryExecutionId string
	NextToken        string
	MaxResults       *int
}

func (s *Sim) athenaQueryOf(r *Request, id string) (*athenaQuery, error) {
	if !athenaIDRe.MatchString(id) {
		return nil, athenaInvalid("QueryExecution %s was not found", id)
	}
	q := s.athena().region(r.Region, r.Now).queries[id]
	if q == nil {
		return nil, athenaInvalid("QueryExecution %s was not found", id)
	}
	return q, nil
}

func epoch(t time.Time) float64 { return float64(t.UnixNano()/int64(time.Millisecond)) / 1000 }

func (q *athenaQuery) view() map[string]any {
	status := map[string]any{"State": q.state, "SubmissionDateTime": epoch(q.submitted)}
	if !q.completed.IsZero() {
		status["CompletionDateTime"] = epoch(q.completed)
	}
	if q.reason != "" {
		status["StateChangeReason"] = q.reason
	}
	if q.state == "FAILED" {
		cat, typ := 2, 1000 // user errors: the query's own
		if q.errType == "GENERIC_INTERNAL_ERROR" {
			cat, typ = 1, 401
		}
		status["AthenaError"] = map[string]any{"ErrorCategory": cat, "ErrorType": typ, "Retryable": false, "ErrorMessage": q.reason}
	}
	total := int64(0)
	if !q.completed.IsZero() {
		total = q.completed.Sub(q.submitted).Milliseconds()
	}
	stats := map[string]any{"EngineExecutionTimeInMillis": q.engineMs, "DataScannedInBytes": q.scanned,
		"TotalExecutionTimeInMillis": total, "QueryQueueTimeInMillis": 0, "ServicePreProcessingTimeInMillis": 0,
		"QueryPlanningTimeInMillis": 0, "ServiceProcessingTimeInMillis": 0,
		"ResultReuseInformation": map[string]any{"ReusedPreviousResult": false}}
	out := map[string]any{"QueryExecutionId": q.id, "Query": q.sql, "Status": status, "Statistics": stats,
		"WorkGroup": q.workgroup, "QueryExecutionContext": map[string]any{"Database": q.db, "Catalog": strings.ToLower(athenaCatalog)},
		"ResultConfiguration":      map[string]any{"OutputLocation": strings.TrimSuffix(q.output, "/") + "/" + q.id + ".csv"},
		"ResultReuseConfiguration": map[string]any{"ResultReuseByAgeConfiguration": map[string]any{"Enabled": false}},
		"EngineVersion":            map[string]any{"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}}
	if q.stmtType != "" {
		out["StatementType"] = q.stmtType
	}
	return out
}

func (s *Sim) athenaGetExecution(r *Request) (any, error) {
	var in queryIDInput
	if err := decodeAthena(r, &in); err != nil {
		return nil, err
	}
	q, err := s.athenaQueryOf(r, in.QueryExecutionId)
	if err != nil {
		return nil, err
	}
	return map[string]any{"QueryExecution": q.view()}, nil
}

func (s *Sim) athenaStop(r *Request) (any, error) {
	var in queryIDInput
	if err := decodeAthena(r, &in); err != nil {
		return nil, err
	}
	q, err := s.athenaQueryOf(r, in.QueryExecutionId)
	if err != nil {
		return nil, err
	}
	if q.state == "QUEUED" || q.state == "RUNNING" {
		q.state, q.reason = "CANCELLED", "Query was cancelled by user"
		q.completed = r.Now
		q.cancel()
	}
	return struct{}{}, nil
}

func (s *Sim) athenaListExecutions(r *Request) (any, error) {
	var in struct {
		NextToken  string
		MaxResults *int
		WorkGroup  string
	}
	if err := decodeAthena(r, &in); err != nil {
		return nil, err
	}
	ar := s.athena().region(r.Region, r.Now)
	ids := make([]string, 0, len(ar.order))
	for i := len(ar.order) - 1; i >= 0; i-- {
		ids = append(ids, ar.order[i])
	}
	start, max, err := athenaPage(in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	end := min(len(ids), start+max)
	if start > len(ids) {
		start = len(ids)
	}
	out["QueryExecutionIds"] = ids[start:end]
	if end < len(ids) {
		out["NextToken"] = athenaToken(end)
	}
	return out, nil
}

// athenaPage reads a NextToken and MaxResults (1…limit).
func athenaPage(token string, maxResults *int, limit int) (start, max int, err error) {
	max = limit
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > limit {
			return 0, 0, athenaInvalid("MaxResults must be between 1 and %d", limit)
		}
		max = *maxResults
	}
	if token != "" {
		b, derr := base64.RawURLEncoding.DecodeString(token)
		n, perr := strconv.Atoi(strings.TrimPrefix(string(b), "athena:"))
		if derr != nil || perr != nil || !strings.HasPrefix(string(b), "athena:") || n < 0 {
			return 0, 0, athenaInvalid("The NextToken is not valid")
		}
		start = n
	}
	return start, max, nil
}

func athenaToken(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("athena:" + strconv.Itoa(n)))
}

func (s *Sim) athenaGetResults(r *Request) (any, error) {
	var in queryIDInput
	if err := decodeAthena(r, &in); err != nil {
		return nil, err
	}
	q, err := s.athenaQueryOf(r, in.QueryExecutionId)
	if err != nil {
		return nil, err
	}
	switch q.state {
	case "QUEUED", "RUNNING":
		return nil, athenaInvalid("Query has not yet finished. Current state: %s", q.state)
	case "FAILED", "CANCELLED":
		return nil, athenaInvalid("Query did not finish successfully. Final query state: %s", q.state)
	}
	start, max, err := athenaPage(in.NextToken, in.MaxResults, 1000)
	if err != nil {
		return nil, err
	}
	type datum struct {
		VarCharValue *string `json:",omitempty"`
	}
	type row struct {
		Data []datum
	}
	var cols []map[string]any
	var all int
	rows := []row{}
	if q.result != nil {
		for _, c := range q.result.Columns {
			t := c.Type.Trino()
			ci := map[string]any{"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": c.Name, "Label": c.Name,
				"Type": t, "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": t == "varchar"}
			switch t {
			case "varchar":
				ci["Precision"] = 2147483647
			case "bigint":
				ci["Precision"] = 19
			case "integer":
				ci["Precision"] = 10
			case "double":
				ci["Precision"] = 17
			case "boolean":
				ci["Precision"] = 0
			case "timestamp with time zone", "timestamp":
				ci["Precision"] = 3
			}
			cols = append(cols, ci)
		}
		// the header row is row 0 of a SELECT's results
		all = len(q.result.Rows) + 1
		for i := start; i < all && len(rows) < max; i++ {
			if i == 0 {
				hdr := row{}
				for _, c := range q.result.Columns {
					n := c.Name
					hdr.Data = append(hdr.Data, datum{&n})
				}
				rows = append(rows, hdr)
				continue
			}
			rr := row{Data: make([]datum, len(q.result.Rows[i-1]))}
			for k, v := range q.result.Rows[i-1] {
				rr.Data[k] = datum{v}
			}
			rows = append(rows, rr)
		}
	}
	if cols == nil {
		cols = []map[string]any{}
	}
	out := map[string]any{"UpdateCount": 0, "ResultSet": map[string]any{"Rows": rows, "ResultSetMetadata": map[string]any{"ColumnInfo": cols}}}
	if start+len(rows) < all {
		out["NextToken"] = athenaToken(start + len(rows))
	}
	return out, nil
}

type catalogInput struct {
	CatalogName  string
	DatabaseName string
	TableName    string
	Expression   string
	NextToken    string
	MaxResults   *int
	WorkGroup    string
	Name         string
}

func (s *Sim) athenaCatalogOf(r *Request, in *catalogInput) (*athenaRegion, error) {
	if err := decodeAthena(r, in); err != nil {
		return nil, err
	}
	if !strings.EqualFold(in.CatalogName, athenaCatalog) {
		return nil, Errorf(400, "MetadataException", "Catalog %s does not exist", in.CatalogName)
	}
	return s.athena().region(r.Region, r.Now), nil
}

func tableMetadata(t *athenaTable) map[string]any {
	cols := func(fs []athenasql.Field) []map[string]any {
		out := []map[string]any{}
		for _, f := range fs {
			c := map[string]any{"Name": strings.ToLower(f.Name), "Type": f.Type.Hive()}
			if f.Comment != "" {
				c["Comment"] = f.Comment
			}
			out = append(out, c)
		}
		return out
	}
	params := map[string]string{"EXTERNAL": "TRUE", "inputformat": t.def.InputFormat, "outputformat": t.def.OutputFormat,
		"location": t.def.Location, "serde.serialization.lib": t.def.SerDe}
	for k, v := range t.def.Properties {
		params[k] = v
	}
	if t.def.Comment != "" {
		params["comment"] = t.def.Comment
	}
	return map[string]any{"Name": t.def.Name, "CreateTime": epoch(t.created), "LastAccessTime": epoch(t.created), "TableType": "EXTERNAL_TABLE",
		"Columns": cols(t.def.Columns), "PartitionKeys": cols(t.def.PartitionKeys), "Parameters": params}
}

func (s *Sim) athenaGetTable(r *Request) (any, error) {
	var in catalogInput
	ar, err := s.athenaCatalogOf(r, &in)
	if err != nil {
		return nil, err
	}
	db := ar.dbs[strings.ToLower(in.DatabaseName)]
	if db == nil {
		return nil, Errorf(400, "MetadataException", "Database %s not found.", in.DatabaseName)
	}
	t := db.tables[strings.ToLower(in.TableName)]
	if t == nil {
		return nil, Errorf(400, "MetadataException", "Table %s not found.", in.TableName)
	}
	return map[string]any{"TableMetadata": tableMetadata(t)}, nil
}

func (s *Sim) athenaListTables(r *Request) (any, error) {
	var in catalogInput
	ar, err := s.athenaCatalogOf(r, &in)
	if err != nil {
		return nil, err
	}
	db := ar.dbs[strings.ToLower(in.DatabaseName)]
	if db == nil {
		return nil, Errorf(400, "MetadataException", "Database %s not found.", in.DatabaseName)
	}
	start, max, err := athenaPage(in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(db.tables))
	for n := range db.tables {
		if in.Expression != "" {
			if ok, _ := regexp.MatchString("^(?:"+strings.ReplaceAll(in.Expression, "*", ".*")+")$", n); !ok {
				continue
			}
		}
		names = append(names, n)
	}
	sort.Strings(names)
	list := []map[string]any{}
	for i := start; i < len(names) && len(list) < max; i++ {
		list = append(list, tableMetadata(db.tables[names[i]]))
	}
	out := map[string]any{"TableMetadataList": list}
	if start+len(list) < len(names) {
		out["NextToken"] = athenaToken(start + len(list))
	}
	return out, nil
}

func (s *Sim) athenaGetDatabase(r *Request) (any, error) {
	var in catalogInput
	ar, err := s.athenaCatalogOf(r, &in)
	if err != nil {
		return nil, err
	}
	db := ar.dbs[strings.ToLower(in.DatabaseName)]
	if db == nil {
		return nil, Errorf(400, "MetadataException", "Database %s not found.", in.DatabaseName)
	}
	return map[string]any{"Database": map[string]any{"Name": db.name, "Description": db.comment, "Parameters": map[string]string{}}}, nil
}

func (s *Sim) athenaListDatabases(r *Request) (any, error) {
	var in catalogInput
	ar, err := s.athenaCatalogOf(r, &in)
	if err != nil {
		return nil, err
	}
	start, max, err := athenaPage(in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ar.dbs))
	for n := range ar.dbs {
		names = append(names, n)
	}
	sort.Strings(names)
	list := []map[string]any{}
	for i := start; i < len(names) && len(list) < max; i++ {
		db := ar.dbs[names[i]]
		list = append(list, map[string]any{"Name": db.name, "Description": db.comment, "Parameters": map[string]string{}})
	}
	out := map[string]any{"DatabaseList": list}
	if start+len(list) < len(names) {
		out["NextToken"] = athenaToken(start + len(list))
	}
	return out, nil
}

func (s *Sim) athenaGetWorkGroup(r *Request) (any, error) {
	var in struct{ WorkGroup string }
	if err := decodeAthena(r, &in); err != nil {
		return nil, err
	}
	if in.WorkGroup != "primary" {
		return nil, athenaInvalid("WorkGroup %s is not found.", in.WorkGroup)
	}
	return map[string]any{"WorkGroup": map[string]any{"Name": "primary", "State": "ENABLED", "Description": "",
		"CreationTime": epoch(s.trail.created),
		"Configuration": map[string]any{"ResultConfiguration": map[string]any{}, "EnforceWorkGroupConfiguration": false,
			"PublishCloudWatchMetricsEnabled": false, "RequesterPaysEnabled": false,
			"EngineVersion": map[string]any{"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}}}}, nil
}

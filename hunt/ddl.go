package hunt

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// TableSpec is what the organisation trail's table is made from.
type TableSpec struct {
	Table    Table
	Bucket   string    // the trail's S3 bucket
	Prefix   string    // the trail's key prefix, if any (without slashes at its ends)
	OrgID    string    // o-…
	Accounts []string  // the account partition's values (projection.account.values)
	Regions  []string  // the region partition's values
	From     time.Time // the first day of the date partition's range
}

var (
	bucketRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	prefixRE  = regexp.MustCompile(`^[A-Za-z0-9!_.*()/-]*$`)
	orgRE     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// Check reports what would make the DDL wrong, naming the value.
func (s TableSpec) Check() error {
	if err := s.Table.Check(); err != nil {
		return err
	}
	switch {
	case !bucketRE.MatchString(s.Bucket):
		return fmt.Errorf("bucket %q is not an S3 bucket name", s.Bucket)
	case !prefixRE.MatchString(s.Prefix) || strings.Contains(s.Prefix, "//"):
		return fmt.Errorf("prefix %q: only letters, digits and !_.*()/- in an S3 key prefix here", s.Prefix)
	case !orgRE.MatchString(s.OrgID):
		return fmt.Errorf("organisation id %q: want o- and 10 to 32 lower-case letters or digits", s.OrgID)
	case len(s.Accounts) == 0:
		return fmt.Errorf("no accounts for the account partition (--accounts, or --org to list them)")
	case len(s.Regions) == 0:
		return fmt.Errorf("no Regions for the region partition")
	}
	for _, a := range s.Accounts {
		if !accountRE.MatchString(a) {
			return fmt.Errorf("account %q is not a 12-digit account id", a)
		}
	}
	for _, r := range s.Regions {
		if !regionRE.MatchString(r) {
			return fmt.Errorf("region %q is not a Region name", r)
		}
	}
	return nil
}

// location is the organisation's folder in the bucket.
func (s TableSpec) location() string {
	p := strings.Trim(s.Prefix, "/")
	if p != "" {
		p += "/"
	}
	return "s3://" + s.Bucket + "/" + p + "AWSLogs/" + s.OrgID + "/"
}

// CreateDatabase is the statement that makes the table's database.
func CreateDatabase(t Table) (string, error) {
	if err := t.Check(); err != nil {
		return "", err
	}
	return "CREATE DATABASE IF NOT EXISTS `" + t.Database + "`", nil
}

// CreateTable is the CREATE EXTERNAL TABLE of AWS's "Querying AWS
// CloudTrail logs" (the table for CloudTrail logs with partition
// projection), in its organisation form: LOCATION is the organisation's
// folder, and the partitions are account (an enum of the accounts),
// region (an enum of the Regions) and "timestamp" (a date, yyyy/MM/dd,
// from From to NOW), projected onto
// AWSLogs/o-…/${account}/CloudTrail/${region}/${timestamp}.
func CreateTable(s TableSpec) (string, error) {
	if err := s.Check(); err != nil {
		return "", err
	}
	loc := s.location()
	from := s.From.UTC().Format(dayFormat)
	if s.From.IsZero() {
		from = "2020/01/01"
	}
	var b strings.Builder
	b.WriteString("CREATE EXTERNAL TABLE `" + s.Table.Database + "`.`" + s.Table.Name + "`(\n")
	b.WriteString(tableColumns)
	b.WriteString(`PARTITIONED BY (
  ` + "`account`" + ` string,
  ` + "`region`" + ` string,
  ` + "`timestamp`" + ` string)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '` + loc + `'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.account.type'='enum',
  'projection.account.values'='` + strings.Join(s.Accounts, ",") + `',
  'projection.region.type'='enum',
  'projection.region.values'='` + strings.Join(s.Regions, ",") + `',
  'projection.timestamp.type'='date',
  'projection.timestamp.format'='yyyy/MM/dd',
  'projection.timestamp.interval'='1',
  'projection.timestamp.interval.unit'='DAYS',
  'projection.timestamp.range'='` + from + `,NOW',
  'storage.location.template'='` + loc + `${account}/CloudTrail/${region}/${timestamp}')`)
	return b.String(), nil
}

// tableColumns are the table's columns as AWS's documentation gives them.
const tableColumns = `  eventversion STRING,
  useridentity STRUCT<
    type: STRING,
    principalid: STRING,
    arn: STRING,
    accountid: STRING,
    invokedby: STRING,
    accesskeyid: STRING,
    username: STRING,
    onbehalfof: STRUCT<
      userid: STRING,
      identitystorearn: STRING>,
    sessioncontext: STRUCT<
      attributes: STRUCT<
        mfaauthenticated: STRING,
        creationdate: STRING>,
      sessionissuer: STRUCT<
        type: STRING,
        principalid: STRING,
        arn: STRING,
        accountid: STRING,
        username: STRING>,
      ec2roledelivery: STRING,
      webidfederationdata: STRUCT<
        federatedprovider: STRING,
        attributes: map<string,string>>>>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  readonly STRING,
  resources ARRAY<STRUCT<
    arn: STRING,
    accountid: STRING,
    type: STRING>>,
  eventtype STRING,
  apiversion STRING,
  recipientaccountid STRING,
  serviceeventdetails STRING,
  sharedeventid STRING,
  vpcendpointid STRING,
  vpcendpointaccountid STRING,
  eventcategory STRING,
  addendum STRUCT<
    reason: STRING,
    updatedfields: STRING,
    originalrequestid: STRING,
    originaleventid: STRING>,
  sessioncredentialfromconsole STRING,
  edgedevicedetails STRING,
  tlsdetails STRUCT<
    tlsversion: STRING,
    ciphersuite: STRING,
    clientprovidedhostheader: STRING>)
`

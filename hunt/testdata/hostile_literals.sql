-- filter: user:"o'brien" agent:"50%_\\'x" "a'b*c"
-- partitions: accounts every account; Regions every Region; days every day
SELECT
  eventversion,
  useridentity.type,
  useridentity.principalid,
  useridentity.arn,
  useridentity.accountid,
  useridentity.invokedby,
  useridentity.accesskeyid,
  useridentity.username,
  useridentity.onbehalfof.userid,
  useridentity.onbehalfof.identitystorearn,
  useridentity.sessioncontext.attributes.mfaauthenticated,
  useridentity.sessioncontext.attributes.creationdate,
  useridentity.sessioncontext.sessionissuer.type,
  useridentity.sessioncontext.sessionissuer.principalid,
  useridentity.sessioncontext.sessionissuer.arn,
  useridentity.sessioncontext.sessionissuer.accountid,
  useridentity.sessioncontext.sessionissuer.username,
  useridentity.sessioncontext.ec2roledelivery,
  eventtime,
  eventsource,
  eventname,
  awsregion,
  sourceipaddress,
  useragent,
  errorcode,
  errormessage,
  requestparameters,
  responseelements,
  additionaleventdata,
  requestid,
  eventid,
  readonly,
  json_format(CAST(resources AS JSON)),
  eventtype,
  apiversion,
  recipientaccountid,
  serviceeventdetails,
  sharedeventid,
  vpcendpointid,
  vpcendpointaccountid,
  eventcategory,
  addendum.reason,
  addendum.updatedfields,
  addendum.originalrequestid,
  addendum.originaleventid,
  sessioncredentialfromconsole,
  tlsdetails.tlsversion,
  tlsdetails.ciphersuite,
  tlsdetails.clientprovidedhostheader
FROM "warroom"."cloudtrail_org"
WHERE (CASE WHEN coalesce(useridentity.username, '') <> '' THEN lower(coalesce(useridentity.username, '')) = 'o''brien' WHEN coalesce(useridentity.sessioncontext.sessionissuer.username, '') <> '' THEN lower(coalesce(useridentity.sessioncontext.sessionissuer.username, '')) = 'o''brien' WHEN strpos(lower(coalesce(useridentity.arn, '')), '/') > 0 THEN (regexp_like(lower(coalesce(useridentity.arn, '')), '/o''brien$') AND NOT regexp_like(lower(coalesce(useridentity.arn, '')), '/$')) WHEN strpos(lower(coalesce(useridentity.arn, '')), ':') > 0 THEN (regexp_like(lower(coalesce(useridentity.arn, '')), ':o''brien$') AND NOT regexp_like(lower(coalesce(useridentity.arn, '')), ':$')) ELSE false END)
  AND (coalesce(useragent, '') <> '' AND lower(coalesce(useragent, '')) LIKE '%50\%\_\\''x%' ESCAPE '\')
  AND ((coalesce(eventname, '') <> '' AND lower(coalesce(eventname, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(eventsource, '') <> '' AND lower(coalesce(eventsource, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(awsregion, '') <> '' AND lower(coalesce(awsregion, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(useridentity.arn, '') <> '' AND lower(coalesce(useridentity.arn, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (CASE WHEN coalesce(useridentity.username, '') <> '' THEN (coalesce(useridentity.username, '') <> '' AND lower(coalesce(useridentity.username, '')) LIKE '%a''b%c%' ESCAPE '\') WHEN coalesce(useridentity.sessioncontext.sessionissuer.username, '') <> '' THEN (coalesce(useridentity.sessioncontext.sessionissuer.username, '') <> '' AND lower(coalesce(useridentity.sessioncontext.sessionissuer.username, '')) LIKE '%a''b%c%' ESCAPE '\') WHEN strpos(lower(coalesce(useridentity.arn, '')), '/') > 0 THEN (regexp_like(lower(coalesce(useridentity.arn, '')), '/[^/]*a''b[^/]*c[^/]*$') AND NOT regexp_like(lower(coalesce(useridentity.arn, '')), '/$')) WHEN strpos(lower(coalesce(useridentity.arn, '')), ':') > 0 THEN (regexp_like(lower(coalesce(useridentity.arn, '')), ':[^:]*a''b[^:]*c[^:]*$') AND NOT regexp_like(lower(coalesce(useridentity.arn, '')), ':$')) ELSE false END)
    OR (coalesce(useridentity.type, '') <> '' AND lower(coalesce(useridentity.type, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(useridentity.accesskeyid, '') <> '' AND lower(coalesce(useridentity.accesskeyid, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(sourceipaddress, '') <> '' AND lower(coalesce(sourceipaddress, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(useragent, '') <> '' AND lower(coalesce(useragent, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(errorcode, '') <> '' AND lower(coalesce(errorcode, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(errormessage, '') <> '' AND lower(coalesce(errormessage, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(recipientaccountid, '') <> '' AND lower(coalesce(recipientaccountid, '')) LIKE '%a''b%c%' ESCAPE '\'))
ORDER BY eventtime, eventid

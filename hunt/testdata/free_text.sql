-- filter: "carol smith" -alice
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
WHERE ((coalesce(eventname, '') <> '' AND lower(coalesce(eventname, '')) LIKE '%carol smith%' ESCAPE '\')
    OR (coalesce(eventsource, '') <> '' AND lower(coalesce(eventsource, '')) LIKE '%carol smith%' ESCAPE '\')
    OR (coalesce(awsregion, '') <> '' AND lower(coalesce(awsregion, '')) LIKE '%carol smith%' ESCAPE '\')
    OR (coalesce(useridentity.arn, '') <> '' AND lower(coalesce(useridentity.arn, '')) LIKE '%carol smith%' ESCAPE '\')
    OR (CASE WHEN coalesce(useridentity.username, '') <> '' THEN (coalesce(useridentity.username, '') <> '' AND lower(coalesce(useridentity.username, '')) LIKE '%carol smith%' ESCAPE '\') WHEN coalesce(useridentity.sessioncontext.sessionissuer.username, '') <> '' THEN (coalesce(useridentity.sessioncontext.sessionissuer.username, '') <> '' AND lower(coalesce(useridentity.sessioncontext.sessionissuer.username, '')) LIKE '%carol smith%' ESCAPE '\') WHEN strpos(lower(coalesce(useridentity.arn, '')), '/') > 0 THEN (regexp_like(lower(coalesce(useridentity.arn, '')), '/[^/]*carol smith[^/]*$') AND NOT regexp_like(lower(coalesce(useridentity.arn, '')), '/$')) WHEN strpos(lower(coalesce(useridentity.arn, '')), ':') > 0 THEN (regexp_like(lower(coalesce(useridentity.arn, '')), ':[^:]*carol smith[^:]*$') AND NOT regexp_like(lower(coalesce(useridentity.arn, '')), ':$')) ELSE false END)
    OR (coalesce(useridentity.type, '') <> '' AND lower(coalesce(useridentity.type, '')) LIKE '%carol smith%' ESCAPE '\')
    OR (coalesce(useridentity.accesskeyid, '') <> '' AND lower(coalesce(useridentity.accesskeyid, '')) LIKE '%carol smith%' ESCAPE '\')
    OR (coalesce(sourceipaddress, '') <> '' AND lower(coalesce(sourceipaddress, '')) LIKE '%carol smith%' ESCAPE '\')
    OR (coalesce(useragent, '') <> '' AND lower(coalesce(useragent, '')) LIKE '%carol smith%' ESCAPE '\')
    OR (coalesce(errorcode, '') <> '' AND lower(coalesce(errorcode, '')) LIKE '%carol smith%' ESCAPE '\')
    OR (coalesce(errormessage, '') <> '' AND lower(coalesce(errormessage, '')) LIKE '%carol smith%' ESCAPE '\')
    OR (coalesce(recipientaccountid, '') <> '' AND lower(coalesce(recipientaccountid, '')) LIKE '%carol smith%' ESCAPE '\'))
  AND NOT ((coalesce(eventname, '') <> '' AND lower(coalesce(eventname, '')) LIKE '%alice%' ESCAPE '\')
    OR (coalesce(eventsource, '') <> '' AND lower(coalesce(eventsource, '')) LIKE '%alice%' ESCAPE '\')
    OR (coalesce(awsregion, '') <> '' AND lower(coalesce(awsregion, '')) LIKE '%alice%' ESCAPE '\')
    OR (coalesce(useridentity.arn, '') <> '' AND lower(coalesce(useridentity.arn, '')) LIKE '%alice%' ESCAPE '\')
    OR (CASE WHEN coalesce(useridentity.username, '') <> '' THEN (coalesce(useridentity.username, '') <> '' AND lower(coalesce(useridentity.username, '')) LIKE '%alice%' ESCAPE '\') WHEN coalesce(useridentity.sessioncontext.sessionissuer.username, '') <> '' THEN (coalesce(useridentity.sessioncontext.sessionissuer.username, '') <> '' AND lower(coalesce(useridentity.sessioncontext.sessionissuer.username, '')) LIKE '%alice%' ESCAPE '\') WHEN strpos(lower(coalesce(useridentity.arn, '')), '/') > 0 THEN (regexp_like(lower(coalesce(useridentity.arn, '')), '/[^/]*alice[^/]*$') AND NOT regexp_like(lower(coalesce(useridentity.arn, '')), '/$')) WHEN strpos(lower(coalesce(useridentity.arn, '')), ':') > 0 THEN (regexp_like(lower(coalesce(useridentity.arn, '')), ':[^:]*alice[^:]*$') AND NOT regexp_like(lower(coalesce(useridentity.arn, '')), ':$')) ELSE false END)
    OR (coalesce(useridentity.type, '') <> '' AND lower(coalesce(useridentity.type, '')) LIKE '%alice%' ESCAPE '\')
    OR (coalesce(useridentity.accesskeyid, '') <> '' AND lower(coalesce(useridentity.accesskeyid, '')) LIKE '%alice%' ESCAPE '\')
    OR (coalesce(sourceipaddress, '') <> '' AND lower(coalesce(sourceipaddress, '')) LIKE '%alice%' ESCAPE '\')
    OR (coalesce(useragent, '') <> '' AND lower(coalesce(useragent, '')) LIKE '%alice%' ESCAPE '\')
    OR (coalesce(errorcode, '') <> '' AND lower(coalesce(errorcode, '')) LIKE '%alice%' ESCAPE '\')
    OR (coalesce(errormessage, '') <> '' AND lower(coalesce(errormessage, '')) LIKE '%alice%' ESCAPE '\')
    OR (coalesce(recipientaccountid, '') <> '' AND lower(coalesce(recipientaccountid, '')) LIKE '%alice%' ESCAPE '\'))
ORDER BY eventtime, eventid

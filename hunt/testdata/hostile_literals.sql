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
WHERE lower(coalesce(coalesce(nullif(useridentity.username, ''), nullif(useridentity.sessioncontext.sessionissuer.username, ''), CASE WHEN strpos(useridentity.arn, '/') > 0 THEN element_at(split(useridentity.arn, '/'), -1) WHEN strpos(useridentity.arn, ':') > 0 THEN element_at(split(useridentity.arn, ':'), -1) ELSE '' END), '')) = 'o''brien'
  AND (coalesce(useragent, '') <> '' AND lower(coalesce(useragent, '')) LIKE '%50\%\_\\''x%' ESCAPE '\')
  AND ((coalesce(eventname, '') <> '' AND lower(coalesce(eventname, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(eventsource, '') <> '' AND lower(coalesce(eventsource, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(awsregion, '') <> '' AND lower(coalesce(awsregion, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(useridentity.arn, '') <> '' AND lower(coalesce(useridentity.arn, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(coalesce(nullif(useridentity.username, ''), nullif(useridentity.sessioncontext.sessionissuer.username, ''), CASE WHEN strpos(useridentity.arn, '/') > 0 THEN element_at(split(useridentity.arn, '/'), -1) WHEN strpos(useridentity.arn, ':') > 0 THEN element_at(split(useridentity.arn, ':'), -1) ELSE '' END), '') <> '' AND lower(coalesce(coalesce(nullif(useridentity.username, ''), nullif(useridentity.sessioncontext.sessionissuer.username, ''), CASE WHEN strpos(useridentity.arn, '/') > 0 THEN element_at(split(useridentity.arn, '/'), -1) WHEN strpos(useridentity.arn, ':') > 0 THEN element_at(split(useridentity.arn, ':'), -1) ELSE '' END), '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(useridentity.type, '') <> '' AND lower(coalesce(useridentity.type, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(useridentity.accesskeyid, '') <> '' AND lower(coalesce(useridentity.accesskeyid, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(sourceipaddress, '') <> '' AND lower(coalesce(sourceipaddress, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(useragent, '') <> '' AND lower(coalesce(useragent, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(errorcode, '') <> '' AND lower(coalesce(errorcode, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(errormessage, '') <> '' AND lower(coalesce(errormessage, '')) LIKE '%a''b%c%' ESCAPE '\')
    OR (coalesce(recipientaccountid, '') <> '' AND lower(coalesce(recipientaccountid, '')) LIKE '%a''b%c%' ESCAPE '\'))
ORDER BY eventtime, eventid

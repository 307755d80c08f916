-- filter: account:111122223333,444455556666 region:eu-west-1 since:2026-11-18T10:00:00Z until:2026-11-19T23:30:00Z
-- partitions: accounts 111122223333,444455556666; Regions eu-west-1; days 2026/11/18 to 2026/11/20
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
WHERE account IN ('111122223333', '444455556666')
  AND region IN ('eu-west-1')
  AND "timestamp" BETWEEN '2026/11/18' AND '2026/11/20'
  AND (lower(coalesce(recipientaccountid, '')) = '111122223333' OR lower(coalesce(recipientaccountid, '')) = '444455556666')
  AND lower(coalesce(awsregion, '')) = 'eu-west-1'
  AND coalesce(nullif(eventtime, '') >= '2026-11-18T10:00:00Z', false)
  AND coalesce(nullif(eventtime, '') <= '2026-11-19T23:30:00Z', true)
ORDER BY eventtime, eventid

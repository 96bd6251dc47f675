"""Every patch orgmfa's emulator makes to moto 5.2.1, so that moto refuses what AWS refuses.

moto is pinned to exactly 5.2.1 (packages/emulator/src/moto.ts, MOTO_VERSION): these patches replace
moto's internals by name. `apply()` applies them all, once; moto_server.py (the server's entry) calls it
before the server starts, then adds the control endpoints (control.py). Where the emulator must differ
from AWS it is stricter, never looser: a deployment that passes here must not fail in AWS for a reason
moto let through. docs/aws-semantics.md says, per fact, what AWS does and what the emulator does.

Each entry: what moto does; what AWS does instead (and so the emulator); the source.

Authorisation (IAM policy enforcement)
--------------------------------------
1. Condition operators — iam_conditions.py
   moto: knew only StringEquals; evaluated identity policies with no request values, so a condition
   whose key is absent from the request passed; made an Allow whose condition fails an explicit deny.
   AWS: String*, Arn*, Bool, Numeric*, Null, …IfExists and ForAnyValue/ForAllValues; a key absent from
   the request matches no positive operator, every negated one and any …IfExists; Null tests presence;
   a statement whose condition does not hold does not apply. A statement whose operator is not
   evaluated here (Date*, IpAddress, Binary*) is decided by its effect, never guessed: an Allow does
   not apply and a Deny does, so the emulator is never more lenient than AWS.
   Source: IAM User Guide, "IAM JSON policy elements: Condition operators"
   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
   and "Policy evaluation logic"
   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
   (docs/aws-semantics.md §8).

2. NotResource and policy variables — iam_conditions.py
   moto: ignored NotResource (a Deny with NotResource even came out as "permitted") and policy
   variables (${aws:username}).
   AWS: NotResource matches every resource but those listed; ${…} in Resource/NotResource and in
   condition values takes the request's value (${*}, ${?}, ${$} stand for themselves), and a variable
   with no value makes that element match nothing.
   Source: IAM User Guide, "IAM JSON policy elements: NotResource"
   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html and
   "IAM policy elements: Variables and tags"
   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html

3. The request context — iam_conditions.py (keys), principals.py (who is calling)
   moto: no condition keys but sts:ExternalId.
   AWS: the global keys aws:PrincipalArn (a role session's is its role's ARN, with its path),
   aws:PrincipalAccount, aws:PrincipalOrgID (only for a member of an organization), aws:PrincipalType,
   aws:username (IAM users only), aws:RequestedRegion; aws:MultiFactorAuthPresent only for temporary
   credentials ("true" when AssumeRole was given SerialNumber and TokenCode, see 10; absent for
   long-term access keys); iam:PolicyARN on Attach/Detach…Policy; s3:prefix only when a listing has
   one; sts:ExternalId; for AssumeRole aws:ResourceAccount and aws:ResourceOrgID.
   Source: IAM User Guide, "AWS global condition context keys"
   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html ; the
   Service Authorization Reference for iam:PolicyARN and s3:prefix
   https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html

4. Resource ARNs of Security Hub, SNS, IAM and SQS requests — resources.py
   moto: authorised them against "*", so a policy scoped the way AWS expects (BatchImportFindings on
   the account's default product, GetFindings on its hub, Publish on the topic, AddUserToGroup on the
   quarantine group) was denied; an SQS request for a queue that does not exist was judged against "*"
   (and for a URL naming another account, against the caller's own queue of that name).
   AWS: each action is authorised against its resource type's ARN: the product or hub, the topic, the
   user, group, policy or virtual MFA device, the queue of the request's QueueUrl whether or not it
   exists (so a role allowed GetQueueAttributes on exactly that queue gets QueueDoesNotExist, not
   AccessDenied). A policy on "*" still matches, one on another account's resource does not.
   Source: Service Authorization Reference, "Actions, resources, and condition keys for" AWS Security
   Hub, Amazon SNS, IAM and Amazon SQS
   https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecurityhub.html
   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html
   https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html
   (docs/aws-semantics.md §12).

5. S3 CopyObject and UploadPartCopy read their source — s3.py
   moto: checked s3:PutObject on the destination only.
   AWS: also s3:GetObject on the source object. Stricter only.
   Source: Amazon S3 API Reference, CopyObject, "Permissions" ("you must have read access to the source
   object and write access to the destination bucket")
   https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html and UploadPartCopy
   https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html

6. S3 NoSuchBucket before authorisation — s3.py
   moto: judged the caller's policy first and said AccessDenied, so a mistyped --s3-bucket looked like
   a permissions problem.
   AWS: 404 NoSuchBucket for a bucket that does not exist, whoever asks; CreateBucket is still
   authorised.
   Source: the S3 API Reference defines NoSuchBucket ("The specified bucket does not exist", 404)
   https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html but does not say it precedes
   authorisation; that it does is how S3 is widely observed to answer (bucket names are global).
   Recorded as such in docs/aws-semantics.md §11.

7. Same-account AssumeRole trust principals — sts.py
   moto (when it judges AssumeRole itself, not through the gateway): compared the trust policy's
   principal to the caller's session ARN string by string, so "arn:aws:iam::<account>:root" or the
   role's own ARN never matched.
   AWS: the account principal (or its bare id) stands for every principal of the account that its
   identity policy lets in, and a role's ARN for that role's sessions; the identity policy is still
   required.
   Source: IAM User Guide, "AWS JSON policy elements: Principal"
   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html

8. AssumeRole judged once — sts.py, iam_conditions.py
   Not an AWS behaviour: the gateway (src/gateway.ts) judges AssumeRole with a real policy engine on
   the TARGET account's trust policy (moto looked the role up in the caller's account, so it never
   evaluated another account's trust policy; IAM User Guide, "Cross-account policy evaluation logic"
   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
   Requests it has judged carry X-Orgmfa-Judged with a secret the gateway hands this process
   (ORGMFA_GATEWAY_SECRET); moto then checks only their signature, so two engines never judge one
   request.

9. The signature of an S3 listing with a prefix — s3.py
   moto: was handed the query decoded ("prefix=a/b") and checked the SigV4 signature the SDK computed
   on it encoded ("prefix=a%2Fb"): every listing with a prefix failed its signature.
   AWS: SigV4's canonical query string URI-encodes each name and value.
   Source: IAM User Guide, "Create a signed AWS API request"
   https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html

Identity and credentials
------------------------
10. The MFA context of a role session — sts.py
    moto: no aws:MultiFactorAuthPresent.
    AWS: present for temporary credentials, "true" when the session was created with MFA
    (AssumeRole with SerialNumber and TokenCode), "false" otherwise; absent for long-term keys.
    Source: IAM User Guide, "AWS global condition context keys", aws:MultiFactorAuthPresent
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-multifactorauthpresent
    (docs/aws-semantics.md §8).

11. The credential report is a snapshot, with the root row — credential_report.py
    moto: built the report when it was READ (always current), without a `<root_account>` row.
    AWS: the report is generated at most every four hours and read as generated; its first row is
    `<root_account>` (ARN arn:aws:iam::<account>:root, password_last_changed and
    password_next_rotation not_supported); GetCredentialReport before any generation is
    ReportNotPresent. The gateway asks for the snapshot when IAM would generate one (the control
    endpoint credential-report) and answers ReportInProgress and the report's date itself.
    Source: IAM User Guide, "Generate credential reports for your AWS account"
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html ; IAM API
    Reference, GetCredentialReport
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetCredentialReport.html
    (docs/aws-semantics.md §1).

12. FIDO security keys and passkeys are registered in the console only — iam_devices.py
    moto: EnableMFADevice enabled any serial, FIDO ones (arn:…:u2f/…) included.
    AWS: "You can enable a FIDO security key … from the AWS Management Console only, not from the AWS
    CLI or AWS API"; such a device emits no codes, so the API answers InvalidAuthenticationCode (403,
    IAM's error model). The control endpoint fido-device stands for the console registration.
    Source: IAM User Guide, enabling a passkey or security key (FIDO)
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_fido.html ; IAM API
    Reference, EnableMFADevice
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_EnableMFADevice.html
    (docs/aws-semantics.md §10).

13. IAM is an Organizations-integrated service — organizations.py
    moto: EnableAWSServiceAccess and RegisterDelegatedAdministrator refused iam.amazonaws.com.
    AWS: IAM takes trusted access and a delegated administrator (centralized root access).
    Source: IAM User Guide, "Centrally manage root access for member accounts"
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user-access-management
    (its prerequisite: trusted access for IAM in Organizations); Organizations User Guide, "AWS
    services that you can use with AWS Organizations"
    https://docs.aws.amazon.com/organizations/latest/userguide/orgs_integrate_services_list.html

Services
--------
14. Security Hub not enabled — securityhub.py
    moto: never checks whether Security Hub is enabled.
    AWS: in an account that never enabled it, GetFindings and BatchImportFindings answer
    InvalidAccessException ("… is not subscribed to AWS Security Hub"). The accounts are set through
    the control endpoint securityhub-disabled.
    Source: Security Hub API Reference, GetFindings and BatchImportFindings, "Errors"
    (InvalidAccessException) https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_GetFindings.html ;
    the message as AWS words it: prowler-cloud/prowler#1143.

15. CopyObject keeps a multipart object's checksum type — s3.py
    moto: copied the checksum value but not its type and part count, so the copy of a multipart
    (COMPOSITE) object answered its composite checksum as a whole-object one, which the SDK rejects on
    GetObject.
    AWS: an object's checksum, its type and part count stay consistent.
    Source: Amazon S3 User Guide, "Checking object integrity"
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html

16. CloudFormation: AWS::NoValue inside a list — cloudformation.py
    moto: left a null where an Fn::If (or Ref) gave AWS::NoValue inside a list (e.g. in a trust
    policy's aws:PrincipalArn values: the member template's Discover role where it is not trusted).
    AWS: the element is removed.
    Source: CloudFormation User Guide, "Pseudo parameters reference", AWS::NoValue
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html and
    "Fn::If" https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-conditions.html

17. CloudFormation: AWS::IAM::Group — cloudformation.py
    moto: does not support it (the member template's quarantine group).
    AWS: GroupName, Path, ManagedPolicyArns; Ref gives the name, GetAtt Arn the ARN.
    Source: CloudFormation template reference, AWS::IAM::Group
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-group.html

The emulator itself (no AWS behaviour)
--------------------------------------
18. Speed, same answers — speed.py
    moto listed its own package directory (a stat per service, ~180 per request) to route every
    request, and a responses class's methods (inspect.getmembers) for every call: a third of its time
    per call. Both are computed once. The server's line per request on stderr is left out unless
    ORGMFA_EMULATOR_LOG=1 (errors are still logged).

Also outside this package: the watchdog (moto_server.py: the server exits when the process that started
it is gone), the control endpoints (control.py), and what the gateway adds in front of moto
(src/gateway.ts: cross-account AssumeRole, GetAccountSummary's root state, ListOrganizationsFeatures,
the credential report's progress and date).
"""

from . import (
    cloudformation,
    credential_report,
    iam_conditions,
    iam_devices,
    organizations,
    resources,
    s3,
    securityhub,
    speed,
    sts,
)

# In the order of the list above; no two of them replace the same attribute of moto, and each module
# kept moto's original when it was imported, so the order does not change what they do.
_PATCHES = (
    iam_conditions,
    resources,
    s3,
    sts,
    credential_report,
    iam_devices,
    organizations,
    securityhub,
    cloudformation,
    speed,
)
_applied = False


def apply():
    """Applies every patch above to moto (once; later calls change nothing)."""
    global _applied
    if _applied:
        return
    _applied = True
    for patch in _PATCHES:
        patch.apply()

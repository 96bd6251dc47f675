"""moto's server, with what orgmfa's emulator needs that moto lacks.

- Security Hub, SNS Publish and IAM actions on one user, group, policy or virtual MFA device are
  authorised against their real resource ARNs. moto's IAM enforcement checks them against "*", so a
  policy scoped the way AWS expects (BatchImportFindings on the account's own default product,
  GetFindings on its own hub, Publish on the topic, AddUserToGroup on the quarantine group) would be
  denied. This makes enforcement stricter, never looser: a policy
  on "*" still matches, one scoped to another account's resource does not.
- SQS actions on a queue are authorised against the ARN of the request's QueueUrl (its account and
  name) whether or not the queue exists, as AWS does; moto used "*" for a queue that does not exist
  (and, for a URL naming another account, the caller's own queue of that name). So the enforcer role,
  allowed GetQueueAttributes on exactly the forwarding dead-letter queue, gets QueueDoesNotExist in
  an account without it, as in AWS, where moto said AccessDenied.
- The server exits when the process that started it is gone (re-parented), so an emulator can never
  outlive `orgmfa demo` or a test run, however they end (even SIGKILL) — from its first instant: the
  watchdog starts before moto is imported, knows its parent from ORGMFA_PARENT_PID, and on Linux asks
  the kernel for SIGKILL when the parent dies (PR_SET_PDEATHSIG).
- Identity policies are evaluated as IAM evaluates them (IAM User Guide, "Condition operators" and
  "Policy evaluation logic"): moto knew only StringEquals, passed a condition whose key is absent from
  the request, made an Allow whose condition fails an explicit deny, ignored NotResource (a Deny with
  NotResource even came out as "permitted") and policy variables. Here: String*, Arn*, Bool, Numeric*,
  Null, …IfExists and ForAnyValue/ForAllValues; a key absent from the request matches no positive
  operator, every negated one and any …IfExists; an operator not listed never matches; a statement
  whose condition fails does not apply; Resource/NotResource with ${aws:username} and the other
  request keys. The request has AWS's global keys (aws:PrincipalArn — a session's role ARN with its
  path —, aws:PrincipalAccount, aws:PrincipalOrgID for a member of an organization, aws:PrincipalType,
  aws:username for IAM users, aws:RequestedRegion), aws:MultiFactorAuthPresent only for temporary
  credentials ("true" when AssumeRole was given SerialNumber and TokenCode, else "false"; absent for
  long-term access keys, as AWS documents), iam:PolicyARN on Attach/Detach…Policy, s3:prefix when a
  listing has one, sts:ExternalId, and for AssumeRole aws:ResourceAccount/aws:ResourceOrgID.
- POST /moto-api/orgmfa/securityhub-disabled with a JSON list of account ids: Security Hub is "not
  enabled" in those accounts (GetFindings and BatchImportFindings answer InvalidAccessException, as
  AWS does for an account that never enabled it); moto itself never checks.
- CopyObject keeps a multipart object's checksum type and part count (moto drops them, and the
  copy's composite checksum then fails the SDK's validation on GetObject).
- GET /moto-api/orgmfa/role?arn=<role ARN> answers the role (ARN with path, account, trust policy and
  its account's organization), or 404 when the role does not exist (now); GET
  /moto-api/orgmfa/caller?key=<access key id> answers who signs with that key (IAM user, or role session
  with the role's ARN and path; a key moto does not know is the emulator's admin key: the root user of
  moto's default account 123456789012), with its identity policies, its organization (id, management
  account, feature set, IAM trusted access and delegated administrators), its global condition keys and
  whether enforcement is on. The gateway (src/server.ts) judges AssumeRole and
  ListOrganizationsFeatures with them: moto looked a cross-account role up in the CALLER's account, so
  it never evaluated another account's trust policy, and does not implement ListOrganizationsFeatures.
- AssumeRole requests the gateway has judged (with a real policy engine) carry X-Orgmfa-Judged with a
  secret the gateway hands this process (ORGMFA_GATEWAY_SECRET): moto then checks only their
  signature, so two engines never judge the same request.
- IAM is an Organizations-integrated service (trusted access, delegated administrator): added to
  moto's lists of services, so EnableAWSServiceAccess and RegisterDelegatedAdministrator accept
  iam.amazonaws.com as AWS does.
- The credential report is a snapshot: POST /moto-api/orgmfa/credential-report {"accountId", "root"}
  (the gateway, when IAM would generate one: none yet, or the last more than four hours old) stores the
  CSV as of then, the `<root_account>` row first (ARN arn:aws:iam::<account>:root; password_enabled,
  mfa_active and access_key_1_active from the declared root state; password_last_changed and
  password_next_rotation not_supported), and GetCredentialReport answers that snapshot, or
  ReportNotPresent when none was generated. moto built the report when it was READ (always current)
  and without a root row.
- EnableMFADevice through the API refuses a FIDO serial (arn:…:u2f/…) with InvalidAuthenticationCode
  (HTTP 403, from IAM's error model): IAM registers security keys and passkeys only in the console, and
  such a device emits no authentication codes. POST /moto-api/orgmfa/fido-device {"accountId",
  "userName", "serialNumber"} stands for that console registration (the backend call the API makes).
- Same-account AssumeRole (when moto judges it itself, i.e. not through the gateway): moto evaluates
  the caller's identity policy and the role's trust policy, but compares the trust policy's principal to the caller's session ARN string by string, so
  "arn:aws:iam::<account>:root" (which AWS takes to mean every principal of the account the
  identity policy lets in) or the role's own ARN never match. They match here as in AWS; the
  identity policy is still required, as in AWS.
- S3 CopyObject (and UploadPartCopy) is authorised as AWS does: s3:PutObject on the destination and
  also s3:GetObject on the source; moto checks only the destination, so a role that may write a
  copy but not read its source would pass here and fail in AWS. Stricter only.
- CloudFormation: an `Fn::If` (or `Ref`) that gives `AWS::NoValue` inside a list removes that
  element, as CloudFormation does; moto left a null in the list (e.g. in a trust policy's
  `aws:PrincipalArn` values, the member template's Discover role where it is not trusted).
- CloudFormation: `AWS::IAM::Group` (GroupName, Path, ManagedPolicyArns; Ref gives the name,
  GetAtt Arn the ARN), which moto does not support: the member template's quarantine group.
- Speed, same answers: moto lists its own package directory (a stat per service, ~180 per request)
  to route every request, and lists a responses class's methods (inspect.getmembers) for every
  call; both are computed once here. A third of moto's time per call went to them. The server's
  line per request on stderr is left out unless ORGMFA_EMULATOR_LOG=1 (errors are still logged).
- S3 answers a request to a bucket that does not exist with NoSuchBucket (404) before judging the
  caller's policy; moto said AccessDenied under IAM enforcement, so a mistyped --s3-bucket looked like a
  permissions problem. CreateBucket is still authorised. Source: the S3 API reference defines
  NoSuchBucket ("The specified bucket does not exist", 404) but does not say it precedes authorisation;
  that it does is how S3 is widely observed to answer (bucket names are global). Recorded as such in
  docs/aws-semantics.md §11.
- POST /moto-api/orgmfa/iam-users with {"accountId", "users": [UserSpec of packages/emulator seed.ts]}
  creates those users in one request, through the same backend calls as the IAM API's CreateUser,
  CreateLoginProfile, CreateAccessKey, UpdateAccessKey, CreateVirtualMFADevice, EnableMFADevice and
  DeactivateMFADevice: seeding a benchmark's 800 users one API call at a time took ~20 s of moto's time.
"""

import os as _os
import threading as _threading
import time as _time


def _exit_with_parent():
    """The server exits when the process that started it is gone, from its very first instant.

    It starts before moto is imported (which takes a second or two), so a parent killed meanwhile
    leaves no orphan. The parent's PID comes from ORGMFA_PARENT_PID (set by the emulator's Node side):
    a parent that died before this line ran is caught too, where comparing with getppid() alone would
    see the reaper's PID as the parent. On Linux the kernel also sends SIGKILL when the parent dies.
    """
    expected = _os.environ.get("ORGMFA_PARENT_PID")
    parent = int(expected) if expected and expected.isdigit() else _os.getppid()
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the polling below is enough
        pass
    while True:
        if _os.getppid() != parent:
            _os._exit(0)
        _time.sleep(0.2)


if __name__ == "__main__":
    _threading.Thread(target=_exit_with_parent, daemon=True).start()

import fnmatch
import json
import os
import re
import sys
import threading
import time
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlparse, urlsplit

from moto import backends as moto_backends
from moto import settings
from moto.core import responses as moto_responses
from moto.cloudformation import exceptions as cfn_exceptions
from moto.cloudformation import parsing as cfn_parsing
from moto.core.common_models import CloudFormationModel
from moto.utilities.utils import get_partition
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam import access_control, policy_conditions
from moto.iam.exceptions import IAMException, ReportNotPresentException
from moto.iam.models import IAMBackend, iam_backends
from moto.iam.responses import IamResponse
from moto.organizations.models import FakeDelegatedAdministrator, FakeServiceAccess, organizations_backends
from moto.sts.models import STSBackend, sts_backends
from moto.sts.responses import TokenResponse
from moto.moto_api._internal import urls as moto_api_urls
from moto.securityhub.exceptions import SecurityHubClientError
from moto.securityhub.models import SecurityHubBackend
from moto.securityhub.responses import SecurityHubResponse
from moto.s3.models import S3Backend, s3_backends
from moto.s3.responses import S3Response
from moto.server import main
from moto.sns.responses import SNSResponse
from moto.sqs.responses import SQSResponse
from werkzeug.serving import WSGIRequestHandler


def _securityhub_resource(self):
    action = self._get_action()
    if action == "BatchImportFindings":
        try:
            body = self.body.decode("utf-8") if isinstance(self.body, bytes) else self.body
            arns = {f.get("ProductArn", "") for f in json.loads(body or "{}").get("Findings", [])}
        except (ValueError, AttributeError):
            arns = set()
        # One product per call, as orgmfa sends; a mixed call is judged against "*".
        return arns.pop() if len(arns) == 1 else "*"
    if action in ("GetFindings", "DescribeHub"):
        return f"arn:aws:securityhub:{self.region}:{self.current_account}:hub/default"
    return "*"


def _sns_resource(self):
    if self._get_action() in ("Publish", "PublishBatch"):
        return self._get_param("TopicArn") or "*"
    return "*"


# IAM actions on one user, group, policy or virtual device: authorised against that resource's ARN (as
# the Service Authorization Reference gives each action's resource type); every other IAM action
# (ListUsers, the credential report, …) against "*", as moto does for all of them.
_IAM_GROUP_ACTIONS = {"AddUserToGroup", "RemoveUserFromGroup", "GetGroup", "CreateGroup", "DeleteGroup"}
_IAM_POLICY_ACTIONS = {"ListEntitiesForPolicy", "GetPolicy", "GetPolicyVersion"}
_IAM_MFA_ACTIONS = {"CreateVirtualMFADevice"}


def _iam_resource(self):
    action = self._get_action()
    partition = get_partition(self.region)
    account = self.current_account
    backend = iam_backends[account][partition]
    if action in _IAM_GROUP_ACTIONS and self._get_param("GroupName"):
        name = self._get_param("GroupName")
        try:
            return backend.get_group(name).arn
        except Exception:  # noqa: BLE001 - a group that does not exist: its ARN without a path
            return f"arn:{partition}:iam::{account}:group/{name}"
    if action in _IAM_POLICY_ACTIONS and self._get_param("PolicyArn"):
        return self._get_param("PolicyArn")
    if action in _IAM_MFA_ACTIONS and self._get_param("VirtualMFADeviceName"):
        return f"arn:{partition}:iam::{account}:mfa/{self._get_param('VirtualMFADeviceName')}"
    if self._get_param("UserName") and action not in ("ListUsers",):
        name = self._get_param("UserName")
        try:
            return backend.get_user(name).arn
        except Exception:  # noqa: BLE001 - a user that does not exist: its ARN without a path
            return f"arn:{partition}:iam::{account}:user/{name}"
    return "*"


_moto_sqs_resource = SQSResponse._determine_resource


def _sqs_resource(self):
    # The queue's ARN from the request's QueueUrl (https://<host>/<account>/<name>), whether or not the
    # queue exists, as SQS authorises (Service Authorization Reference: every queue action's resource is
    # arn:<partition>:sqs:<region>:<account>:<name>). moto judged a queue that does not exist against
    # "*", so a role allowed GetQueueAttributes on exactly that queue got AccessDenied where AWS answers
    # QueueDoesNotExist. A policy on "*" still matches; one on another queue still does not.
    try:
        url = self._get_param("QueueUrl")
    except Exception:  # noqa: BLE001 - no parameters to read: moto's own answer
        url = None
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        path = [p for p in urlparse(url).path.split("/") if p]
        if len(path) == 2 and path[0].isdigit():
            return f"arn:{get_partition(self.region)}:sqs:{self.region}:{path[0]}:{path[1]}"
    return _moto_sqs_resource(self)


def _role(request, full_url, headers):
    arn = (parse_qs(urlparse(full_url).query).get("arn") or [""])[0]
    parts = arn.split(":")
    if len(parts) < 6 or not parts[4].isdigit():
        return 400, {"Content-Type": "application/json"}, json.dumps({"error": "arn= a role ARN"})
    try:
        role = iam_backends[parts[4]][parts[1]].get_role_by_arn(arn)
    except Exception:  # noqa: BLE001 - any lookup failure means "no such role"
        return 404, {"Content-Type": "application/json"}, json.dumps({"error": "no such role"})
    trust = role.assume_role_policy_document
    return (
        200,
        {"Content-Type": "application/json"},
        json.dumps(
            {
                "arn": role.arn,
                "account": parts[4],
                "trustPolicy": json.loads(trust) if isinstance(trust, str) else trust,
                "org": _org_info(parts[4]),
            }
        ),
    )


def _glob(pattern, actual, ignore_case=False):
    # IAM's wildcards: * any run of characters, ? any one; nothing else is special.
    if ignore_case:
        pattern, actual = pattern.lower(), actual.lower()
    return fnmatch.fnmatchcase(actual, pattern.replace("[", "[[]"))


def _string_like(expected, actual):
    patterns = expected if isinstance(expected, list) else [expected]
    return any(_glob(p, actual) for p in patterns)


_format_conditions = access_control.format_incoming_conditional_values


def _conditions(data):
    values = _format_conditions(data)
    prefix = data.get("prefix") if isinstance(data, dict) else None
    # s3:prefix only when the listing has one (AWS: absent otherwise, and a condition on it then fails).
    if prefix is not None:
        values["s3:prefix"] = prefix[0] if isinstance(prefix, list) else prefix
    return values


def _param(data, name):
    v = data.get(name) if isinstance(data, dict) else None
    return v[0] if isinstance(v, list) else v


# AWS's condition operators (IAM User Guide, "IAM JSON policy elements: Condition operators"): a key
# absent from the request matches no positive operator, matches every negated one (…Not…), and any
# …IfExists; Null tests presence. An operator not listed here never matches (stricter than moto,
# which ignored it).
def _arn_like(pattern, actual):
    p, a = pattern.split(":", 5), actual.split(":", 5)
    return len(p) == len(a) == 6 and all(_glob(x, y) for x, y in zip(p, a))


def _number(v):
    return float(v)


_POSITIVE = {
    "StringEquals": lambda e, a: a == e,
    "StringEqualsIgnoreCase": lambda e, a: a.lower() == e.lower(),
    "StringLike": lambda e, a: _glob(e, a),
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
    "Bool": lambda e, a: str(a).lower() == str(e).lower(),
    "NumericEquals": lambda e, a: _number(a) == _number(e),
    "NumericLessThan": lambda e, a: _number(a) < _number(e),
    "NumericLessThanEquals": lambda e, a: _number(a) <= _number(e),
    "NumericGreaterThan": lambda e, a: _number(a) > _number(e),
    "NumericGreaterThanEquals": lambda e, a: _number(a) >= _number(e),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
}
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def _substitute(text, values):
    """Policy variables (${aws:username}, ${*}, ${?}, ${$}); None when one has no value here."""
    missing = []

    def value(m):
        name = m.group(1)
        if name in ("*", "?", "$"):
            return name
        v = values.get(name)
        if v is None:
            missing.append(name)
            return ""
        return str(v)

    out = _VARIABLE.sub(value, text)
    return None if missing else out


def _one_condition(operator, key, expected, values):
    qualifier = None
    if ":" in operator and operator.split(":", 1)[0] in ("ForAnyValue", "ForAllValues"):
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    present = key in values and values[key] is not None
    expected_values = expected if isinstance(expected, list) else [expected]
    if base == "Null":
        return any(str(e).lower() == ("false" if present else "true") for e in expected_values)
    if not present:
        if if_exists or base in _NEGATED or qualifier == "ForAllValues":
            return True
        return False
    actual = values[key]
    actuals = actual if isinstance(actual, list) else [actual]
    negated = base in _NEGATED
    test = _POSITIVE.get(_NEGATED.get(base, base))
    if test is None:
        return False
    expected_values = [v for v in (_substitute(str(e), values) for e in expected_values) if v is not None]

    def matches(a):
        try:
            return any(test(e, str(a)) for e in expected_values)
        except ValueError:
            return False

    if qualifier == "ForAllValues":
        hit = all(matches(a) for a in actuals)
    else:
        hit = any(matches(a) for a in actuals)
    return not hit if negated else hit


def _request_values(incoming):
    values = dict(getattr(_request_conditions, "values", None) or {})
    values.update(incoming or {})
    return values


def _aws_conditions(self, incoming_condition_values):
    conditions = self._statement.get("Condition")
    if not conditions:
        return True
    values = _request_values(incoming_condition_values)
    return all(
        _one_condition(operator, key, expected, values)
        for operator, by_key in conditions.items()
        for key, expected in by_key.items()
    )


def _resource_matches(self, element, resource, values):
    patterns = self._statement[element]
    for p in patterns if isinstance(patterns, list) else [patterns]:
        p = _substitute(p, values)
        if p is not None and (p == "*" or _glob(p, resource)):
            return True
    return False


_statement_is_action_permitted = access_control.IAMPolicyStatement.is_action_permitted
_Result = access_control.PermissionResult


def _statement_as_aws(self, action, resource="*", principal=None, incoming_condition_values=None):
    """An identity-policy statement as IAM evaluates it: Action/NotAction, Resource/NotResource with
    policy variables, Condition; a condition that does not hold makes the statement not apply (moto
    made a failing condition an explicit deny). Trust-policy statements (Principal) keep moto's path."""
    st = self._statement
    if "Principal" in st or "NotPrincipal" in st:
        return _statement_is_action_permitted(self, action, resource, principal, incoming_condition_values)
    if "NotAction" in st:
        concerned = not self._check_element_matches("NotAction", action)
    else:
        concerned = self._check_element_matches("Action", action)
    if not concerned or not self._check_conditions(incoming_condition_values):
        return _Result.NEUTRAL
    values = _request_values(incoming_condition_values)
    if "NotResource" in st:
        applies = not _resource_matches(self, "NotResource", resource, values)
    else:
        applies = "Resource" not in st or _resource_matches(self, "Resource", resource, values)
    if not applies:
        return _Result.NEUTRAL
    return _Result.PERMITTED if st.get("Effect") == "Allow" else _Result.DENIED


# moto evaluates identity policies without any condition values (so every condition passed); give
# them the request's, as AWS's request context has them (see _request_context).
_request_conditions = threading.local()
_check_action_permitted = access_control.IAMRequestBase.check_action_permitted
# Requests the gateway has judged (AssumeRole, with a real policy engine) carry this header with the
# secret the gateway gave this process; moto then only checks their signature.
_JUDGED_SECRET = os.environ.pop("ORGMFA_GATEWAY_SECRET", "")


def _check_action_permitted_with_conditions(self, *args, **kwargs):
    headers = self._headers or {}
    judged = headers.get("X-Orgmfa-Judged") or headers.get("x-orgmfa-judged")
    if _JUDGED_SECRET and judged == _JUDGED_SECRET and self._action == "sts:AssumeRole":
        return None
    _request_conditions.values = _request_context(self)
    try:
        return _check_action_permitted(self, *args, **kwargs)
    finally:
        _request_conditions.values = None


_create_aws_request = access_control.IAMRequestBase._create_aws_request


def _aws_request_with_canonical_query(self):
    # The server hands moto the query decoded ("prefix=a/b"), the SDK signed it encoded
    # ("prefix=a%2Fb"): re-encode it as SigV4 does, or every listing with a prefix fails its signature.
    request = _create_aws_request(self)
    parts = urlsplit(request.url)
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)
        request.url = parts._replace(query=query).geturl()
    return request


access_control.IAMRequestBase._create_aws_request = _aws_request_with_canonical_query
access_control.IAMRequestBase.check_action_permitted = _check_action_permitted_with_conditions
access_control.IAMPolicyStatement._check_conditions = _aws_conditions
access_control.IAMPolicyStatement.is_action_permitted = _statement_as_aws
policy_conditions.CONDITION_OPERATIONS["StringLike"] = _string_like
access_control.format_incoming_conditional_values = _conditions
_hubs_disabled: set = set()


def _hub_must_be_enabled(method):
    def checked(self, *args, **kwargs):
        if self.account_id in _hubs_disabled:
            raise SecurityHubClientError("InvalidAccessException", f"Account {self.account_id} is not subscribed to AWS Security Hub")
        return method(self, *args, **kwargs)

    return checked


def _set_hubs_disabled(request, full_url, headers):
    body = request.data if hasattr(request, "data") else request.body
    ids = json.loads(body or "[]")
    _hubs_disabled.clear()
    _hubs_disabled.update(str(i) for i in ids)
    return 200, {"Content-Type": "application/json"}, json.dumps({"disabled": sorted(_hubs_disabled)})


SecurityHubBackend.get_findings = _hub_must_be_enabled(SecurityHubBackend.get_findings)
SecurityHubBackend.batch_import_findings = _hub_must_be_enabled(SecurityHubBackend.batch_import_findings)
moto_api_urls.url_paths["{0}/moto-api/orgmfa/securityhub-disabled"] = _set_hubs_disabled
SecurityHubResponse._determine_resource = _securityhub_resource
SNSResponse._determine_resource = _sns_resource
IamResponse._determine_resource = _iam_resource
SQSResponse._determine_resource = _sqs_resource
moto_api_urls.url_paths["{0}/moto-api/orgmfa/role"] = _role


def _code(n):
    return str(100000 + n)[-6:]


def _create_iam_users(request, full_url, headers):
    """Seeds users exactly as seed.ts createUser does through the API (same names, serials, order)."""
    body = request.data if hasattr(request, "data") else request.body
    try:
        spec = json.loads(body or "{}")
        created = _seed_users(str(spec["accountId"]), spec.get("users", []))
    except Exception as e:  # the seed's mistake, named: a user that exists, a bad spec
        return 400, {"Content-Type": "text/plain"}, f"{type(e).__name__}: {e}"
    return 200, {"Content-Type": "application/json"}, json.dumps({"created": created})


def _seed_users(account_id, users):
    backend = iam_backends[account_id][get_partition("us-east-1")]
    for u in users:
        name = u["name"]
        backend.create_user("us-east-1", name)
        if u.get("console"):
            backend.create_login_profile(name, "Emulated-Passw0rd!")
        active = u.get("activeKeys", 0)
        for i in range(active + u.get("inactiveKeys", 0)):
            key = backend.create_access_key(name)
            if i >= active:
                backend.update_access_key(name, key.access_key_id, "Inactive")

        def enable(serial):
            backend.enable_mfa_device(name, serial, _code(1), _code(2))

        for i, kind in enumerate(u.get("devices", [])):
            if kind == "virtual":
                enable(backend.create_virtual_mfa_device(f"{name}-app{i}", "/").serial_number)
            elif kind == "hardware":
                enable(f"GAHT{account_id[-4:]}{str(i).zfill(4)}")
            else:
                enable(f"arn:aws:iam::{account_id}:u2f/user/{name}/security-key-{i}")
        if u.get("unenabledVirtual"):
            backend.create_virtual_mfa_device(f"{name}-never-enabled", "/")
        if u.get("deactivated"):
            serial = backend.create_virtual_mfa_device(f"{name}-old-phone", "/").serial_number
            enable(serial)
            backend.deactivate_mfa_device(name, serial)
    return len(users)


moto_api_urls.url_paths["{0}/moto-api/orgmfa/iam-users"] = _create_iam_users

_check_principal = access_control.IAMPolicyStatement._check_principal
_SESSION = re.compile(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/")


def _check_principal_as_aws(self, principal):
    if _check_principal(self, principal):
        return True
    session = _SESSION.match(principal or "")
    expected = (self._statement.get("Principal") or {}).get("AWS")
    if not session or not expected:
        return False
    partition, account, role = session.groups()
    for p in expected if isinstance(expected, list) else [expected]:
        if p in (account, f"arn:{partition}:iam::{account}:root"):
            return True
        named = re.match(rf"^arn:{partition}:iam::{account}:role/(?:.*/)?([^/]+)$", p)
        if named and named.group(1) == role:
            return True
    return False


access_control.IAMPolicyStatement._check_principal = _check_principal_as_aws


def _reading_the_copy_source(method):
    def authorised(self):
        enforced = ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
        source = self.headers.get("x-amz-copy-source")
        if enforced and source:
            if isinstance(source, bytes):
                source = source.decode("utf-8")
            # The destination was authorised (and the signature checked) as s3:PutObject already.
            source_path = unquote(urlparse(source).path).lstrip("/")
            parsed = urlparse(self.uri)
            request = access_control.S3IAMRequest(
                account_id=self.current_account,
                method=self.method,
                path=parsed.path + (f"?{parsed.query}" if parsed.query else ""),
                data=self.data,
                body=self.raw_body,
                headers=self.headers,
                action="GetObject",
            )
            request.check_action_permitted(f"arn:aws:s3:::{source_path}")
        return method(self)

    return authorised


S3Response.copy_object = _reading_the_copy_source(S3Response.copy_object)

_authorize_s3 = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action


def _missing_bucket_is_no_such_bucket(self, bucket_name=None, key_name=None):
    # S3 answers a request to a bucket that does not exist with 404 NoSuchBucket, whoever asks (bucket
    # names are global and their existence is public); moto judged the caller's policy first and said
    # AccessDenied. CreateBucket (a PUT of the bucket itself) is still authorised.
    creating = getattr(self, "method", None) == "PUT" and not key_name
    if bucket_name and not creating and bucket_name not in s3_backends.bucket_accounts:
        return None
    return _authorize_s3(self, bucket_name=bucket_name, key_name=key_name)


ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = _missing_bucket_is_no_such_bucket
S3Response.upload_part_copy = _reading_the_copy_source(S3Response.upload_part_copy)

_clean_json = cfn_parsing.clean_json


def _clean_json_without_novalue(resource_json, resources_map):
    if isinstance(resource_json, list):
        cleaned = [(val, _clean_json_without_novalue(val, resources_map)) for val in resource_json]
        # An intrinsic function that came to AWS::NoValue (None) is no element at all.
        return [c for val, c in cleaned if not (c is None and isinstance(val, dict))]
    return _clean_json(resource_json, resources_map)


cfn_parsing.clean_json = _clean_json_without_novalue


class _CfnIamGroup(CloudFormationModel):
    """AWS::IAM::Group for moto's CloudFormation: creates the group in moto's IAM backend."""

    # moto's model metaclass files each model under the service named by its module.
    __module__ = "moto.iam.models"

    def __init__(self, group):
        self.group = group

    @property
    def physical_resource_id(self):
        return self.group.name

    @staticmethod
    def cloudformation_name_type():
        return "GroupName"

    @staticmethod
    def cloudformation_type():
        return "AWS::IAM::Group"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ["Arn"]

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "Arn":
            return self.group.arn
        raise cfn_exceptions.UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json.get("Properties", {})
        name = properties.get("GroupName", resource_name)
        backend = iam_backends[account_id][get_partition(region_name)]
        group = backend.create_group(name, properties.get("Path", "/"))
        for policy_arn in properties.get("ManagedPolicyArns", []):
            backend.attach_group_policy(policy_arn, name)
        return cls(group)


# The model lists are cached: drop what was cached before the class above existed.
cfn_parsing.get_model_list.cache_clear()
cfn_parsing.get_model_map.cache_clear()
cfn_parsing.get_name_type_map.cache_clear()


def _copy_keeps_checksum_type(copy_object):
    # moto copies a key's checksum value but not its type and part count: the copy of a multipart
    # (COMPOSITE) object then answers its composite checksum as a whole-object one, which the SDK
    # rejects on GetObject. S3 keeps them consistent.
    def copied(self, src_key, dest_bucket_name, dest_key_name, *args, **kwargs):
        result = copy_object(self, src_key, dest_bucket_name, dest_key_name, *args, **kwargs)
        if getattr(src_key, "checksum_value", None):
            new_key = self.get_object(dest_bucket_name, dest_key_name)
            if new_key is not None:
                new_key.checksum_type = getattr(src_key, "checksum_type", None)
                new_key.checksum_parts = getattr(src_key, "checksum_parts", None)
        return result

    return copied


S3Backend.copy_object = _copy_keeps_checksum_type(S3Backend.copy_object)


# ── Who is calling, and their organization (AWS's request context) ─────────────────────────────────
_DEFAULT_ACCOUNT = "123456789012"  # moto's account for credentials it does not know (the admin key)
_mfa_sessions: set = set()  # access keys of sessions assumed with SerialNumber and TokenCode


def _org_info(account_id):
    """The organization an account belongs to, as IAM sees it, or None."""
    try:
        backend = organizations_backends[account_id]["aws"]
        org, manager = backend.org, backend
        if org is None and account_id in organizations_backends.master_accounts:
            master, partition = organizations_backends.master_accounts[account_id]
            manager = organizations_backends[master][partition]
            org = manager.org
    except Exception:  # noqa: BLE001 - no organizations state for this account
        return None
    if org is None:
        return None
    return {
        "id": org.id,
        "managementAccountId": org.master_account_id,
        "featureSet": org.feature_set,
        "iamTrustedAccess": any(sv.get("ServicePrincipal") == "iam.amazonaws.com" for sv in manager.services),
        "iamDelegatedAdministrators": sorted(
            a.account.id for a in manager.admins if "iam.amazonaws.com" in getattr(a, "services", [])
        ),
    }


def _policy_document(policy):
    if isinstance(policy, str):
        return json.loads(policy)
    if hasattr(policy, "versions"):
        return json.loads(next(v for v in policy.versions if v.is_default).document)
    return json.loads(policy["policy_document"])


def _caller(access_key_id):
    """The principal an access key belongs to (user, or role session) with its identity policies; the
    admin key (any key moto does not know) is the root user of moto's default account."""
    for account_id, by_partition in list(sts_backends.items()):
        for sts in list(by_partition.values()):
            for session in sts.assumed_roles:
                if session.access_key_id != access_key_id:
                    continue
                name = session.role_arn.split("/")[-1]
                iam = iam_backends[account_id]["aws"]
                try:
                    role = iam.get_role(name)
                except Exception:  # noqa: BLE001 - the role was deleted since
                    role = None
                policies = []
                if role is not None:
                    policies = [_policy_document(d) for _, d in ((n, iam.get_role_policy(name, n)[1]) for n in iam.list_role_policies(name))]
                    policies += [_policy_document(p) for p in iam.list_attached_role_policies(name)[0]]
                return {
                    "known": True,
                    "type": "AssumedRole",
                    "account": account_id,
                    "arn": role.arn if role is not None else session.role_arn,
                    "sessionArn": f"arn:aws:sts::{account_id}:assumed-role/{name}/{session.session_name}",
                    "mfa": access_key_id in _mfa_sessions,
                    "policies": policies,
                    "org": _org_info(account_id),
                }
    for account_id, by_partition in list(iam_backends.items()):
        for iam in list(by_partition.values()):
            for user in list(iam.users.values()):
                if any(k.access_key_id == access_key_id for k in user.access_keys):
                    policies = [_policy_document(iam.get_user_policy(user.name, n)) for n in iam.list_user_policies(user.name)]
                    policies += [_policy_document(p) for p in iam.list_attached_user_policies(user.name)[0]]
                    for group in iam.get_groups_for_user(user.name):
                        policies += [_policy_document(iam.get_group_policy(group.name, n)) for n in iam.list_group_policies(group.name)]
                        policies += [_policy_document(p) for p in iam.list_attached_group_policies(group.name)[0]]
                    return {
                        "known": True,
                        "type": "User",
                        "account": account_id,
                        "arn": user.arn,
                        "userName": user.name,
                        "mfa": None,
                        "policies": policies,
                        "org": _org_info(account_id),
                    }
    return {
        "known": False,
        "type": "Account",
        "account": _DEFAULT_ACCOUNT,
        "arn": f"arn:aws:iam::{_DEFAULT_ACCOUNT}:root",
        "mfa": None,
        "policies": [],
        "org": _org_info(_DEFAULT_ACCOUNT),
    }


def _context_of(caller):
    """The global condition keys AWS puts in a request by this caller (IAM User Guide, "AWS global
    condition context keys"): aws:MultiFactorAuthPresent only for temporary credentials, aws:username
    only for IAM users, aws:PrincipalOrgID only for a member of an organization."""
    values = {
        "aws:PrincipalArn": caller["arn"],
        "aws:PrincipalAccount": caller["account"],
        "aws:PrincipalType": caller["type"],
    }
    if caller.get("org"):
        values["aws:PrincipalOrgID"] = caller["org"]["id"]
    if caller["type"] == "AssumedRole":
        values["aws:MultiFactorAuthPresent"] = "true" if caller["mfa"] else "false"
    if caller.get("userName"):
        values["aws:username"] = caller["userName"]
    return values


def _request_context(request):
    values = _conditions(request._data)
    values.update(_context_of(_caller(request._access_key._access_key_id)))
    values["aws:RequestedRegion"] = request._region
    policy_arn = _param(request._data, "PolicyArn")
    if policy_arn and request._action.startswith("iam:") and request._action.endswith("Policy"):
        values["iam:PolicyARN"] = policy_arn
    role_arn = _param(request._data, "RoleArn")
    if request._action == "sts:AssumeRole" and role_arn and len(role_arn.split(":")) > 4:
        account = role_arn.split(":")[4]
        values["aws:ResourceAccount"] = account
        org = _org_info(account)
        if org:
            values["aws:ResourceOrgID"] = org["id"]
    return values


def _caller_endpoint(request, full_url, headers):
    key = (parse_qs(urlparse(full_url).query).get("key") or [""])[0]
    caller = _caller(key)
    caller["context"] = _context_of(caller)
    caller["enforced"] = ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
    return 200, {"Content-Type": "application/json"}, json.dumps(caller)


moto_api_urls.url_paths["{0}/moto-api/orgmfa/caller"] = _caller_endpoint

_token_code = threading.local()
_assume_role_response = TokenResponse.assume_role
_sts_assume_role = STSBackend.assume_role


def _assume_role_noting_mfa(self):
    _token_code.given = bool(self._get_param("SerialNumber") and self._get_param("TokenCode"))
    try:
        return _assume_role_response(self)
    finally:
        _token_code.given = False


def _sts_assume_role_noting_mfa(self, *args, **kwargs):
    session = _sts_assume_role(self, *args, **kwargs)
    if getattr(_token_code, "given", False):
        _mfa_sessions.add(session.access_key_id)
    return session


TokenResponse.assume_role = _assume_role_noting_mfa
STSBackend.assume_role = _sts_assume_role_noting_mfa

# IAM is an Organizations-integrated service (trusted access and a delegated administrator for
# centralized root access); moto's lists lack it.
for _service_list in (FakeServiceAccess.TRUSTED_SERVICES, FakeDelegatedAdministrator.SUPPORTED_SERVICES):
    if "iam.amazonaws.com" not in _service_list:
        _service_list.append("iam.amazonaws.com")


# ── The credential report: a snapshot taken when it is generated ──────────────────────────────────
_REPORT_HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
    "cert_2_active,cert_2_last_rotated\n"
)


def _root_row(account_id, root):
    def flag(v):
        return "true" if v else "false"

    return ",".join(
        [
            "<root_account>",
            f"arn:aws:iam::{account_id}:root",
            "2020-01-01T00:00:00+00:00",
            flag(root.get("password")),
            "no_information" if root.get("password") else "N/A",
            "not_supported",
            "not_supported",
            flag(root.get("mfa")),
            flag(root.get("accessKeys")),
            "N/A",
            "N/A",
            "N/A",
            "N/A",
            "false",
            "N/A",
            "N/A",
            "N/A",
            "N/A",
            "false",
            "N/A",
            "false",
            "N/A",
        ]
    ) + "\n"


def _snapshot_report(request, full_url, headers):
    body = request.data if hasattr(request, "data") else request.body
    spec = json.loads(body or "{}")
    account_id = str(spec["accountId"])
    backend = iam_backends[account_id]["aws"]
    root = spec.get("root") or {"password": False, "accessKeys": False, "mfa": False}
    report = _REPORT_HEADER + _root_row(account_id, root)
    for name in backend.users:
        report += backend.users[name].to_csv()
    backend.orgmfa_report = report
    backend.credential_report = True
    return 200, {"Content-Type": "application/json"}, json.dumps({"rows": report.count("\n") - 1})


def _report_as_generated(self):
    report = getattr(self, "orgmfa_report", None)
    if report is None:
        raise ReportNotPresentException("Credential report not present")
    return report


moto_api_urls.url_paths["{0}/moto-api/orgmfa/credential-report"] = _snapshot_report
IAMBackend.get_credential_report = _report_as_generated


# ── EnableMFADevice: FIDO keys and passkeys are registered in the console only ────────────────────
_enable_mfa_device = IamResponse.enable_mfa_device


def _enable_mfa_device_as_aws(self):
    if ":u2f/" in (self._get_param("SerialNumber") or ""):
        raise InvalidAuthenticationCodeException(
            "A FIDO security key or passkey can be registered only in the AWS Management Console; "
            "the authentication codes of this device are not recognized"
        )
    return _enable_mfa_device(self)


IamResponse.enable_mfa_device = _enable_mfa_device_as_aws


def _register_fido_device(request, full_url, headers):
    """A console registration of a security key or passkey: the backend call EnableMFADevice makes."""
    body = request.data if hasattr(request, "data") else request.body
    try:
        spec = json.loads(body or "{}")
        if ":u2f/" not in spec["serialNumber"]:
            raise ValueError(f"{spec['serialNumber']} is not a FIDO serial (arn:…:u2f/…)")
        backend = iam_backends[str(spec["accountId"])]["aws"]
        backend.enable_mfa_device(spec["userName"], spec["serialNumber"], _code(1), _code(2))
    except Exception as e:  # the caller's mistake, named
        return 400, {"Content-Type": "text/plain"}, f"{type(e).__name__}: {e}"
    return 200, {"Content-Type": "application/json"}, json.dumps({"registered": spec["serialNumber"]})


moto_api_urls.url_paths["{0}/moto-api/orgmfa/fido-device"] = _register_fido_device


class InvalidAuthenticationCodeException(IAMException):
    code = "InvalidAuthenticationCode"


# moto's package does not change while it runs: its module list and each class's methods, once.
_MOTO_MODULES = tuple(moto_backends.list_of_moto_modules())
moto_backends.list_of_moto_modules = lambda: _MOTO_MODULES
_method_names_of = moto_responses.method_names_from_class
_METHOD_NAMES = {}


def _method_names_once(clazz):
    names = _METHOD_NAMES.get(clazz)
    if names is None:
        names = _METHOD_NAMES[clazz] = tuple(_method_names_of(clazz))
    return list(names)


moto_responses.method_names_from_class = _method_names_once
if os.environ.get("ORGMFA_EMULATOR_LOG") != "1":
    WSGIRequestHandler.log_request = lambda self, code="-", size="-": None


if __name__ == "__main__":
    main(sys.argv[1:])

"""STS: the MFA context of a session, same-account trust, and AssumeRole judged by the gateway.

- AssumeRole given SerialNumber and TokenCode gives a session whose requests carry
  aws:MultiFactorAuthPresent "true" (principals.mfa_sessions, read by principals.context_of).
- A trust policy's principal "arn:aws:iam::<account>:root", the bare account id, or the role's own ARN
  matches a session of that account (or of that role), as in AWS; moto compared it to the caller's
  session ARN string by string.
- AssumeRole requests the gateway has judged carry X-Orgmfa-Judged with the secret the gateway handed
  this process (ORGMFA_GATEWAY_SECRET); iam_conditions then lets moto check only their signature.
"""

import os
import re
import threading

from moto.iam import access_control
from moto.sts.models import STSBackend
from moto.sts.responses import TokenResponse

from .principals import mfa_sessions

_token_code = threading.local()
_assume_role_response = TokenResponse.assume_role
_sts_assume_role = STSBackend.assume_role
_check_principal = access_control.IAMPolicyStatement._check_principal
_SESSION = re.compile(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/")
# The secret the gateway marks the requests it has judged with (set by apply(), popped from the
# environment so that nothing this process starts inherits it).
_judged_secret = ""


def _assume_role_noting_mfa(self):
    _token_code.given = bool(self._get_param("SerialNumber") and self._get_param("TokenCode"))
    try:
        return _assume_role_response(self)
    finally:
        _token_code.given = False


def _sts_assume_role_noting_mfa(self, *args, **kwargs):
    session = _sts_assume_role(self, *args, **kwargs)
    if getattr(_token_code, "given", False):
        mfa_sessions.add(session.access_key_id)
    return session


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


def judged_by_gateway(request):
    """Is this moto IAM request an AssumeRole the gateway has already judged with its policy engine?"""
    headers = request._headers or {}
    judged = headers.get("X-Orgmfa-Judged") or headers.get("x-orgmfa-judged")
    return bool(_judged_secret and judged == _judged_secret and request._action == "sts:AssumeRole")


def apply():
    global _judged_secret
    _judged_secret = os.environ.pop("ORGMFA_GATEWAY_SECRET", "")
    TokenResponse.assume_role = _assume_role_noting_mfa
    STSBackend.assume_role = _sts_assume_role_noting_mfa
    access_control.IAMPolicyStatement._check_principal = _check_principal_as_aws

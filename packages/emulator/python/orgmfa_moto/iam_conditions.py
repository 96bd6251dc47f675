"""Identity policies evaluated as IAM evaluates them: conditions, NotResource, policy variables, and
the request context they are evaluated in.

IAM User Guide, "IAM JSON policy elements: Condition operators" (a key absent from the request matches
no positive operator, every negated one and any …IfExists; Null tests presence), "Policy evaluation
logic" (a statement whose condition fails does not apply), "IAM JSON policy elements: NotResource",
"IAM policy elements: Variables and tags", and "AWS global condition context keys". moto knew only
StringEquals, passed a condition whose key is absent from the request (it evaluated identity policies
with no condition values at all), made an Allow whose condition fails an explicit deny, ignored
NotResource (a Deny with NotResource even came out as "permitted") and policy variables.
"""

import fnmatch
import re
import threading

from moto.iam import access_control, policy_conditions

from . import sts
from .principals import caller, context_of, org_info


def glob(pattern, actual, ignore_case=False):
    # IAM's wildcards: * any run of characters, ? any one; nothing else is special.
    if ignore_case:
        pattern, actual = pattern.lower(), actual.lower()
    return fnmatch.fnmatchcase(actual, pattern.replace("[", "[[]"))


def _string_like(expected, actual):
    patterns = expected if isinstance(expected, list) else [expected]
    return any(glob(p, actual) for p in patterns)


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
# …IfExists; Null tests presence. An operator not listed here raises UnknownConditionOperator, and
# its statement is decided by its effect (_aws_conditions).
def _arn_like(pattern, actual):
    p, a = pattern.split(":", 5), actual.split(":", 5)
    return len(p) == len(a) == 6 and all(glob(x, y) for x, y in zip(p, a))


def _number(v):
    return float(v)


_POSITIVE = {
    "StringEquals": lambda e, a: a == e,
    "StringEqualsIgnoreCase": lambda e, a: a.lower() == e.lower(),
    "StringLike": lambda e, a: glob(e, a),
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


class UnknownConditionOperator(Exception):
    """An operator this emulator does not evaluate (Date*, IpAddress, Binary*, …): its statement is
    decided by its effect, never by guessing the operator (see _aws_conditions)."""


def _one_condition(operator, key, expected, values):
    qualifier = None
    if ":" in operator and operator.split(":", 1)[0] in ("ForAnyValue", "ForAllValues"):
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    if base != "Null" and _POSITIVE.get(_NEGATED.get(base, base)) is None:
        raise UnknownConditionOperator(operator)
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
    test = _POSITIVE[_NEGATED.get(base, base)]
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
    try:
        return all(
            _one_condition(operator, key, expected, values)
            for operator, by_key in conditions.items()
            for key, expected in by_key.items()
        )
    except UnknownConditionOperator:
        # Fail closed whatever the effect: an Allow whose condition cannot be evaluated does not
        # apply, and a Deny whose condition cannot be evaluated does (the emulator never grants what
        # AWS might refuse).
        return self._statement.get("Effect") != "Allow"


def _resource_matches(self, element, resource, values):
    patterns = self._statement[element]
    for p in patterns if isinstance(patterns, list) else [patterns]:
        p = _substitute(p, values)
        if p is not None and (p == "*" or glob(p, resource)):
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


def _check_action_permitted_with_conditions(self, *args, **kwargs):
    # Requests the gateway has judged (AssumeRole, with a real policy engine): moto only checks their
    # signature, so two engines never judge the same request.
    if sts.judged_by_gateway(self):
        return None
    _request_conditions.values = _request_context(self)
    try:
        return _check_action_permitted(self, *args, **kwargs)
    finally:
        _request_conditions.values = None


def _request_context(request):
    """The request's condition keys: its parameters (s3:prefix…), the caller's global keys
    (principals.context_of), aws:RequestedRegion, iam:PolicyARN on Attach/Detach…Policy, and for
    AssumeRole aws:ResourceAccount/aws:ResourceOrgID."""
    values = _conditions(request._data)
    values.update(context_of(caller(request._access_key._access_key_id)))
    values["aws:RequestedRegion"] = request._region
    policy_arn = _param(request._data, "PolicyArn")
    if policy_arn and request._action.startswith("iam:") and request._action.endswith("Policy"):
        values["iam:PolicyARN"] = policy_arn
    role_arn = _param(request._data, "RoleArn")
    if request._action == "sts:AssumeRole" and role_arn and len(role_arn.split(":")) > 4:
        account = role_arn.split(":")[4]
        values["aws:ResourceAccount"] = account
        org = org_info(account)
        if org:
            values["aws:ResourceOrgID"] = org["id"]
    return values


def apply():
    access_control.IAMRequestBase.check_action_permitted = _check_action_permitted_with_conditions
    access_control.IAMPolicyStatement._check_conditions = _aws_conditions
    access_control.IAMPolicyStatement.is_action_permitted = _statement_as_aws
    policy_conditions.CONDITION_OPERATIONS["StringLike"] = _string_like
    access_control.format_incoming_conditional_values = _conditions

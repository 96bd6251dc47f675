"""The emulator's control endpoints, under moto's own /moto-api/ (on moto's port, never the gateway's).

The gateway (packages/emulator/src/gateway.ts) and the Emulator's control calls (src/server.ts) use them:

- GET  /moto-api/orgmfa/role?arn=<role ARN>: the role (ARN with path, account, trust policy and its
  account's organization), or 404 when it does not exist (now). 400 without a role ARN.
- GET  /moto-api/orgmfa/caller?key=<access key id>: who signs with that key (principals.caller: an IAM
  user, or a role session with the role's ARN and path; a key moto does not know is the emulator's admin
  key, the root user of moto's default account 123456789012), with its identity policies, its
  organization, its global condition keys ("context") and whether enforcement is on ("enforced").
- POST /moto-api/orgmfa/securityhub-disabled, a JSON list of account ids: Security Hub is not enabled
  there (securityhub); answers {"disabled": [...]}.
- POST /moto-api/orgmfa/credential-report {"accountId", "root"}: the account's credential report as of
  now (credential_report); answers {"rows": n}.
- GET  /moto-api/orgmfa/account?id=<account id>: the account's organization as IAM sees it (or null).
- POST /moto-api/orgmfa/fido-device {"accountId", "userName", "serialNumber", "certifications"?}: a console registration of
  a FIDO security key or passkey (iam_devices); 400 naming the mistake.
- POST /moto-api/orgmfa/iam-users {"accountId", "users": [UserSpec of packages/emulator seed]}: creates
  those users in one request, through the same backend calls as the IAM API's CreateUser,
  CreateLoginProfile, CreateAccessKey, UpdateAccessKey, CreateVirtualMFADevice, EnableMFADevice and
  DeactivateMFADevice (seeding a benchmark's 800 users one API call at a time took ~20 s of moto's
  time); 400 naming the mistake (a user that exists, a bad spec).
"""

import json
from urllib.parse import parse_qs, urlparse

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.models import iam_backends
from moto.moto_api._internal import urls as moto_api_urls
from moto.utilities.utils import get_partition

from . import credential_report, iam_devices, securityhub
from .iam_devices import code
from .principals import caller, context_of, org_info


def _body(request):
    return request.data if hasattr(request, "data") else request.body


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
                "org": org_info(parts[4]),
            }
        ),
    )


def _account(request, full_url, headers):
    """An account's organization as IAM sees it (null: none)."""
    account = (parse_qs(urlparse(full_url).query).get("id") or [""])[0]
    return 200, {"Content-Type": "application/json"}, json.dumps({"account": account, "org": org_info(account)})


def _caller(request, full_url, headers):
    key = (parse_qs(urlparse(full_url).query).get("key") or [""])[0]
    who = caller(key)
    who["context"] = context_of(who)
    who["enforced"] = ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
    return 200, {"Content-Type": "application/json"}, json.dumps(who)


def _set_hubs_disabled(request, full_url, headers):
    ids = json.loads(_body(request) or "[]")
    disabled = securityhub.set_disabled(ids)
    return 200, {"Content-Type": "application/json"}, json.dumps({"disabled": disabled})


def _snapshot_report(request, full_url, headers):
    spec = json.loads(_body(request) or "{}")
    report = credential_report.snapshot(str(spec["accountId"]), spec.get("root"))
    return 200, {"Content-Type": "application/json"}, json.dumps({"rows": report.count("\n") - 1})


def _register_fido_device(request, full_url, headers):
    try:
        spec = json.loads(_body(request) or "{}")
        iam_devices.register_fido(spec)
    except Exception as e:  # the caller's mistake, named
        return 400, {"Content-Type": "text/plain"}, f"{type(e).__name__}: {e}"
    return 200, {"Content-Type": "application/json"}, json.dumps({"registered": spec["serialNumber"]})


def _create_iam_users(request, full_url, headers):
    """Seeds users exactly as seed.ts createUser does through the API (same names, serials, order)."""
    try:
        spec = json.loads(_body(request) or "{}")
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
            backend.enable_mfa_device(name, serial, code(1), code(2))

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


# In the order moto's routes have always had them.
ENDPOINTS = {
    "securityhub-disabled": _set_hubs_disabled,
    "role": _role,
    "iam-users": _create_iam_users,
    "caller": _caller,
    "credential-report": _snapshot_report,
    "fido-device": _register_fido_device,
    "account": _account,
}


def register():
    """Adds the endpoints to moto's /moto-api/ routes (before the server starts)."""
    for name, handler in ENDPOINTS.items():
        moto_api_urls.url_paths["{0}/moto-api/orgmfa/" + name] = handler

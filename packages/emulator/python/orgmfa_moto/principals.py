"""Who signs a request, and their organization, as IAM sees them (AWS's request context).

Shared by the condition evaluation (iam_conditions), the STS patches (sts) and the control endpoints
the gateway asks (control: /moto-api/orgmfa/caller and /role). Nothing here patches moto.
"""

import json

from moto.iam.models import iam_backends
from moto.organizations.models import organizations_backends
from moto.sts.models import sts_backends

DEFAULT_ACCOUNT = "123456789012"  # moto's account for credentials it does not know (the admin key)
mfa_sessions: set = set()  # access keys of sessions assumed with SerialNumber and TokenCode (sts)


def org_info(account_id):
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


def caller(access_key_id):
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
                    "mfa": access_key_id in mfa_sessions,
                    "policies": policies,
                    "org": org_info(account_id),
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
                        "org": org_info(account_id),
                    }
    return {
        "known": False,
        "type": "Account",
        "account": DEFAULT_ACCOUNT,
        "arn": f"arn:aws:iam::{DEFAULT_ACCOUNT}:root",
        "mfa": None,
        "policies": [],
        "org": org_info(DEFAULT_ACCOUNT),
    }


def context_of(caller):
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

"""Requests authorised against their real resource ARNs, as the Service Authorization Reference gives
each action's resource type; moto's IAM enforcement checked them against "*".

A policy scoped the way AWS expects (BatchImportFindings on the account's own default product,
GetFindings on its own hub, Publish on the topic, AddUserToGroup on the quarantine group,
GetQueueAttributes on the forwarding dead-letter queue) would otherwise be denied. This makes
enforcement stricter, never looser: a policy on "*" still matches, one scoped to another account's
resource does not.
"""

import json
from urllib.parse import urlparse

from moto.iam.models import iam_backends
from moto.iam.responses import IamResponse
from moto.securityhub.responses import SecurityHubResponse
from moto.sns.responses import SNSResponse
from moto.sqs.responses import SQSResponse
from moto.utilities.utils import get_partition


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


def apply():
    SecurityHubResponse._determine_resource = _securityhub_resource
    SNSResponse._determine_resource = _sns_resource
    IamResponse._determine_resource = _iam_resource
    SQSResponse._determine_resource = _sqs_resource

"""moto's server, with what orgmfa's emulator needs that moto lacks.

- Security Hub and SNS Publish are authorised against their real resource ARNs. moto's IAM
  enforcement checks them against "*", so a policy scoped the way AWS expects
  (BatchImportFindings on the account's own default product, GetFindings on its own hub,
  Publish on the topic) would be denied. This makes enforcement stricter, never looser: a policy
  on "*" still matches, one scoped to another account's resource does not.
- The server exits when the process that started it is gone (re-parented), so an emulator can never
  outlive `orgmfa demo` or a test run, however they end (even SIGKILL).
- GET /moto-api/orgmfa/role?arn=<role ARN> answers the role's trust policy, or 404 when the role
  does not exist (now). The gateway uses it to refuse AssumeRole of a missing role as AWS does.
"""

import json
import os
import sys
import threading
import time
from urllib.parse import parse_qs, urlparse

from moto.iam.models import iam_backends
from moto.moto_api._internal import urls as moto_api_urls
from moto.securityhub.responses import SecurityHubResponse
from moto.server import main
from moto.sns.responses import SNSResponse


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


def _role(request, full_url, headers):
    arn = (parse_qs(urlparse(full_url).query).get("arn") or [""])[0]
    parts = arn.split(":")
    if len(parts) < 6 or not parts[4].isdigit():
        return 400, {"Content-Type": "application/json"}, json.dumps({"error": "arn= a role ARN"})
    try:
        role = iam_backends[parts[4]][parts[1]].get_role_by_arn(arn)
    except Exception:  # noqa: BLE001 - any lookup failure means "no such role"
        return 404, {"Content-Type": "application/json"}, json.dumps({"error": "no such role"})
    return 200, {"Content-Type": "application/json"}, json.dumps({"trustPolicy": role.assume_role_policy_document})


SecurityHubResponse._determine_resource = _securityhub_resource
SNSResponse._determine_resource = _sns_resource
moto_api_urls.url_paths["{0}/moto-api/orgmfa/role"] = _role

def _exit_with_parent():
    parent = os.getppid()
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


if __name__ == "__main__":
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    main(sys.argv[1:])

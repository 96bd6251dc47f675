"""moto's server, with Security Hub and SNS Publish authorised against real resource ARNs.

moto's IAM enforcement checks every Security Hub call against the resource "*", so a policy
scoped the way AWS expects (BatchImportFindings on the account's own default product,
GetFindings on its own hub) would be denied. AWS authorises BatchImportFindings on the
findings' product ARN and GetFindings on the hub ARN; this wrapper gives moto those resources,
which makes its enforcement stricter, never looser: a policy on "*" still matches, and a policy
scoped to another account's product does not.
"""

import json
import sys

from moto.securityhub.responses import SecurityHubResponse
from moto.server import main
from moto.sns.responses import SNSResponse


def _determine_resource(self):
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


SecurityHubResponse._determine_resource = _determine_resource


def _sns_resource(self):
    # AWS authorises Publish/PublishBatch on the topic; moto on "*".
    if self._get_action() in ("Publish", "PublishBatch"):
        return self._get_param("TopicArn") or "*"
    return "*"


SNSResponse._determine_resource = _sns_resource

if __name__ == "__main__":
    main(sys.argv[1:])

"""The credential report: a snapshot taken when it is generated, with the `<root_account>` row first.

moto built the report when it was READ (so it was always current) and without a root row. Here the
gateway asks for a snapshot when IAM would generate one (none yet, or the last more than four hours
old) through the control endpoint /moto-api/orgmfa/credential-report, and GetCredentialReport answers
that snapshot, or ReportNotPresent when none was generated.
"""

from moto.iam.exceptions import ReportNotPresentException
from moto.iam.models import IAMBackend, iam_backends

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


def snapshot(account_id, root):
    """Stores the account's report as of now (root: the declared root state, or None); its CSV."""
    backend = iam_backends[account_id]["aws"]
    root = root or {"password": False, "accessKeys": False, "mfa": False}
    report = _REPORT_HEADER + _root_row(account_id, root)
    for name in backend.users:
        report += backend.users[name].to_csv()
    backend.orgmfa_report = report
    backend.credential_report = True
    return report


def _report_as_generated(self):
    report = getattr(self, "orgmfa_report", None)
    if report is None:
        raise ReportNotPresentException("Credential report not present")
    return report


def apply():
    IAMBackend.get_credential_report = _report_as_generated

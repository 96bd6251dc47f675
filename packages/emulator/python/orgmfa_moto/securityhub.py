"""Security Hub "not enabled" in chosen accounts: GetFindings and BatchImportFindings there answer
InvalidAccessException, as AWS does for an account that never enabled Security Hub; moto never checks.
The accounts are set through the control endpoint /moto-api/orgmfa/securityhub-disabled (control).
"""

from moto.securityhub.exceptions import SecurityHubClientError
from moto.securityhub.models import SecurityHubBackend

_hubs_disabled: set = set()


def _hub_must_be_enabled(method):
    def checked(self, *args, **kwargs):
        if self.account_id in _hubs_disabled:
            raise SecurityHubClientError("InvalidAccessException", f"Account {self.account_id} is not subscribed to AWS Security Hub")
        return method(self, *args, **kwargs)

    return checked


def set_disabled(account_ids):
    """Replaces the accounts whose Security Hub is not enabled; their sorted list."""
    _hubs_disabled.clear()
    _hubs_disabled.update(str(i) for i in account_ids)
    return sorted(_hubs_disabled)


def apply():
    SecurityHubBackend.get_findings = _hub_must_be_enabled(SecurityHubBackend.get_findings)
    SecurityHubBackend.batch_import_findings = _hub_must_be_enabled(SecurityHubBackend.batch_import_findings)

"""IAM is an Organizations-integrated service (trusted access, and a delegated administrator for
centralized root access): added to moto's lists, so EnableAWSServiceAccess and
RegisterDelegatedAdministrator accept iam.amazonaws.com as AWS does."""

from moto.organizations.models import FakeDelegatedAdministrator, FakeServiceAccess


def apply():
    for service_list in (FakeServiceAccess.TRUSTED_SERVICES, FakeDelegatedAdministrator.SUPPORTED_SERVICES):
        if "iam.amazonaws.com" not in service_list:
            service_list.append("iam.amazonaws.com")

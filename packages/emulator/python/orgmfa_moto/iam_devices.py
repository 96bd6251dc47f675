"""MFA devices: FIDO security keys and passkeys are registered in the console only.

EnableMFADevice through the API refuses a FIDO serial (arn:…:u2f/…) with InvalidAuthenticationCode
(HTTP 403, from IAM's error model): such a device emits no authentication codes. moto enabled any
serial. register_fido (the control endpoint /moto-api/orgmfa/fido-device) stands for the console
registration: the backend call the API makes.
"""

from moto.iam.exceptions import IAMException
from moto.iam.models import iam_backends
from moto.iam.responses import IamResponse


class InvalidAuthenticationCodeException(IAMException):
    code = "InvalidAuthenticationCode"


def code(n):
    """The n-th six-digit code of an emulated device (what seed.ts sends as AuthenticationCode1/2)."""
    return str(100000 + n)[-6:]


_enable_mfa_device = IamResponse.enable_mfa_device


def _enable_mfa_device_as_aws(self):
    if ":u2f/" in (self._get_param("SerialNumber") or ""):
        raise InvalidAuthenticationCodeException(
            "A FIDO security key or passkey can be registered only in the AWS Management Console; "
            "the authentication codes of this device are not recognized"
        )
    return _enable_mfa_device(self)


def register_fido(spec):
    """A console registration of a security key or passkey ({"accountId", "userName", "serialNumber"}):
    the backend call EnableMFADevice makes."""
    if ":u2f/" not in spec["serialNumber"]:
        raise ValueError(f"{spec['serialNumber']} is not a FIDO serial (arn:…:u2f/…)")
    backend = iam_backends[str(spec["accountId"])]["aws"]
    backend.enable_mfa_device(spec["userName"], spec["serialNumber"], code(1), code(2))


def apply():
    IamResponse.enable_mfa_device = _enable_mfa_device_as_aws

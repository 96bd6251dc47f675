"""MFA devices: FIDO security keys and passkeys are registered in the console only; GetMFADevice.

EnableMFADevice through the API refuses a FIDO serial (arn:…:u2f/…) with InvalidAuthenticationCode
(HTTP 403, from IAM's error model): such a device emits no authentication codes. moto enabled any
serial. register_fido (the control endpoint /moto-api/orgmfa/fido-device) stands for the console
registration: the backend call the API makes.

GetMFADevice, which moto lacks, is answered here as the IAM API Reference (GetMFADevice) describes
it: "Retrieves information about an MFA device for a specified user" — UserName, SerialNumber,
EnableDate and Certifications, "FIPS-140-2, FIPS-140-3, and FIDO certification levels obtained from
FIDO Alliance Metadata Service (MDS)" (its sample answers {"FIDO-FIPS-140-2": "L2", "FIDO": "L1"}).
The reference says it serves FIDO security keys; for another serial, or a device the user does not
have, it names no error, and the emulator answers NoSuchEntity (orgmfa asks only for FIDO serials it
listed). Whether a passkey has certifications AWS does not say: the emulator answers what was declared
at registration ({"certifications": {...}}; none declared: {}).
"""

from moto.iam.exceptions import IAMException, NotFoundException
from moto.iam.models import iam_backends
from moto.iam.responses import IamResponse

# Certifications of registered FIDO devices, by (account, serial).
_CERTIFICATIONS = {}


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
    _CERTIFICATIONS[(str(spec["accountId"]), spec["serialNumber"])] = dict(spec.get("certifications") or {})


class NoSuchEntity(NotFoundException):
    pass


def _get_mfa_device(self):
    serial = self._get_param("SerialNumber") or ""
    user_name = self._get_param("UserName")
    backend = self.backend
    if ":u2f/" not in serial:
        raise NoSuchEntity(f"MFA device {serial} is not a FIDO security key or passkey")
    users = [backend.get_user(user_name)] if user_name else list(backend.users.values())
    for user in users:
        device = user.mfa_devices.get(serial)
        if device is None:
            continue
        certs = _CERTIFICATIONS.get((self.current_account, serial), {})
        entries = "".join(f"<entry><key>{k}</key><value>{v}</value></entry>" for k, v in certs.items())
        enabled = getattr(device, "enable_date", None)
        when = enabled.strftime("%Y-%m-%dT%H:%M:%SZ") if enabled else ""
        return (
            '<GetMFADeviceResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetMFADeviceResult>'
            f"<UserName>{user.name}</UserName><SerialNumber>{serial}</SerialNumber>"
            f"<EnableDate>{when}</EnableDate><Certifications>{entries}</Certifications>"
            "</GetMFADeviceResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId>"
            "</ResponseMetadata></GetMFADeviceResponse>"
        )
    raise NoSuchEntity(f"MFA device {serial} not found")


def apply():
    IamResponse.enable_mfa_device = _enable_mfa_device_as_aws
    IamResponse.get_mfa_device = _get_mfa_device

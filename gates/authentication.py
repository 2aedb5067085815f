"""Gate-device authentication for DRF: `Authorization: Api-Key <key>` or `X-Api-Key: <key>`.

One indexed lookup by the key's HMAC (gates.api_keys), with the device's event joined in, so
the check-in path needs no further query to know the event and its rules. A device is not a
user: gate endpoints accept devices only (see IsGateDevice), and device keys reach nothing else.
"""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from gates.api_keys import hash_api_key
from gates.models import Device

# last_seen_at is written at most this often per device, so a busy gate costs no extra write
# per scan (the admin only needs "seen a minute ago", not every request).
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
MAX_KEY_LENGTH = 200


class DevicePrincipal:
    """What `request.user` is for a device request: authenticated, never staff, never a person."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, device: Device) -> None:
        self.device = device
        self.pk = None

    def __str__(self) -> str:
        return f"device:{self.device.pk}"


class DeviceApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        key = self._key_from_headers(request)
        if key is None:
            return None
        if not key or len(key) > MAX_KEY_LENGTH or not key.isascii():
            raise exceptions.AuthenticationFailed("Invalid API key.")
        try:
            # order_by(): no ORDER BY (Device's default ordering would join and sort for nothing).
            device = Device.objects.select_related("event").order_by().get(key_hash=hash_api_key(key))
        except Device.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        if not device.is_active or device.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        now = timezone.now()
        if device.last_seen_at is None or now - device.last_seen_at >= LAST_SEEN_RESOLUTION:
            Device.objects.filter(pk=device.pk).update(last_seen_at=now)
            device.last_seen_at = now
        return DevicePrincipal(device), device

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (with this challenge) rather than 403 to a missing key.
        return self.keyword

    def _key_from_headers(self, request) -> str | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            scheme, _, credentials = header.partition(" ")
            if scheme.lower() == self.keyword.lower():
                return credentials.strip()
        explicit = request.META.get("HTTP_X_API_KEY")
        if explicit is not None:
            return explicit.strip()
        return None


class IsGateDevice(permissions.BasePermission):
    """Only an authenticated gate device; a logged-in person or another kind of key is refused."""

    message = "A gate-device API key is required."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Device)


class DeviceApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = DeviceApiKeyAuthentication
    name = "DeviceApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>` (a gate-device key from `manage.py create_device_key`); "
            "`X-Api-Key: <key>` is accepted too.",
        }

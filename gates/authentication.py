"""Gate-device authentication for DRF: `Authorization: Api-Key <key>` or `X-Api-Key: <key>`.

One indexed lookup by the key's HMAC (gates.api_keys), with the device's event joined in, so
the check-in path needs no further query to know the event and its rules. The answer is kept
in this process for GATE_DEVICE_CACHE_SECONDS (default 5): a busy gate then pays no query at
all for authentication, and a revoked key — or a change to the event's check-in rules — takes
effect on every server within that many seconds. (In-process on purpose: a Redis call here
would make Redis an outage point of check-in.) A device is not a user: gate endpoints accept
devices only (see IsGateDevice), and device keys reach nothing else.
"""

import threading
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from gates.api_keys import KEY_PREFIX, hash_api_key
from gates.models import Device

# last_seen_at is written at most this often per device, so a busy gate costs no extra write
# per scan (the admin only needs "seen a minute ago", not every request).
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
MAX_KEY_LENGTH = 200
CACHE_MAX_ENTRIES = 4096

HOW_TO_SEND = 'Send the device key as "Authorization: Api-Key <key>" or "X-Api-Key: <key>".'

_cache: dict[str, tuple[float, Device]] = {}
_cache_lock = threading.Lock()


def _cached_device(key_hash: str) -> Device | None:
    ttl = getattr(settings, "GATE_DEVICE_CACHE_SECONDS", 5)
    now = time.monotonic()
    hit = _cache.get(key_hash)
    if hit is not None and hit[0] > now:
        return hit[1]
    # order_by(): no ORDER BY (Device's default ordering would join and sort for nothing).
    device = Device.objects.select_related("event").order_by().filter(key_hash=key_hash).first()
    if device is not None and ttl > 0:
        with _cache_lock:
            if len(_cache) >= CACHE_MAX_ENTRIES:
                _cache.clear()
            _cache[key_hash] = (now + ttl, device)
    return device


def forget_cached_devices() -> None:
    """Drop what this process remembers (tests; a shell after revoking many keys)."""
    with _cache_lock:
        _cache.clear()


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


class AuthenticationSchemeError(exceptions.AuthenticationFailed):
    """A device key in the Authorization header without the `Api-Key` scheme (bare, or as Bearer)."""

    default_code = "authentication_scheme"
    error_code = "authentication_scheme"  # the API's stable `code` (events.api_errors.exception_handler)


class DeviceApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        key = self._key_from_headers(request)
        if key is None:
            return None
        if not key or len(key) > MAX_KEY_LENGTH or not key.isascii():
            raise exceptions.AuthenticationFailed("Invalid API key.")
        device = _cached_device(hash_api_key(key))
        if device is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
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
        if header and _is_device_key_without_scheme(header):
            # Not accepted (a key must say what it is), but explained: the usual slip of a new integrator.
            raise AuthenticationSchemeError(f'The device key was sent without the "{self.keyword}" scheme. {HOW_TO_SEND}')
        return None


def _is_device_key_without_scheme(header: str) -> bool:
    """`Authorization: <key>` or `Authorization: <another scheme> ghd_…`; other schemes' credentials
    (a proxy's Basic, say) are left alone for whichever authentication they are meant for."""
    scheme, _, credentials = header.strip().partition(" ")
    return not credentials.strip() or scheme.startswith(KEY_PREFIX) or credentials.strip().startswith(KEY_PREFIX)


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

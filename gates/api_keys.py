"""Device API keys: random secrets, stored only as a keyed hash (HMAC-SHA256).

A password hasher costs ~200 ms per request; an HMAC with a server-side secret costs
microseconds and is as safe for 256-bit random keys, which cannot be brute-forced.
"""

import hashlib
import hmac
import secrets

from django.conf import settings

KEY_PREFIX = "ghd_"


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hmac.new(settings.API_KEY_HASH_SECRET.encode(), key.encode(), hashlib.sha256).hexdigest()


def display_prefix(key: str) -> str:
    return key[: len(KEY_PREFIX) + 6]

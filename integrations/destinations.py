"""Where webhooks may be sent: the SSRF guard and the HTTP session that enforces it.

A webhook URL is chosen by an organiser, so without a guard Gatehouse could be made to POST to
its own Redis, the cloud metadata service or anything else on the private network. The URL is
checked when an endpoint is saved, and again on every connection: the guarded connection
resolves the host itself, refuses if any address is not public, and connects to the address it
checked — so a DNS answer that changes between save and send (DNS rebinding) cannot slip
through. `settings.WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS` lifts the address check (tests, local
development with a receiver on localhost).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

ALLOWED_SCHEMES = ("http", "https")


class DestinationRefused(Exception):
    """The destination resolves to an address webhooks must not reach."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified
    )


def resolve_public_addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, or DestinationRefused if it cannot be resolved or any is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DestinationRefused(f"{host} does not resolve") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if settings.WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS:
        return addresses
    refused = [address for address in addresses if not is_public_address(address)]
    if refused or not addresses:
        # All or nothing: a host with one private answer is a rebinding trap, not a fallback.
        raise DestinationRefused(f"{host} resolves to a non-public address ({', '.join(refused)})")
    return addresses


def validate_webhook_url(url: str) -> None:
    """Model/form validator: a well-formed http(s) URL whose host resolves to public addresses only."""
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES or not parts.hostname:
        raise ValidationError("Use an http:// or https:// URL with a host name.", code="invalid_scheme")
    if parts.username or parts.password:
        raise ValidationError(
            "Credentials in the URL are not allowed; the signature authenticates Gatehouse.", code="credentials"
        )
    try:
        resolve_public_addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except DestinationRefused as exc:
        raise ValidationError(f"This destination is not allowed: {exc}.", code="destination_refused") from exc


class _GuardedConnectionMixin:
    def _new_conn(self):
        # `_dns_host` is what urllib3 connects to: point it at the checked address for the
        # connect only, so the Host header, TLS SNI and certificate check keep the name.
        name = self._dns_host
        self._dns_host = resolve_public_addresses(name, self.port)[0]
        try:
            return super()._new_conn()
        finally:
            self._dns_host = name


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPConnectionPool, "https": _GuardedHTTPSConnectionPool}


def guarded_session() -> requests.Session:
    """A requests session that connects only to allowed addresses and ignores proxy variables."""
    session = requests.Session()
    # A proxy from the environment would resolve the host itself, around the guard.
    session.trust_env = False
    adapter = _GuardedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session

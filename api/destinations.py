"""Where webhooks may go: public addresses only (no SSRF into the private network).

A merchant types the URL, so a URL naming ``localhost``, ``10.x``, ``169.254.169.254``
(cloud metadata) or any other private, loopback, link-local or reserved address would
let them make our servers call inside our network. The host is resolved when the
endpoint is registered and again before every delivery (DNS can change in between).
``WEBHOOK_ALLOW_PRIVATE`` (on in development and tests) lifts the rule.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class ForbiddenDestination(ValueError):
    """The URL's host is not a public address; ``str(exc)`` says why."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def destination_check(url: str) -> None:
    """Raise ``ForbiddenDestination`` unless every address of the URL's host is public."""
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise ForbiddenDestination("Use an http:// or https:// URL with a host name.")
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise ForbiddenDestination(f"The host {host} does not resolve.") from None
    addresses = {str(info[4][0]) for info in infos}
    private = sorted(a for a in addresses if not _is_public(a))
    if private:
        raise ForbiddenDestination(
            f"The host {host} points to a private or reserved address ({private[0]}); "
            "webhooks go to public addresses only."
        )

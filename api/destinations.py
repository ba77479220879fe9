"""Where webhooks may go: public addresses only (no SSRF into the private network).

A merchant types the URL, so a URL naming ``localhost``, ``10.x``, ``169.254.169.254``
(cloud metadata) or any other private, loopback, link-local or reserved address would
let them make our servers call inside our network. IPv6 forms that carry an IPv4
address (mapped, compatible, 6to4, NAT64, Teredo) are judged by the IPv4 inside. The
host is resolved when the endpoint is registered and before every delivery, and the
delivery connects to exactly the address that was checked (``Destination.address``), so
a name that re-resolves elsewhere in between (DNS rebinding) cannot redirect it.
``WEBHOOK_ALLOW_PRIVATE`` (on in development and tests) lifts the address rule only.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class ForbiddenDestination(ValueError):
    """The URL's host is not a public address; ``str(exc)`` says why."""


@dataclass(frozen=True)
class Destination:
    """A checked webhook URL: where to connect, and what to say the host is."""

    scheme: str
    host: str
    port: int
    #: The resolved address that passed the check; the delivery connects to it.
    address: str
    #: Path and query to request.
    target: str

    @property
    def host_header(self) -> str:
        """The Host header of the request (the name, with a non-default port)."""
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64, Teredo client,
    IPv4-compatible), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in network for network in _NAT64) or (
        ip in _IPV4_COMPATIBLE and int(ip) > 1  # not :: or ::1, judged as themselves
    ):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_is_public(address: str) -> bool:
    """Whether a webhook may connect to ``address``: global unicast, and so is any IPv4
    address it carries."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:
            candidates.append(inner)
    return all(c.is_global and not c.is_multicast for c in candidates)


def _url_parts(url: str) -> tuple[SplitResult, str, int]:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ForbiddenDestination("The URL has an impossible port.") from None
    if parts.scheme not in ("http", "https") or not host or not 0 < port < 65536:
        raise ForbiddenDestination("Use an http:// or https:// URL with a host name.")
    return parts, host, port


def destination_resolve(url: str) -> Destination:
    """Check a webhook URL and resolve it once; raise ``ForbiddenDestination`` unless it
    is a well-formed http(s) URL whose every address is public."""
    parts, host, port = _url_parts(url)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise ForbiddenDestination(f"The host {host} does not resolve.") from None
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise ForbiddenDestination(f"The host {host} does not resolve.")
    private = [a for a in addresses if not address_is_public(a)]
    if private and not settings.WEBHOOK_ALLOW_PRIVATE:
        raise ForbiddenDestination(
            f"The host {host} points to a private or reserved address ({private[0]}); "
            "webhooks go to public addresses only."
        )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(parts.scheme, host, port, addresses[0], target)


def destination_check(url: str) -> None:
    """Raise ``ForbiddenDestination`` unless the URL may receive webhooks (where private
    addresses are allowed, only its form is checked: a development name need not
    resolve yet)."""
    if settings.WEBHOOK_ALLOW_PRIVATE:
        _url_parts(url)
    else:
        destination_resolve(url)

"""Webhook signatures: HMAC-SHA256 over ``"{timestamp}.{body}"`` with the endpoint secret.

Header ``RefundGuard-Signature: t=<unix seconds>,v1=<hex digest>``. A receiver recomputes
the digest over the raw body, compares in constant time, and rejects timestamps older
than a few minutes (replays). Pure functions, no Django.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

HEADER = "RefundGuard-Signature"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """A fresh endpoint secret (shown to the merchant, who stores it)."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """Hex HMAC-SHA256 of ``"{timestamp}.{body}"``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value to send with ``body``."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={signature(secret, body, ts)}"


def verify(
    secret: str, body: bytes, header: str, *, now: float | None = None, tolerance: int = 300
) -> bool:
    """What a receiver does: parse the header, check freshness and the digest."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        ts = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    return hmac.compare_digest(given, signature(secret, body, ts))

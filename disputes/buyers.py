"""A buyer's identity across disputes: the platform plus the buyer id, normalised, and a
keyed hash of it used for matching (the repeat-claimant rule is in
``forensics.signals``).

The hash (HMAC-SHA256 under ``REFUNDGUARD_BUYER_KEY``) lets disputes of every merchant be
counted per buyer without comparing the raw ids people typed, and without a bare SHA-256
anyone could reverse by hashing guessed ids. Pure: no database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

_SPACE = re.compile(r"\s+")


def buyer_ref_normalise(buyer_ref: str) -> str:
    """The buyer id as compared: NFKC (full-width letters and digits become plain ones),
    case-folded, with no whitespace — "ＴＢ_Buyer 88" and "tb_buyer88" are one buyer."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", buyer_ref)).casefold()


def buyer_key(*, platform: str, buyer_ref: str, secret: str) -> str:
    """The keyed hash that identifies a buyer on a platform; empty without a buyer id."""
    normalised = buyer_ref_normalise(buyer_ref)
    if not normalised:
        return ""
    message = f"{platform}:{normalised}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()

"""The plain facts an evidence pack is made of: the files it may carry and the case its
JSON files describe. Dataclasses and pure helpers only — no Django, no database — so the
caps (``packs.limits``), the ZIP and its check (``packs.archive``, ``verify_pack``) run on
them alone; ``packs.contents`` fills them from the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

#: Payment processors' dispute-evidence vocabulary (Stripe's field names, which most
#: merchants have filled in before): what each file or text answers.
PRODUCT_DESCRIPTION = "product_description"
SHIPPING_DOCUMENTATION = "shipping_documentation"
CUSTOMER_COMMUNICATION = "customer_communication"
UNCATEGORIZED_FILE = "uncategorized_file"
UNCATEGORIZED_TEXT = "uncategorized_text"

_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def zip_safe(name: str, *, fallback: str = "file") -> str:
    """A file name safe inside a ZIP on every system (no paths, no odd characters)."""
    cleaned = _UNSAFE.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip("._")
    return cleaned[:120] or fallback


@dataclass(frozen=True)
class PackFile:
    """One file the pack may carry: where it is stored, where it goes in the ZIP, its
    recorded hash, and which evidence field it answers."""

    path: str
    storage_name: str
    sha256: str
    size: int
    category: str
    description: str
    uploaded_at: datetime | None = None
    uploaded_by: str = ""
    #: Originals must match the SHA-256 recorded at upload; derived files are re-made.
    original: bool = True
    #: Lower is more important: what the caps keep first.
    priority: int = 50


@dataclass(frozen=True)
class PackCase:
    """The dispute as the pack's ``evidence.json`` and ``manifest.json`` describe it
    (stored values, not display labels: the arbitrator's tools read them)."""

    platform: str
    external_id: str
    order_ref: str
    buyer_ref: str
    claim_type: str
    #: The buyer's reason, as the platform passed it on.
    reason: str
    #: The amount as an exact decimal string (``"9.90"``), never a float.
    amount: str
    currency: str
    status: str
    opened_at: datetime | None = None
    respond_by: datetime | None = None
    risk_level: str = ""
    risk_score: float | None = None
    merchant_statement: str = ""
    #: ``"SKU — title"`` of the disputed product; empty when the dispute names none.
    product: str = ""
    #: The top reason of each claim photo, ``"photo name: sentence"``, riskiest first.
    reasons: tuple[str, ...] = ()

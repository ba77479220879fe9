"""Database ids typed by people or sent in URLs."""

from __future__ import annotations

#: The largest primary key the database can hold (a bigger id is simply unknown).
MAX_ID = 2**63 - 1


def database_id(value: str | None) -> int | None:
    """A positive database id from text, or None (garbage, zero, negative, or beyond a
    64-bit key, which the database driver would refuse with an error, not a miss)."""
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number is not None and 0 < number <= MAX_ID else None

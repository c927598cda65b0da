"""Times are stored in UTC and shown in China Standard Time (UTC+8, no daylight saving)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")


def to_utc(value: datetime) -> datetime:
    """UTC for storage; a naive time is taken as Beijing time, as users write it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=CST)
    return value.astimezone(UTC)


def to_local(value: datetime) -> datetime:
    """Beijing time for display (a naive value is UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CST)


def as_utc(value: datetime) -> datetime:
    """An aware UTC time; a naive value is UTC already (never the machine's own zone)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

"""Optimistic concurrency: a read-modify-write that lost a race is read and tried again, a few times."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from governance.errors import ConcurrencyConflict

T = TypeVar("T")
ATTEMPTS: Final = 3


async def retry_on_conflict(
    attempt: Callable[[], Awaitable[T]], *, attempts: int = ATTEMPTS, gave_up: str = "The record kept changing."
) -> T:
    """Run ``attempt`` (which reads, then writes conditionally) until it does not raise ConcurrencyConflict
    (AlreadyExists included); after ``attempts`` conflicts raise ConcurrencyConflict(``gave_up``)."""
    for _ in range(attempts):
        try:
            return await attempt()
        except ConcurrencyConflict:
            continue
    raise ConcurrencyConflict(gave_up)

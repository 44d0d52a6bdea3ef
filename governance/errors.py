"""Named failures. The edges (bot, REST API) turn each into a friendly sentence or a JSON error."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governance.model import MetricReading


class GovernanceError(Exception):
    """Base class for every failure the domain or its storage reports on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(GovernanceError):
    """Input broke one or more rules; ``fields`` maps each field to its problem."""

    code = "validation_failed"

    def __init__(self, fields: dict[str, str], message: str = "Some values need fixing.") -> None:
        super().__init__(message)
        self.fields = dict(fields)


class PilotNotFound(GovernanceError):
    code = "pilot_not_found"

    def __init__(self, name_or_id: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(f"No pilot named {name_or_id!r}.")
        self.name_or_id = name_or_id
        self.suggestions = suggestions


class AmbiguousPilot(GovernanceError):
    code = "ambiguous_pilot"

    def __init__(self, query: str, candidates: tuple[str, ...]) -> None:
        super().__init__(f"Several pilots match {query!r}.")
        self.query = query
        self.candidates = candidates


class NotPilotOwner(GovernanceError):
    code = "forbidden"

    def __init__(self, action: str = "change this pilot", *, lead_too: bool = False) -> None:
        who = (
            "the pilot's sponsor, its lead or a governance admin"
            if lead_too
            else "the pilot's sponsor or a governance admin"
        )
        super().__init__(f"Only {who} can {action}.")


class GateAlreadyDecided(GovernanceError):
    code = "already_decided"


class CheckinAnswered(GovernanceError):
    """A month whose reading is in cannot be skipped or postponed."""

    code = "already_answered"

    def __init__(self, month: str) -> None:
        super().__init__(f"The check-in for {month} is already answered, so there is nothing to skip or postpone.")


class CheckinSkipped(GovernanceError):
    """A skipped month asks for nothing more, so it has no reminder to postpone."""

    code = "already_skipped"

    def __init__(self, month: str, reason: str) -> None:
        super().__init__(f"The check-in for {month} was skipped ({reason}), so no reminder will come.")


class DuplicatePilot(GovernanceError):
    code = "duplicate_pilot"

    def __init__(self, name: str) -> None:
        super().__init__(f"A pilot named {name!r} already exists.")
        self.name = name


class ConcurrencyConflict(GovernanceError):
    """Someone else changed the record since it was read (stale ETag) or created it first."""

    code = "conflict"


class AlreadyExists(ConcurrencyConflict):
    code = "already_exists"


class RecordNotFound(GovernanceError):
    code = "not_found"


class StorageUnavailable(GovernanceError):
    """The store could not be reached or answered with an error; nothing was written."""

    code = "storage_unavailable"


class Undeliverable(GovernanceError):
    """Teams refused the message for good (403: the bot was blocked or removed); do not retry."""

    code = "undeliverable"


class DeliveryFailed(GovernanceError):
    """The message could not be delivered now (throttled, Teams unavailable); it stays due for the next sweep."""

    code = "delivery_failed"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AdminsOnly(GovernanceError):
    """Only a governance admin (ADMIN_USERS) may do this."""

    code = "forbidden"

    def __init__(self, action: str) -> None:
        super().__init__(f"Only a governance admin can {action}.")


class ReadingChanged(GovernanceError):
    """A month's reading changed since the card that asked to change it was built (another submit or correction
    won): nothing was saved; ``current`` is the reading as it now stands, None when it is gone."""

    code = "reading_changed"

    def __init__(self, current: MetricReading | None) -> None:
        super().__init__("The readings for this month changed meanwhile; nothing was saved. Review and try again.")
        self.current = current

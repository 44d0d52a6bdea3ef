"""Named failures. The edges (bot, REST API) turn each into a friendly sentence or a JSON error."""

from __future__ import annotations


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

    def __init__(self, action: str = "change this pilot") -> None:
        super().__init__(f"Only the pilot's sponsor or a governance admin can {action}.")


class GateAlreadyDecided(GovernanceError):
    code = "already_decided"


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

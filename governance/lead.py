"""A pilot lead: who gets the monthly check-in, who may answer it, and which readings the sponsor confirms.

A pilot may name a lead (``Pilot.lead``), e.g. the chief of staff who holds the numbers. ``checkin_recipient`` says
who gets the check-in card and its reminder: the sponsor (default), both, or the lead instead of the sponsor. The
sponsor, the lead and governance admins may answer it (``may_answer_checkin``); only the sponsor and admins change
the pilot or decide its gate (``governance.services.may_change``). A reading the lead wrote counts at once and waits
for the sponsor's confirmation (``needs_confirmation``), which the sweep asks for once per version of the values
(``confirm_log_key``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final, Literal

from governance.model import CheckinRecipient, MetricReading, Person, Pilot

Audience = Literal["sponsor", "lead"]
SPONSOR: Final[Audience] = "sponsor"
LEAD: Final[Audience] = "lead"


def _same(person_id: str, other: Person | None) -> bool:
    return other is not None and bool(person_id) and person_id.lower() == other.aad_object_id.lower()


def is_lead(pilot: Pilot, person_id: str) -> bool:
    return _same(person_id, pilot.lead)


def may_answer_checkin(pilot: Pilot, person_id: str, admins: Collection[str]) -> bool:
    """Whether ``person_id`` (an Entra object id) may answer or correct the pilot's check-ins: the sponsor, the lead,
    or a governance admin (``admins``: their object ids, lower case)."""
    if not person_id:
        return False
    return _same(person_id, pilot.sponsor) or is_lead(pilot, person_id) or person_id.lower() in admins


def checkin_audiences(pilot: Pilot) -> tuple[Audience, ...]:
    """Who gets the check-in card and its reminder, the one accountable first. Without a lead: the sponsor."""
    if pilot.lead is None or pilot.checkin_recipient is CheckinRecipient.SPONSOR:
        return (SPONSOR,)
    if pilot.checkin_recipient is CheckinRecipient.LEAD:
        return (LEAD,)
    return (SPONSOR, LEAD)


def needs_confirmation(pilot: Pilot, reading: MetricReading) -> bool:
    """The lead wrote these values (submitted, or corrected last) and the sponsor has not confirmed them yet."""
    return reading.confirmed_at is None and is_lead(pilot, reading.changed_by.aad_object_id)


def confirm_log_key(reading: MetricReading) -> str:
    """The send-log key of the sponsor's confirmation card for these values: a new correction by the lead asks
    again. (The stamp is hex: Cosmos DB ids may not contain ``/``.)"""
    return f"confirm:{reading.period}:{reading.stamp}"


def lead_problems(sponsor: Person, lead: Person | None, recipient: CheckinRecipient) -> dict[str, str]:
    """The lead and the check-in recipient, checked by field (as governance.rules does)."""
    errors: dict[str, str] = {}
    if lead is not None and not lead.aad_object_id:
        errors["lead"] = "Choose the lead, or leave it empty."
    elif lead is not None and _same(lead.aad_object_id, sponsor):
        errors["lead"] = "The lead is someone other than the sponsor: leave it empty if the sponsor answers."
    if recipient is not CheckinRecipient.SPONSOR and lead is None:
        errors["checkinRecipient"] = "Name a lead first: check-ins can only go to a lead the pilot has."
    return errors

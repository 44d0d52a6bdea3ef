"""The lead's and the corrections' rules, and their services on the in-memory store: who answers and who decides,
who gets the check-in, which months can be corrected, and corrections that lost a race write nothing."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from governance.corrections import correctable_periods, correction_problem
from governance.decisions import DecisionDraft
from governance.errors import NotPilotOwner, ReadingChanged, ValidationFailed
from governance.lead import checkin_audiences, confirm_log_key, may_answer_checkin, needs_confirmation
from governance.model import CheckinRecipient, DecisionKind, HealthStatus, MetricReading, Person, Pilot, ReadingSource
from governance.period import Period
from governance.rules import ReadingDraft, validate_pilot
from governance.services import Actor, PilotService
from storage.repositories import DocumentReadingRepository, Repositories
from tests.fakes import FixedClock
from tests.unit.test_services_on_memory import REGISTERED, SPONSOR, TENANT, draft, repos, service

__all__ = ["repos"]  # the fixture, used by name

LEAD = Actor("aad-lead", "Lee Lead")
ADMIN = Actor("aad-admin", "Ada Admin", is_admin=True)
OCTOBER = Period(2026, 10)
DECEMBER_10 = datetime(2026, 12, 10, 12, tzinfo=UTC)


def reading(value: float = 40.0) -> ReadingDraft:
    return ReadingDraft(OCTOBER, {"Handling time": value}, HealthStatus.AMBER)


# --- rules --------------------------------------------------------------------------------------------------------
def test_the_sponsor_the_lead_and_admins_may_answer_nobody_else() -> None:
    pilot = dataclasses.replace(_pilot(), lead=LEAD.person)
    assert may_answer_checkin(pilot, "AAD-SPONSOR", ())
    assert may_answer_checkin(pilot, "aad-lead", ())
    assert may_answer_checkin(pilot, "aad-admin", {"aad-admin"})
    assert not may_answer_checkin(pilot, "aad-other", {"aad-admin"})
    assert not may_answer_checkin(pilot, "", ())
    assert not may_answer_checkin(dataclasses.replace(pilot, lead=None), "aad-lead", ())


def test_who_gets_the_checkin() -> None:
    pilot = _pilot()
    assert checkin_audiences(pilot) == ("sponsor",)
    led = dataclasses.replace(pilot, lead=LEAD.person)
    assert checkin_audiences(led) == ("sponsor",)
    assert checkin_audiences(dataclasses.replace(led, checkin_recipient=CheckinRecipient.BOTH)) == ("sponsor", "lead")
    assert checkin_audiences(dataclasses.replace(led, checkin_recipient=CheckinRecipient.LEAD)) == ("lead",)


def test_a_lead_must_be_someone_else_and_exist_before_check_ins_go_to_them() -> None:
    with pytest.raises(ValidationFailed) as same:
        validate_pilot(draft(lead=Person("AAD-SPONSOR", "Sam")))
    assert "lead" in same.value.fields
    with pytest.raises(ValidationFailed) as missing:
        validate_pilot(draft(checkin_recipient=CheckinRecipient.LEAD))
    assert set(missing.value.fields) == {"checkinRecipient"}
    validate_pilot(draft(lead=LEAD.person, checkin_recipient=CheckinRecipient.BOTH))


def test_the_last_three_months_from_the_start_month_can_be_corrected() -> None:
    pilot = _pilot()  # started 1 September 2026
    assert correctable_periods(pilot, date(2026, 12, 1)) == (Period(2026, 11), OCTOBER, Period(2026, 9))
    assert correctable_periods(pilot, date(2026, 10, 15)) == (Period(2026, 9),)
    assert correctable_periods(pilot, date(2027, 2, 28)) == (Period(2027, 1), Period(2026, 12), Period(2026, 11))
    assert correction_problem(pilot, OCTOBER, date(2027, 2, 1)) == (
        "Only the last 3 months can be corrected; 2026-10 is older."
    )
    assert "has not ended yet" in (correction_problem(pilot, Period(2026, 12), date(2026, 12, 10)) or "")
    assert "started in 2026-09" in (correction_problem(pilot, Period(2026, 8), date(2026, 10, 1)) or "")


def test_only_the_leads_own_values_wait_for_confirmation_each_version_once() -> None:
    pilot = dataclasses.replace(_pilot(), lead=LEAD.person)
    sent = MetricReading("p", TENANT, OCTOBER, {}, HealthStatus.GREEN, LEAD.person, REGISTERED)
    assert needs_confirmation(pilot, sent)
    assert not needs_confirmation(pilot, dataclasses.replace(sent, confirmed_at=REGISTERED))
    fixed = dataclasses.replace(sent, corrected_by=SPONSOR.person, corrected_at=DECEMBER_10)
    assert not needs_confirmation(pilot, fixed)
    assert not needs_confirmation(pilot, dataclasses.replace(sent, submitted_by=SPONSOR.person))
    again = dataclasses.replace(sent, corrected_by=LEAD.person, corrected_at=DECEMBER_10)
    assert needs_confirmation(pilot, again) and confirm_log_key(again) != confirm_log_key(sent)
    assert "/" not in confirm_log_key(again)


# --- services -----------------------------------------------------------------------------------------------------
async def test_the_lead_answers_and_corrects_but_may_not_decide_or_confirm(repos: Repositories) -> None:
    clock = FixedClock(REGISTERED)
    pilots = service(repos, clock)
    pilot = await pilots.register(draft(lead=LEAD.person), TENANT, SPONSOR)
    stored = await pilots.record_reading(pilot.id, reading(), LEAD, ReadingSource.TEAMS)
    assert stored.submitted_by == LEAD.person
    clock.set(DECEMBER_10)
    fixed = await pilots.correct_reading(pilot.id, reading(38), stored.stamp, LEAD)
    assert fixed.corrected_by == LEAD.person and fixed.values == {"Handling time": 38}
    with pytest.raises(NotPilotOwner):
        await pilots.confirm_reading(pilot.id, OCTOBER, fixed.stamp, LEAD)
    go = DecisionDraft(DecisionKind.GO, "Target met", expansion_scope="All", expansion_date=date(2027, 1, 4))
    with pytest.raises(NotPilotOwner):
        await pilots.decide(pilot.id, TENANT, pilot.gate_date, go, LEAD)
    with pytest.raises(NotPilotOwner):
        await pilots.update(pilot.id, {"name": "Mine now"}, LEAD)
    confirmed = await pilots.confirm_reading(pilot.id, OCTOBER, fixed.stamp, SPONSOR)
    assert confirmed.confirmed_by == SPONSOR.person
    actions = [(e.action, e.actor) for e in await repos.audit.list_for(pilot.id) if e.action.startswith("reading.")]
    assert actions == [
        ("reading.recorded", LEAD.aad_object_id),
        ("reading.corrected", LEAD.aad_object_id),
        ("reading.confirmed", SPONSOR.aad_object_id),
    ]


class StaleFirstRead(DocumentReadingRepository):
    """A reading repository whose first read answers from before another request stored the month: the state a
    correction sees when a check-in submit writes between its read and its write."""

    def __init__(self, repos: Repositories, stale: MetricReading | None) -> None:
        super().__init__(repos.store, repos.summaries)
        self._stale: list[MetricReading | None] = [stale]

    async def get(self, pilot_id: str, period: Period) -> MetricReading | None:
        if self._stale:
            return self._stale.pop()
        return await super().get(pilot_id, period)


async def test_a_correction_that_read_before_a_submit_is_refused_by_the_etag(repos: Repositories) -> None:
    clock = FixedClock(REGISTERED)
    pilot = await service(repos, clock).register(draft(lead=LEAD.person), TENANT, SPONSOR)
    clock.set(DECEMBER_10)
    # The month had no reading when the sponsor's form was built, and still none when the correction read it; the
    # lead's check-in landed in between: the correction's create is refused, re-read, and reported.
    first = await service(repos, clock).record_reading(pilot.id, reading(41), LEAD, ReadingSource.TEAMS)
    racing = _service_with(repos, clock, StaleFirstRead(repos, None))
    with pytest.raises(ReadingChanged) as lost:
        await racing.correct_reading(pilot.id, reading(38), "", SPONSOR)
    assert lost.value.current is not None and lost.value.current.values == {"Handling time": 41}
    # Replacing: the correction read the lead's values, then the lead corrected them again before its write.
    second = await service(repos, clock).correct_reading(pilot.id, reading(39), first.stamp, LEAD)
    racing = _service_with(repos, clock, StaleFirstRead(repos, first))
    with pytest.raises(ReadingChanged):
        await racing.correct_reading(pilot.id, reading(38), first.stamp, SPONSOR)
    now = await repos.readings.get(pilot.id, OCTOBER)
    assert now is not None and now.values == {"Handling time": 39} and now.stamp == second.stamp


async def test_corrections_go_through_the_checkin_validation_and_its_window(repos: Repositories) -> None:
    clock = FixedClock(REGISTERED)
    pilots = service(repos, clock)
    pilot = await pilots.register(draft(), TENANT, SPONSOR)
    stored = await pilots.record_reading(pilot.id, reading(), SPONSOR, ReadingSource.TEAMS)
    clock.set(DECEMBER_10)
    bad = ReadingDraft(OCTOBER, {"Unknown metric": 1.0}, HealthStatus.AMBER)
    with pytest.raises(ValidationFailed) as failed:
        await pilots.correct_reading(pilot.id, bad, stored.stamp, SPONSOR)
    assert "values.Unknown metric" in failed.value.fields
    clock.set(datetime(2027, 2, 1, 12, tzinfo=UTC))
    with pytest.raises(ValidationFailed) as late:
        await pilots.correct_reading(pilot.id, reading(38), stored.stamp, ADMIN)
    assert "period" in late.value.fields
    unchanged = await repos.readings.get(pilot.id, OCTOBER)
    assert unchanged is not None and unchanged.values == {"Handling time": 40.0} and not unchanged.corrected


def _pilot() -> Pilot:
    d = draft()
    start = d.start_date or date(2026, 9, 1)
    return Pilot("p", TENANT, d.name, d.sponsor, d.metrics, start, d.gate_date or date(2026, 11, 30))


def _service_with(repos: Repositories, clock: FixedClock, readings: DocumentReadingRepository) -> PilotService:
    return PilotService(repos.pilots, readings, repos.decisions, repos.audit, clock, repos.agenda)

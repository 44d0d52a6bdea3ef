"""governance.drafts: when a draft's sponsor is asked for the rest (weekly, business days, 09:00 local)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from governance.drafts import draft_log_key, draft_nudge
from governance.model import Person, Stage
from tests.cards.test_cards import make_pilot

SATURDAY_NOON = datetime(2026, 11, 28, 12, tzinfo=UTC)
MONDAY_9 = datetime(2026, 11, 30, 9, tzinfo=UTC)


def test_a_draft_registered_on_a_saturday_is_first_asked_on_monday_at_nine() -> None:
    pilot = make_pilot(stage=Stage.DRAFT, metrics=(), created_at=SATURDAY_NOON)
    assert draft_nudge(pilot, SATURDAY_NOON).due_key is None
    assert draft_nudge(pilot, SATURDAY_NOON).next_at == MONDAY_9
    monday = draft_nudge(pilot, MONDAY_9)
    assert monday.due_key == "draft:2026-W49" and monday.next_at == datetime(2026, 12, 7, 9, tzinfo=UTC)
    # Later that week (the sweep was down on Monday) it is still that week's one card.
    assert draft_nudge(pilot, datetime(2026, 12, 2, 15, tzinfo=UTC)).due_key == "draft:2026-W49"


def test_the_week_starts_at_nine_in_the_drafts_time_zone() -> None:
    pilot = make_pilot(stage=Stage.DRAFT, metrics=(), created_at=SATURDAY_NOON, timezone="America/New_York")
    assert draft_nudge(pilot, MONDAY_9).due_key is None  # 04:00 in New York: still Sunday's work
    assert draft_nudge(pilot, MONDAY_9).next_at == datetime(2026, 11, 30, 14, tzinfo=UTC)


def test_pilots_and_drafts_without_a_known_sponsor_are_never_asked() -> None:
    assert draft_nudge(make_pilot(created_at=SATURDAY_NOON), MONDAY_9) == draft_nudge(make_pilot(), MONDAY_9)
    assert draft_nudge(make_pilot(), MONDAY_9).next_at is None
    unresolved = make_pilot(stage=Stage.DRAFT, metrics=(), sponsor=Person(""), sponsor_email="x@contoso.example")
    assert draft_nudge(unresolved, MONDAY_9).next_at is None
    assert draft_nudge(replace(unresolved, stage=Stage.PILOT), MONDAY_9).due_key is None


def test_the_log_key_is_the_iso_week() -> None:
    assert draft_log_key(datetime(2027, 1, 1).date()) == "draft:2026-W53"

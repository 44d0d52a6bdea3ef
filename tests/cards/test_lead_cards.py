"""The lead's and the corrections' cards: the sponsor's Confirm/Correct card, the correction form (first shown, with
errors, after losing a race), and "(corrected)" on the status and gate cards."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from cards.checkin import (
    BASED_ON_FIELD,
    CORRECT_PERIOD_INPUT,
    checkin_summary_card,
    correction_card,
    overdue_channel_card,
    reading_values,
)
from cards.lead import confirmation_card, confirmed_card
from cards.status import status_card
from cards.text import card_json
from cards.verbs import CORRECTION_SUBMIT, READING_CONFIRM, READING_CORRECT
from governance.model import CheckinRecipient, MetricReading, Person
from governance.period import Period
from tests.cards.test_cards import make_pilot, make_readings, shown_text, status_of
from tests.cards.test_checkin_gate_cards import (
    CHECKIN_VALUES,
    MARKUP,
    checkin_errors,
    gate_of,
    worst_pilot_and_reading,
)
from tests.helpers import card_text, inputs, nodes

LEAD = Person("aad-lead-1", "Lee Lead " + MARKUP)
CORRECTED_AT = datetime(2026, 5, 6, 8, tzinfo=UTC)
APRIL = Period(2026, 4)


def by_lead(reading: MetricReading) -> MetricReading:
    return replace(reading, submitted_by=LEAD)


def corrected(reading: MetricReading, value: float = 38.0) -> MetricReading:
    values = {**reading.values, "Handling time": value}
    return replace(reading, values=values, corrected_by=reading.submitted_by, corrected_at=CORRECTED_AT)


def lead_cards() -> dict[str, dict[str, Any]]:
    pilot = make_pilot(lead=LEAD)
    readings = make_readings(pilot, "2026-04", 4)
    last, april = readings[-2], readings[-1]
    fixed = corrected(april)
    status = status_of(pilot, (*readings[:-1], fixed))
    worst, worst_reading = worst_pilot_and_reading()
    return {
        "confirm": card_json(confirmation_card(pilot, by_lead(april))),
        "confirm-changed": card_json(confirmation_card(pilot, corrected(by_lead(april)), "These changed " + MARKUP)),
        "confirm-worst": card_json(confirmation_card(worst.pilot, by_lead(worst_reading))),
        "confirmed": card_json(confirmed_card(pilot, replace(by_lead(april), confirmed_by=pilot.sponsor))),
        "correction": card_json(correction_card(pilot, APRIL, april, last, reading_values(pilot, april), {})),
        "correction-missed-month": card_json(correction_card(pilot, APRIL, None, last, {}, {})),
        "correction-errors": card_json(
            correction_card(pilot, APRIL, fixed, last, CHECKIN_VALUES, checkin_errors(), note="Changed " + MARKUP)
        ),
        "correction-worst": card_json(
            correction_card(
                worst.pilot, worst_reading.period, worst_reading, None, reading_values(worst.pilot, worst_reading), {}
            )
        ),
        "corrected-summary": card_json(checkin_summary_card(pilot, fixed, "Reading corrected")),
        "status-corrected": card_json(status_card(status)),
        "status-awaiting-confirmation": card_json(status_card(status_of(pilot, (*readings[:-1], by_lead(april))))),
        "overdue-lead": card_json(
            overdue_channel_card(replace(pilot, checkin_recipient=CheckinRecipient.LEAD), APRIL, CORRECTED_AT)
        ),
        "gate-corrected": gate_of(status, milestone="t-30"),
    }


def test_the_confirmation_card_shows_who_sent_what_with_confirm_and_correct() -> None:
    card = lead_cards()["confirm"]
    text = card_text(card)
    assert "Confirm the April 2026 readings" in text and "sent the readings for April 2026" in text
    executes = {node["verb"]: node["data"] for node in nodes(card) if node.get("type") == "Action.Execute"}
    assert set(executes) == {READING_CONFIRM, READING_CORRECT}
    assert executes[READING_CONFIRM][BASED_ON_FIELD] == by_lead(make_readings(make_pilot(), "2026-04", 4)[-1]).stamp
    assert executes[READING_CORRECT]["period"] == "2026-04"


def test_the_correction_form_starts_from_the_reading_and_names_what_it_was_built_on() -> None:
    pilot = make_pilot()
    april = make_readings(pilot, "2026-04", 4)[-1]
    card = lead_cards()["correction"]
    fields = inputs(card)
    assert fields["metric_0"]["value"] == april.values["Handling time"]
    assert fields["status"]["value"] == april.status.value
    [save] = [
        node for node in nodes(card) if node.get("type") == "Action.Execute" and node["verb"] == CORRECTION_SUBMIT
    ]
    assert save["data"][BASED_ON_FIELD] == april.stamp and save["data"]["period"] == "2026-04"
    missed = lead_cards()["correction-missed-month"]
    assert "No readings were received for April 2026" in card_text(missed)
    assert [
        n["data"][BASED_ON_FIELD]
        for n in nodes(missed)
        if n.get("type") == "Action.Execute" and n["verb"] == CORRECTION_SUBMIT
    ] == [""]


def test_a_corrected_value_reads_corrected_on_the_status_and_gate_cards() -> None:
    cards = lead_cards()
    assert "Latest 38 min (corrected)" in shown_text(cards["status-corrected"])
    assert "2026-04 Green · 38 min (corrected)" in shown_text(cards["status-corrected"])
    gate = shown_text(cards["gate-corrected"])
    assert "the latest reading (38 min (corrected)) does not yet" in gate
    assert "the latest is for April 2026 (corrected)" in gate


def test_the_status_card_offers_the_last_three_months_to_correct() -> None:
    card = lead_cards()["status-corrected"]
    [picker] = [node for node in nodes(card) if node.get("id") == CORRECT_PERIOD_INPUT]
    # Today is 12 May 2026: April, March and February, the latest first, each with its value.
    assert [c["value"] for c in picker["choices"]] == ["2026-04", "2026-03", "2026-02"]
    assert picker["choices"][0]["title"] == "April 2026: 38 min (corrected)"
    assert READING_CORRECT in {node.get("verb") for node in nodes(card)}


def test_the_status_card_says_what_the_sponsor_has_not_confirmed_and_the_channel_names_who_owes_it() -> None:
    cards = lead_cards()
    assert "Sent by the lead, not yet confirmed by Dana Whitfield: 2026-04." in shown_text(
        cards["status-awaiting-confirmation"]
    )
    assert "not yet confirmed" not in shown_text(cards["status-corrected"])
    assert shown_text(cards["overdue-lead"]).startswith("Check-in overdue: Invoice triage copilot Lee Lead")

"""Check-in and gate cards: the official parser accepts every one, each stays under 28 KB, user text stays literal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from cards.checkin import (
    checkin_card,
    checkin_reminder_text,
    checkin_summary_card,
    checkin_superseded_card,
    input_ids,
    overdue_channel_card,
)
from cards.checkin_holds import checkin_away_card, checkin_skip_card, checkin_skipped_card
from cards.cost_drift import cost_drift_card
from cards.decision import DECISION_INPUTS, decision_errors, decision_summary_text
from cards.gate import render_gate_card
from cards.portfolio import overdue_card
from cards.status import status_card
from cards.submissions import CheckinSubmission, DecisionSubmission, read
from cards.text import MAX_CARD_BYTES, card_json, card_size, plain
from cards.verbs import (
    CHECKIN_AWAY,
    CHECKIN_SKIP,
    CHECKIN_SUBMIT,
    CHECKIN_VIEW,
    GATE_DECIDE,
    GATE_VIEW,
    MAX_REFRESH_USERS,
    PILOT_STATUS,
)
from governance.decisions import apply_decision
from governance.errors import ValidationFailed
from governance.model import (
    CheckinHold,
    DecisionKind,
    Direction,
    GateDecision,
    Metric,
    MetricReading,
    Person,
    Pilot,
    ReadingSource,
    Stage,
)
from governance.period import Period
from governance.projections import CostDrift, DriftKind, cost_drift, project_metric, project_spend
from governance.rules import MAX_TEXT
from governance.views import PilotStatus
from tests.cards.test_cards import (
    EVIL_NAMES,
    SPONSOR,
    TODAY,
    charts,
    decided,
    healthy,
    make_pilot,
    make_readings,
    overdue,
    rendered_texts,
    run_official_parser,
    shown_text,
    siblings_of,
    status_of,
    worst_case_statuses,
)
from tests.helpers import inputs, nodes

ADMIN = Person("aad-admin", "Ada Admin")
NOW = datetime(2026, 5, 12, 10, tzinfo=UTC)  # TODAY, 10:00 UTC
MARKUP = "[x](https://evil) **b** ${t} <i>"
APRIL = Period(2026, 4)
MAY = Period(2026, 5)
FEBRUARY = Period(2026, 2)
# The Teams ids of a sponsor and 74 admins: more than a card's refresh may name.
DECIDER_IDS = tuple(
    f"29:1{'Sponsor' if i == 0 else f'Admin{i:02d}'}-Kx7vB2nQ9wE4rT6yU8iO1pA3sD5fG7hJ9kLzz" for i in range(75)
)


# --- factories -----------------------------------------------------------------------------------------------------
def gate_of(
    status: PilotStatus,
    *,
    milestone: str | None = "t-14",
    enabled: bool = False,
    decider: bool = True,
    refresh_for: Sequence[str] = (),
    decision: GateDecision | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The gate card as someone who may decide sees it (what a refresh answers them); ``decider=False`` is the card
    as posted, which everyone else keeps seeing."""
    pilot = status.pilot
    projection = project_metric(status.primary.trend, pilot.gate_date)
    spend = project_spend(status.readings, pilot.budget_monthly, pilot.start_date, pilot.gate_date)
    card = render_gate_card(
        status,
        projection,
        spend,
        milestone,
        enabled,
        decision,
        values,
        errors,
        may_decide=decider,
        refresh_for=refresh_for,
    )
    return card_json(card)


def gate_day() -> PilotStatus:
    """Today is the gate day."""
    pilot = make_pilot(gate_date=TODAY)
    return status_of(pilot, make_readings(pilot, "2026-04", 4))


def extend_failure() -> tuple[dict[str, str], dict[str, str]]:
    values = {"kind": "extend", "extendRationale": "Need **two** more months", "extendGateDate": "2026-05-01"}
    pilot = gate_day().pilot
    draft = read(DecisionSubmission, {"pilotId": "p-1", "gateDate": "2026-05-12", **values}).to_draft()
    try:
        apply_decision(pilot, draft, False, False, TODAY, SPONSOR, datetime(2026, 5, 12, 9, tzinfo=UTC))
    except ValidationFailed as failed:
        return values, decision_errors(draft.kind, failed.fields)
    raise AssertionError("expected the extension to be refused")


def a_decision(kind: DecisionKind = DecisionKind.EXTEND, rationale: str = "Data arrived late.") -> GateDecision:
    return GateDecision(
        pilot_id="p-1",
        tenant_id="tenant-1",
        gate_date=TODAY,
        kind=kind,
        rationale=rationale,
        decided_by=SPONSOR,
        decided_at=datetime(2026, 5, 12, 14, tzinfo=UTC),
        new_gate_date=date(2026, 8, 1) if kind in (DecisionKind.EXTEND, DecisionKind.NARROW) else None,
        effective_date=date(2026, 6, 30) if kind in (DecisionKind.GO, DecisionKind.RETIRE) else None,
        details={"reason": "Two clean months"} if kind is DecisionKind.EXTEND else {"lessons": MARKUP},
    )


def last_and_current() -> tuple[MetricReading, MetricReading]:
    readings = make_readings(make_pilot(), "2026-04", 2)
    return readings[0], readings[1]


CHECKIN_VALUES = {
    "pilotId": "p-1",
    "period": "2026-04",
    "metric_0": "abc",
    "metric_1": "91.5",
    "status": "",
    "activeUsers": "1,200",
    "spend": "-5",
    "blockers": "Waiting on **legal** [link](http://x)",
    "notes": "",
}


def checkin_errors() -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        read(CheckinSubmission, CHECKIN_VALUES).to_draft(make_pilot())
    return failed.value.fields


def worst_pilot_and_reading() -> tuple[PilotStatus, MetricReading]:
    status = worst_case_statuses(1)[0]
    huge = "é[_]`<" * 400  # non-ASCII and markup: JSON-escaped it is many times its length
    return status, replace(status.readings[-1], blockers=huge[:MAX_TEXT], notes=huge[:MAX_TEXT])


def skipped_status(reason: str = "On leave until June", name: str = "Invoice triage copilot") -> PilotStatus:
    """April's check-in (due since 1 May) skipped; January to March answered."""
    pilot = make_pilot("p-skip", name)
    hold = CheckinHold(APRIL, SPONSOR, NOW, skipped=True, reason=reason)
    return status_of(replace(pilot, checkin_holds=(hold,)), make_readings(pilot, "2026-03", 3))


def away_and_skip_cards(pilot: Pilot, reason: str, prefix: str = "") -> dict[str, dict[str, Any]]:
    """The away form, the skip form (as sent and refilled with an error), the skipped card, the form noting the
    asked-for reminder, and the status, gate and overdue cards of a skipped month."""
    away = replace(pilot, checkin_holds=(CheckinHold(APRIL, SPONSOR, NOW, remind_on=date(2026, 5, 20)),))
    skipped = CheckinHold(APRIL, SPONSOR, NOW, skipped=True, reason=reason)
    status = skipped_status(reason, pilot.name)
    return {
        f"{prefix}checkin-away": card_json(checkin_away_card(pilot, APRIL, TODAY)),
        f"{prefix}checkin-away-too-late": card_json(checkin_away_card(pilot, APRIL, date(2026, 5, 31))),
        f"{prefix}checkin-away-error": card_json(checkin_away_card(pilot, APRIL, TODAY, reason[:20], MARKUP)),
        f"{prefix}checkin-away-noted": card_json(checkin_card(away, APRIL, None, {}, {})),
        f"{prefix}checkin-skip": card_json(checkin_skip_card(pilot, APRIL)),
        f"{prefix}checkin-skip-error": card_json(checkin_skip_card(pilot, APRIL, reason, MARKUP)),
        f"{prefix}checkin-skipped": card_json(checkin_skipped_card(pilot, skipped)),
        f"{prefix}gate-with-skipped-month": gate_of(status, enabled=True),
        f"{prefix}status-skipped": card_json(status_card(status)),
        f"{prefix}overdue-skipped": card_json(overdue_card([status, overdue()])),
    }


def checkin_and_gate_cards() -> dict[str, dict[str, Any]]:
    pilot = make_pilot()
    last, current = last_and_current()
    worst, worst_reading = worst_pilot_and_reading()
    worst_values = {f"metric_{i}": "1" * 30 for i in range(5)} | {
        "blockers": worst_reading.blockers,
        "notes": worst_reading.notes,
        "spend": "x",
    }
    worst_decision_values = {
        input_id: worst_reading.notes for ids in DECISION_INPUTS.values() for input_id in ids.values()
    }
    worst_decision_errors = dict.fromkeys(worst_decision_values, "Keep this under 2,000 characters " + MARKUP)
    extend_values, extend_errors = extend_failure()
    cards = {
        "checkin-empty": card_json(checkin_card(pilot, Period.parse("2026-04"), last, {}, {})),
        "checkin-first": card_json(checkin_card(pilot, Period.parse("2026-01"), None, {}, {})),
        "checkin-errors": card_json(
            checkin_card(pilot, Period.parse("2026-04"), last, CHECKIN_VALUES, checkin_errors())
        ),
        "checkin-received": card_json(
            checkin_card(pilot, APRIL, last, {}, {}, received=replace(current, source=ReadingSource.API))
        ),
        "checkin-worst": card_json(
            checkin_card(
                worst.pilot,
                Period(2026, 2),
                worst_reading,
                worst_values,
                dict.fromkeys(input_ids(worst.pilot), MARKUP * 20),
            )
        ),
        "checkin-worst-received": card_json(
            checkin_card(worst.pilot, Period.parse("2026-02"), None, {}, {}, received=worst_reading)
        ),
        "summary": card_json(checkin_summary_card(pilot, current)),
        "summary-worst": card_json(checkin_summary_card(worst.pilot, worst_reading)),
        "overdue-channel": card_json(overdue_channel_card(pilot, Period.parse("2026-04"), NOW)),
        "gate-reminder": gate_of(healthy()),
        "gate-day": gate_of(gate_day(), milestone="t-0", enabled=True),
        "gate-purgatory": gate_of(overdue(), milestone="t+7", enabled=True),
        "gate-errors": gate_of(gate_day(), milestone="t-0", enabled=True, values=extend_values, errors=extend_errors),
        "gate-decided": gate_of(decided(), milestone=None, decision=decided().decisions[0]),
        "gate-decided-extend": gate_of(gate_day(), milestone=None, decision=a_decision()),
        "gate-fresh": gate_of(status_of(make_pilot("p-new", start_date=date(2026, 5, 4))), milestone="t-30"),
        "gate-worst": gate_of(
            worst, milestone="t+70", enabled=True, values=worst_decision_values, errors=worst_decision_errors
        ),
        "gate-worst-decided": gate_of(worst, decision=a_decision(DecisionKind.RETIRE, worst_reading.notes)),
        # Per-user views: as posted (read-only, refreshing for 60 deciders) and as a refresh answers a decider.
        "gate-reminder-posted": gate_of(healthy(), decider=False, refresh_for=DECIDER_IDS),
        "gate-day-posted": gate_of(gate_day(), milestone="t-0", enabled=True, decider=False, refresh_for=DECIDER_IDS),
        "gate-day-refreshed": gate_of(gate_day(), milestone="t-0", enabled=True, refresh_for=DECIDER_IDS),
        "gate-worst-posted": gate_of(worst, milestone="t+70", enabled=True, decider=False, refresh_for=DECIDER_IDS),
        "gate-worst-refreshed": gate_of(worst, milestone="t+70", enabled=True, refresh_for=DECIDER_IDS),
        "checkin-superseded": card_json(checkin_superseded_card(pilot, APRIL, MAY)),
        "checkin-superseded-answered": card_json(checkin_superseded_card(worst.pilot, APRIL, MAY, newer_received=True)),
        "cost-drift": card_json(
            cost_drift_card(
                pilot,
                CostDrift(
                    DriftKind.MONTH_OVER_BUDGET,
                    APRIL,
                    1400.0,
                    1000.0,
                    project_spend(make_readings(pilot, "2026-04", 4), 1000.0, pilot.start_date, pilot.gate_date),
                ),
            )
        ),
    }
    cards |= away_and_skip_cards(pilot, "On leave until June")
    cards |= away_and_skip_cards(worst.pilot, worst_reading.notes[:200], prefix="worst-")
    for i, name in enumerate(EVIL_NAMES):
        evil = make_pilot(f"p-evil-{i}", name, sponsor=Person("aad-2", "[Eve](https://evil)"))
        cards |= away_and_skip_cards(evil, MARKUP + name, prefix=f"evil-{i}-")
        evil_status = status_of(evil, make_readings(evil, "2026-04", 3))
        cards[f"evil-{i}-checkin"] = card_json(checkin_card(evil, Period.parse("2026-04"), last, {}, {}))
        cards[f"evil-{i}-summary"] = card_json(checkin_summary_card(evil, current))
        cards[f"evil-{i}-gate"] = gate_of(evil_status, enabled=True)
        cards[f"evil-{i}-gate-posted"] = gate_of(evil_status, enabled=True, decider=False, refresh_for=DECIDER_IDS)
        cards[f"evil-{i}-superseded"] = card_json(checkin_superseded_card(evil, APRIL, MAY))
        cards[f"evil-{i}-overdue"] = card_json(overdue_channel_card(evil, Period.parse("2026-04"), NOW))
        cards[f"evil-{i}-drift"] = card_json(
            cost_drift_card(
                evil,
                CostDrift(DriftKind.PROJECTED_OVER_BUDGET, APRIL, 900.0, 1000.0, project_spend((), 1.0, TODAY, TODAY)),
            )
        )
    return cards


def show_cards(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {action["title"]: action for action in card.get("actions", []) if action["type"] == "Action.ShowCard"}


# --- the official parser, size, verbs -------------------------------------------------------------------------------
def test_the_parser_catches_a_duplicate_input_id_across_show_cards(tmp_path: Path) -> None:
    """Guards the test above: the ids of the four decision forms must differ, and the parser would tell."""
    card = gate_of(gate_day(), enabled=True)
    card["actions"][1]["card"]["body"][0]["id"] = "goRationale"
    path = tmp_path / "duplicate.json"
    path.write_text(json.dumps(card))
    assert any("Duplicate" in event for event in run_official_parser([path])["duplicate.json"])


def test_evil_pilot_names_are_shown_escaped() -> None:
    cards = checkin_and_gate_cards()
    for i, name in enumerate(EVIL_NAMES):
        for kind in ("checkin", "summary", "gate", "gate-posted", "superseded", "overdue", "drift"):
            assert any(plain(name) in shown for shown in rendered_texts(cards[f"evil-{i}-{kind}"])), kind


# --- the check-in card ---------------------------------------------------------------------------------------------
def test_checkin_card_has_one_number_input_per_metric_with_unit_baseline_target_and_last_month() -> None:
    last, _ = last_and_current()
    card = card_json(checkin_card(make_pilot(), Period.parse("2026-04"), last, {}, {}))
    fields = inputs(card)
    assert list(fields) == ["metric_0", "metric_1", "status", "activeUsers", "spend", "blockers", "notes"]
    assert fields["metric_0"]["type"] == "Input.Number" and fields["metric_0"]["isRequired"]
    assert fields["metric_0"]["label"] == "Handling time (min): baseline 30 min, target 20 min, last month: 29 min"
    assert fields["metric_1"]["label"] == "First-pass accuracy (%): baseline 82%, target 95%, last month: 83%"
    assert "isRequired" not in fields["metric_1"]
    assert [c["value"] for c in fields["status"]["choices"]] == ["green", "amber", "red"]
    assert fields["status"]["isRequired"]
    assert fields["activeUsers"]["min"] == 0 and "intended: 120" in fields["activeUsers"]["label"]
    assert "monthly budget: 1,000" in fields["spend"]["label"]
    for text_id in ("blockers", "notes"):
        assert fields[text_id]["isMultiline"] and fields[text_id]["maxLength"] == MAX_TEXT
    action, away, skip = card["actions"]
    assert action["type"] == "Action.Execute" and action["verb"] == CHECKIN_SUBMIT
    assert action["data"] == {"verb": CHECKIN_SUBMIT, "pilotId": "p-1", "period": "2026-04"}
    # Away and skip leave the form unanswered: they send none of its inputs, so its required ones do not block them.
    assert [away["verb"], skip["verb"]] == [CHECKIN_AWAY, CHECKIN_SKIP]
    assert away["associatedInputs"] == skip["associatedInputs"] == "none"
    assert away["fallback"]["associatedInputs"] == "none"
    assert "How did April 2026 go?" in shown_text(card)


def test_first_checkin_says_there_is_no_last_month() -> None:
    fields = inputs(card_json(checkin_card(make_pilot(), Period.parse("2026-01"), None, {}, {})))
    assert fields["metric_0"]["label"].endswith("last month: none")


def test_checkin_errors_sit_under_their_inputs_and_the_values_are_kept() -> None:
    errors = checkin_errors()
    assert set(errors) == {"metric_0", "status", "spend"}
    _, current = last_and_current()
    card = card_json(checkin_card(make_pilot(), Period.parse("2026-04"), current, CHECKIN_VALUES, errors))
    for input_id, message in errors.items():
        siblings, index = siblings_of(card, input_id)
        note = siblings[index + 1]
        assert note["type"] == "TextBlock" and note["color"] == "Attention" and note["text"] == plain(message)
        assert siblings[index]["errorMessage"] == message
    fields = inputs(card)
    assert "value" not in fields["metric_0"]  # "abc" cannot sit in a number input; its error explains
    assert fields["metric_1"]["value"] == 91.5
    assert fields["activeUsers"]["value"] == 1200
    assert fields["blockers"]["value"] == "Waiting on **legal** [link](http://x)"  # input values are raw text
    assert "Nothing was saved yet" in shown_text(card)
    assert card["actions"][0]["verb"] == CHECKIN_SUBMIT


def test_a_reading_already_received_is_shown_read_only_without_submit() -> None:
    _, current = last_and_current()
    received = replace(current, source=ReadingSource.API, submitted_by=Person("api", ""), blockers=MARKUP)
    card = card_json(checkin_card(make_pilot(), Period.parse("2026-04"), None, {}, {}, received=received))
    assert inputs(card) == {}
    assert all(node.get("verb") != CHECKIN_SUBMIT for node in nodes(card))
    shown = shown_text(card)
    assert "The readings for April 2026 are already in: sent through the API by a system of record" in shown
    assert "28.65 min (target 20 min)" in shown and "43 of 120 intended" in shown
    assert plain(f"Blockers: {MARKUP}") in rendered_texts(card)


def test_summary_card_replaces_the_form_for_everyone_read_only() -> None:
    _, current = last_and_current()
    card = card_json(checkin_summary_card(make_pilot(), current))
    assert inputs(card) == {}
    shown = shown_text(card)
    assert "Check-in received: Invoice triage copilot" in shown
    assert "April 2026, sent in Teams by Dana Whitfield on 2026-01-02." in shown
    assert "Status: Amber" in shown
    assert "28.65 min (target 20 min)" in shown and "83.4% (target 95%)" in shown
    assert "870 of 1,000 monthly budget" in shown
    assert [a["verb"] for a in card["actions"]] == [PILOT_STATUS]


def test_a_secondary_metric_left_blank_reads_not_reported() -> None:
    _, current = last_and_current()
    card = card_json(checkin_summary_card(make_pilot(), replace(current, values={"Handling time": 27.0})))
    assert "not reported (target 95%)" in shown_text(card)


def test_reminder_text_names_the_pilot_escaped() -> None:
    text = checkin_reminder_text(make_pilot(name=MARKUP), APRIL)
    assert text.startswith("Reminder: the April 2026 check-in for **" + plain(MARKUP) + "** is still open")
    assert "(sent 2026-05-01)" in text  # the scheduled day, unless the caller says when it really went out
    assert "(sent 2026-05-04)" in checkin_reminder_text(make_pilot(), APRIL, date(2026, 5, 4))


def test_overdue_channel_card_says_who_owes_which_checkin() -> None:
    shown = shown_text(card_json(overdue_channel_card(make_pilot(), APRIL, NOW)))
    assert "Check-in overdue: Invoice triage copilot" in shown
    assert "Dana Whitfield has not answered the April 2026 check-in sent on 2026-05-01 (11 days ago)" in shown
    late = shown_text(card_json(overdue_channel_card(make_pilot(), APRIL, NOW, sent_on=date(2026, 5, 4))))
    assert "sent on 2026-05-04 (8 days ago)" in late


# --- the gate card -------------------------------------------------------------------------------------------------
def test_gate_reminder_shows_everything_a_go_no_go_needs_and_no_decision_yet() -> None:
    card = gate_of(healthy(), milestone="t-30")
    shown = shown_text(card)
    for part in (
        "Gate in 29 days: Invoice triage copilot",
        "30 days to the gate · Gate 2026-06-10 · Decides: Dana Whitfield (sponsor) or a governance admin",
        "Baseline 30 min Latest 27.95 min Target 20 min",
        "20.5% of the way from baseline to target.",
        "Handling time, last 4 months",  # the chart's title, above the chart
        "Projected for the gate (2026-06-10): 27.3 min, which misses the target of 20 min. Confidence: medium.",
        "Straight-line trend over 4 monthly readings (2026-01 to 2026-04), fit 1.00.",
        "First-pass accuracy 84.2% (target 95%, 16.9% of the way)",
        "4 of 4 check-ins answered; the latest is for April 2026.",
        "49 of 120 intended (41%)",
        "910 of 1,000 monthly budget",
        "Spent so far 3,520",
        "Projected by the gate 4,664 of 5,171 total budget",
        "Open: Data loss prevention.",
        "Go if Handling time reaches 20 min or lower by 2026-06-10; the latest reading (27.95 min) does not yet.",
        "If met Roll out to all AP clerks in EMEA.",
        "If missed Switch off and archive prompts.",
        "This is a reminder. On the gate day (2026-06-10) this card carries the decision",
    ):
        assert part in shown, part
    (chart,) = charts(card)
    assert chart["type"] == "Chart.Line" and "title" not in chart
    assert show_cards(card) == {}
    assert [a["verb"] for a in card["actions"]] == [PILOT_STATUS]


def test_gate_day_card_carries_the_four_decisions_each_a_form_with_its_execute() -> None:
    card = gate_of(gate_day(), milestone="t-0", enabled=True)
    assert "Gate day: Invoice triage copilot" in shown_text(card)
    forms = show_cards(card)
    assert list(forms) == ["Go", "Narrow scope", "Extend", "Retire"]
    all_ids: list[str] = []
    for kind, title in zip(DecisionKind, forms, strict=True):
        form = forms[title]["card"]
        fields = inputs(form)
        assert set(fields) == set(DECISION_INPUTS[kind].values()), kind
        all_ids += list(fields)
        rationale = fields[DECISION_INPUTS[kind]["rationale"]]
        assert rationale["isRequired"] and rationale["isMultiline"] and rationale["maxLength"] == MAX_TEXT
        (record,) = form["actions"]
        assert record["type"] == "Action.Execute" and record["verb"] == GATE_DECIDE
        assert record["data"] == {"verb": GATE_DECIDE, "pilotId": "p-1", "gateDate": "2026-05-12", "kind": kind.value}
    assert len(all_ids) == len(set(all_ids))
    go = inputs(forms["Go"]["card"])
    assert go["goScope"]["value"] == "Roll out to all AP clerks in EMEA."  # the scale plan, to confirm or edit
    assert go["goDate"]["min"] == "2026-05-12"
    assert inputs(forms["Extend"]["card"])["extendGateDate"]["min"] == "2026-05-13"
    assert inputs(forms["Retire"]["card"])["retireDate"]["min"] == "2026-05-12"


def test_purgatory_card_says_how_long_the_gate_has_waited() -> None:
    card = gate_of(overdue(), milestone="t+7", enabled=True)
    shown = shown_text(card)
    assert "Gate passed 12 days ago, no decision: Contract summariser" in shown
    assert "1 week past the gate" in shown
    assert "the pilot is in purgatory until someone decides" in shown
    assert "2 of 4 check-ins answered" in shown
    assert "total budget: over budget" in shown
    assert len(show_cards(card)) == 4


def test_a_second_extension_is_flagged_in_the_extend_form() -> None:
    pilot = replace(gate_day().pilot, stage=Stage.EXTENDED, extensions=1)
    card = gate_of(status_of(pilot, make_readings(pilot, "2026-04", 2)), enabled=True)
    assert "Already extended once: only a governance admin can extend again." in shown_text(
        show_cards(card)["Extend"]["card"]
    )


def test_gate_errors_are_listed_on_top_and_next_to_their_input_with_values_kept() -> None:
    values, errors = extend_failure()
    assert set(errors) == {"extendGateDate"}
    card = gate_of(gate_day(), enabled=True, values=values, errors=errors)
    shown = shown_text(card)
    assert "The decision was not recorded: open Extend again, the problems are marked there." in shown
    assert errors["extendGateDate"] in shown
    form = show_cards(card)["Extend"]["card"]
    siblings, index = siblings_of(form, "extendGateDate")
    assert siblings[index + 1]["text"] == plain(errors["extendGateDate"])
    assert siblings[index]["value"] == "2026-05-01"
    assert inputs(form)["extendRationale"]["value"] == "Need **two** more months"


def test_a_refused_second_extension_shows_at_the_top_of_the_extend_form() -> None:
    pilot = replace(gate_day().pilot, stage=Stage.EXTENDED, extensions=1)
    values = {"kind": "extend", "extendRationale": "More data", "extendGateDate": "2026-07-01"}
    draft = read(DecisionSubmission, {"pilotId": "p-1", "gateDate": "2026-05-12", **values}).to_draft()
    with pytest.raises(ValidationFailed) as failed:
        apply_decision(pilot, draft, False, False, TODAY, SPONSOR, datetime.now(UTC))
    errors = decision_errors(draft.kind, failed.value.fields)
    card = gate_of(status_of(pilot), enabled=True, values=values, errors=errors)
    form = show_cards(card)["Extend"]["card"]
    assert form["body"][0]["color"] == "Attention" and "already extended once" in form["body"][0]["text"]


def test_a_decided_gate_shows_the_decision_and_no_actions() -> None:
    card = gate_of(gate_day(), milestone=None, decision=a_decision())
    shown = shown_text(card)
    assert "Gate decided: Invoice triage copilot" in shown
    for part in (
        "Rationale: Data arrived late.",
        "Decision Extend",
        "Decided by Dana Whitfield on 2026-05-12",
        "New gate 2026-08-01",
        "Extra time for Two clean months",
    ):
        assert part in shown, part
    assert "actions" not in card
    assert inputs(card) == {}


def test_a_decided_retirement_shows_its_date_and_lessons_escaped() -> None:
    card = gate_of(gate_day(), milestone=None, decision=a_decision(DecisionKind.RETIRE))
    assert "Retires on 2026-06-30" in shown_text(card)
    assert plain(MARKUP) in rendered_texts(card)


def test_a_pilot_without_readings_has_no_chart_and_no_projection() -> None:
    card = gate_of(status_of(make_pilot("p-new", start_date=date(2026, 5, 4))), milestone="t-30")
    assert charts(card) == []
    shown = shown_text(card)
    assert "No projection for the gate: No readings yet: no trend to project." in shown
    assert "No check-in was due yet." in shown
    assert "Projected by the gate no spend reported yet" in shown


def test_worst_case_gate_card_fits_by_dropping_the_chart_and_trimming_kept_values() -> None:
    worst, reading = worst_pilot_and_reading()
    values = {input_id: reading.notes for ids in DECISION_INPUTS.values() for input_id in ids.values()}
    card = gate_of(worst, enabled=True, values=values)
    assert card_size(card) < MAX_CARD_BYTES
    assert len(show_cards(card)) == 4


def test_a_normal_card_keeps_every_submitted_character() -> None:
    values = {"kind": "retire", "retireRationale": "r" * MAX_TEXT, "retireLessons": "l" * MAX_TEXT}
    form = show_cards(gate_of(gate_day(), enabled=True, values=values))["Retire"]["card"]
    assert inputs(form)["retireRationale"]["value"] == "r" * MAX_TEXT


# --- per-user views: each card's refresh ---------------------------------------------------------------------------
def refresh_of(card: dict[str, Any]) -> dict[str, Any]:
    refresh = card["refresh"]
    assert isinstance(refresh, dict)
    return refresh


def test_the_posted_gate_day_card_is_read_only_and_refreshes_for_the_first_60_deciders_sponsor_first() -> None:
    card = gate_of(gate_day(), milestone="t-0", enabled=True, decider=False, refresh_for=DECIDER_IDS)
    assert show_cards(card) == {} and inputs(card) == {}
    assert all(node.get("verb") != GATE_DECIDE for node in nodes(card))
    decide, status = card["actions"]
    assert (decide["title"], decide["verb"]) == ("Decide", GATE_VIEW)
    assert decide["data"] == {"verb": GATE_VIEW, "pilotId": "p-1", "gateDate": "2026-05-12"}
    assert decide["fallback"]["data"] == decide["data"]  # older hosts press it as an Action.Submit
    assert status["verb"] == PILOT_STATUS
    assert "Decisions are open: Dana Whitfield (or a governance admin) decides" in shown_text(card)
    refresh = refresh_of(card)
    assert refresh["action"]["type"] == "Action.Execute" and refresh["action"]["verb"] == GATE_VIEW
    assert refresh["action"]["data"] == {"verb": GATE_VIEW, "pilotId": "p-1", "gateDate": "2026-05-12"}
    assert refresh["userIds"] == list(DECIDER_IDS[:MAX_REFRESH_USERS]) and len(refresh["userIds"]) == 60
    assert refresh["userIds"][0] == DECIDER_IDS[0]


def test_a_deciders_view_has_the_four_forms_and_keeps_the_refresh() -> None:
    card = gate_of(gate_day(), milestone="t-0", enabled=True, refresh_for=DECIDER_IDS[:2])
    assert list(show_cards(card)) == ["Go", "Narrow scope", "Extend", "Retire"]
    assert GATE_VIEW not in {action.get("verb") for action in card["actions"]}  # no Decide: the forms are here
    assert refresh_of(card)["userIds"] == list(DECIDER_IDS[:2])


def test_a_reminder_refreshes_too_and_is_the_same_for_everyone() -> None:
    posted = gate_of(healthy(), decider=False, refresh_for=DECIDER_IDS[:1])
    refreshed = gate_of(healthy(), decider=True, refresh_for=DECIDER_IDS[:1])
    assert posted == refreshed
    assert refresh_of(posted)["action"]["verb"] == GATE_VIEW
    assert [a["verb"] for a in posted["actions"]] == [PILOT_STATUS]


def test_no_refresh_on_a_decided_gate_a_refilled_form_or_without_known_deciders() -> None:
    decided_card = gate_of(gate_day(), milestone=None, decision=a_decision(), refresh_for=DECIDER_IDS)
    values, errors = extend_failure()
    refilled = gate_of(gate_day(), enabled=True, values=values, errors=errors, refresh_for=DECIDER_IDS)
    unknown = gate_of(gate_day(), enabled=True, decider=False)
    for card in (decided_card, refilled, unknown):
        assert "refresh" not in card
    assert [a["verb"] for a in unknown["actions"]] == [GATE_VIEW, PILOT_STATUS]  # Decide still works by a press


def test_the_checkin_form_refreshes_itself_in_the_1_to_1_chat_without_user_ids() -> None:
    last, current = last_and_current()
    card = card_json(checkin_card(make_pilot(), APRIL, last, {}, {}))
    refresh = refresh_of(card)
    assert refresh["action"]["verb"] == CHECKIN_VIEW
    assert refresh["action"]["data"] == {"verb": CHECKIN_VIEW, "pilotId": "p-1", "period": "2026-04"}
    assert "userIds" not in refresh
    refilled = card_json(checkin_card(make_pilot(), APRIL, last, CHECKIN_VALUES, checkin_errors()))
    received = card_json(checkin_card(make_pilot(), APRIL, last, {}, {}, received=current))
    for card in (refilled, received, card_json(checkin_summary_card(make_pilot(), current))):
        assert "refresh" not in card


def test_a_superseded_checkin_points_to_the_newer_card_read_only() -> None:
    card = card_json(checkin_superseded_card(make_pilot(), APRIL, MAY))
    assert inputs(card) == {} and "refresh" not in card
    shown = shown_text(card)
    assert "Monthly check-in: Invoice triage copilot" in shown
    assert "This card asked for April 2026. The May 2026 check-in has replaced it: answer the May 2026 card" in shown
    assert "No readings were received for April 2026." in shown
    assert [a["verb"] for a in card["actions"]] == [PILOT_STATUS]
    answered = shown_text(card_json(checkin_superseded_card(make_pilot(), APRIL, MAY, newer_received=True)))
    assert "has replaced it: the readings for May 2026 are already in." in answered


# --- channel texts -------------------------------------------------------------------------------------------------
def test_decision_summary_is_one_escaped_line_per_kind() -> None:
    pilot = make_pilot(name=MARKUP)
    texts = {kind: decision_summary_text(pilot, a_decision(kind, "Because\n\n**reasons**")) for kind in DecisionKind}
    for kind, line in texts.items():
        assert "\n" not in line, kind
        assert line.startswith(f"**{plain(MARKUP)}** gate 2026-05-12: "), kind
        assert line.endswith(r"Decided by Dana Whitfield on 2026-05-12. Rationale: Because \*\*reasons\*\*"), kind
    assert "Extended, new gate 2026-08-01." in texts[DecisionKind.EXTEND]
    assert "Narrowed (" in texts[DecisionKind.NARROW] and "new gate 2026-08-01" in texts[DecisionKind.NARROW]
    assert "Go: to production" in texts[DecisionKind.GO] and "follow-up on 2026-06-30" in texts[DecisionKind.GO]
    assert "Retire on 2026-06-30." in texts[DecisionKind.RETIRE]


def test_cost_drift_card_states_the_reason_and_the_projection() -> None:
    pilot = make_pilot()
    readings = make_readings(pilot, "2026-04", 4, spend=1400.0)
    drift = cost_drift(pilot, readings[-1], readings)
    assert drift is not None
    shown = shown_text(card_json(cost_drift_card(pilot, drift)))
    assert "Cost drift: Invoice triage copilot" in shown
    assert "over the monthly budget of 1,000" in shown
    assert "Total budget 5,171" in shown


def test_metric_units_with_markup_stay_literal_in_the_summary() -> None:
    pilot = make_pilot(metrics=(Metric("*Speed*", "<b>", 1.0, 2.0, Direction.INCREASE),))
    _, current = last_and_current()
    card = card_json(checkin_summary_card(pilot, replace(current, values={"*Speed*": 1.5})))
    assert r"\*Speed\*" in " ".join(rendered_texts(card)) and r"1.5 \<b\>" in " ".join(rendered_texts(card))


def test_a_skipped_month_counts_as_skipped_with_its_reason_not_as_late() -> None:
    status = skipped_status()
    assert status.checkin.skipped and not status.checkin.open and status.checkin_overdue_days == 0
    assert status.checkin.skip_reason == "On leave until June"
    gate = shown_text(gate_of(status, enabled=True))
    assert "3 of 4 check-ins answered, 1 skipped" in gate and "Skipped: April 2026: On leave until June." in gate
    assert "The check-in for 2026-04 was skipped: On leave until June" in shown_text(card_json(status_card(status)))
    listed = shown_text(card_json(overdue_card([status])))
    assert "Nothing overdue" in listed and "Skipped this month (not late)" in listed


def test_the_away_form_offers_only_days_left_in_the_month_it_is_answered_in() -> None:
    card = card_json(checkin_away_card(make_pilot(), APRIL, TODAY))
    field = inputs(card)["remindOn"]
    assert (field["min"], field["max"]) == ("2026-05-13", "2026-05-31") and field["isRequired"]
    last_day = card_json(checkin_away_card(make_pilot(), APRIL, date(2026, 5, 31)))
    assert inputs(last_day) == {} and "No day is left in May 2026" in shown_text(last_day)

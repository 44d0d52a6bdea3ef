"""Domain rules: validation by field, calendars, progress and forgiving names."""

from __future__ import annotations

from datetime import date

import pytest

from governance.errors import ValidationFailed
from governance.localtime import checkin_date, first_business_day
from governance.model import Direction, HealthStatus, Metric, Person
from governance.period import Period
from governance.rules import (
    PilotDraft,
    ReadingDraft,
    match_names,
    progress,
    search_names,
    validate_pilot,
    validate_reading,
)

SPONSOR = Person("5b0c7d1e-0000-4f2a-8b3c-000000005e01", "Sam")
HANDLING = Metric("Handling time", "min", 42, 30, Direction.DECREASE)


def draft(**overrides: object) -> PilotDraft:
    values: dict[str, object] = {
        "name": "Claims",
        "sponsor": SPONSOR,
        "metrics": (HANDLING,),
        "start_date": date(2026, 9, 1),
    }
    values.update(overrides)
    return PilotDraft(**values)  # type: ignore[arg-type]


def problems(d: PilotDraft) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        validate_pilot(d)
    return caught.value.fields


def test_a_sound_pilot_passes() -> None:
    validate_pilot(draft())


def test_target_must_differ_from_baseline() -> None:
    assert "metrics[0].target" in problems(draft(metrics=(Metric("x", "", 5, 5, Direction.INCREASE),)))


def test_direction_must_match_target() -> None:
    assert "metrics[0].direction" in problems(draft(metrics=(Metric("x", "", 5, 9, Direction.DECREASE),)))


def test_gate_after_start_and_known_timezone() -> None:
    found = problems(draft(gate_date=date(2026, 9, 1), timezone="Nowhere/Town", checkin_day=31))
    assert {"gateDate", "timezone", "checkinDay"} <= set(found)


def test_duplicate_metric_names_and_unknown_checklist_items() -> None:
    found = problems(draft(metrics=(HANDLING, HANDLING), governance={"vibes": True}))
    assert {"metrics[1].name", "governance"} <= set(found)


def test_reading_rules() -> None:
    bad = ReadingDraft(Period(2026, 8), {"Speed": float("nan")}, HealthStatus.GREEN, spend=-1)
    with pytest.raises(ValidationFailed) as caught:
        validate_reading(bad, (HANDLING,), date(2026, 9, 1), date(2026, 11, 26))
    assert {"period", "values.Speed", "spend"} <= set(caught.value.fields)


@pytest.mark.parametrize("period", [Period(2026, 8), Period(2027, 1), Period(2999, 12)])
def test_a_reading_is_for_a_month_of_the_pilots_life_up_to_next_month(period: Period) -> None:
    draft = ReadingDraft(period, {"Handling time": 40.0}, HealthStatus.GREEN)
    with pytest.raises(ValidationFailed) as caught:
        validate_reading(draft, (HANDLING,), date(2026, 9, 1), date(2026, 11, 26))
    assert set(caught.value.fields) == {"period"}
    validate_reading(
        ReadingDraft(Period(2026, 12), {"Handling time": 40.0}, HealthStatus.GREEN),
        (HANDLING,),
        date(2026, 9, 1),
        date(2026, 11, 26),
    )


FULLWIDTH_2026 = "\uff12\uff10\uff12\uff16"
ARABIC_INDIC_2026 = "\u0662\u0660\u0662\u0666"


@pytest.mark.parametrize(
    "text",
    [f"{FULLWIDTH_2026}-11", f"{ARABIC_INDIC_2026}-11", "0000-01", "2026-1", " 2026-11", "2026-13", "2026-11\n"],
)
def test_a_period_is_four_ascii_digits_a_dash_and_a_month(text: str) -> None:
    with pytest.raises(ValueError, match="not a period"):
        Period.parse(text)
    assert Period.parse("2026-11") == Period(2026, 11)
    assert str(Period(2026, 1)) == "2026-01"


def test_first_business_day_skips_weekends() -> None:
    assert first_business_day(2026, 11) == date(2026, 11, 2)  # 1 Nov 2026 is a Sunday
    assert first_business_day(2026, 8) == date(2026, 8, 3)
    assert checkin_date(2026, 12, 1) == date(2026, 12, 1)
    assert checkin_date(2026, 11, 14) == date(2026, 11, 16)  # a Saturday moves to Monday


def test_periods_step_and_compare_across_the_year() -> None:
    assert Period(2027, 1).previous == Period(2026, 12)
    assert Period(2026, 12).next == Period(2027, 1)
    assert Period(2026, 11).previous == Period(2026, 10)
    assert Period(2026, 3) < Period(2026, 11) < Period(2027, 1)
    assert Period(2027, 2).months_since(Period(2026, 11)) == 3


def test_progress_counts_towards_the_target_in_either_direction() -> None:
    assert progress(HANDLING, 36) == pytest.approx(0.5)
    assert progress(Metric("NPS", "", 20, 40, Direction.INCREASE), 45) == pytest.approx(1.25)


@pytest.mark.parametrize(
    ("query", "exact", "candidates"),
    [
        ("claims triage", "Claims Triage", ()),
        ("CLAIMS  TRIAGE", "Claims Triage", ()),
        ("triage", "Claims Triage", ()),
        ("Claims Triag", "Claims Triage", ()),
        ("claims traige", "Claims Triage", ()),
        ("copilot", None, ("Copilot Sales", "Copilot Legal")),
        ("zzz", None, ()),
    ],
)
def test_names_match_forgivingly(query: str, exact: str | None, candidates: tuple[str, ...]) -> None:
    match = match_names(query, ["Claims Triage", "Copilot Sales", "Copilot Legal"])
    assert match.exact == exact
    assert set(match.candidates) == set(candidates)


NAMES = ["Claims Triage", "Copilot Sales", "Copilot Legal", "Copilot", "Clàims intake"]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("claims triage", ("Claims Triage",)),
        ("CLAIMS  TRIAGE", ("Claims Triage",)),
        ("claims", ("Clàims intake", "Claims Triage")),  # accents ignored; both contain it: shortest first
        ("copilot", ("Copilot", "Copilot Legal", "Copilot Sales")),  # the exact one first
        ("claims traige", ("Claims Triage",)),  # contains nothing: the close typos
        ("zzz", ()),
        ("", ()),
    ],
)
def test_a_search_lists_every_name_the_forgiving_match_would_offer(query: str, found: tuple[str, ...]) -> None:
    assert search_names(query, NAMES, limit=10) == found
    match = match_names(query, NAMES)
    if match.exact is not None:  # `status <query>` would show this one: the search lists it first
        assert found[0] == match.exact
    assert set(match.candidates) <= set(found)


def test_a_search_stops_at_its_limit() -> None:
    names = [f"Pilot {i}" for i in range(30)]
    assert search_names("pilot", names, limit=10) == tuple(f"Pilot {i}" for i in range(10))
    assert search_names("pilot", names, limit=0) == ()
    assert search_names("Pilot 1", names, limit=3) == ("Pilot 1", "Pilot 10", "Pilot 11")

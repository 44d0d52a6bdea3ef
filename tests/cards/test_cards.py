"""Cards: every card passes the official Adaptive Cards parser, stays under 28 KB and shows user text literally."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cards.choose import MAX_BUTTONS, choose_pilot_card, not_found_text
from cards.help import help_card, welcome_card
from cards.pieces import MAX_TREND_POINTS
from cards.pilot_form import FORM_FIELDS, INPUT_IDS, form_errors, new_pilot_form, pilot_created_card
from cards.portfolio import overdue_card, portfolio_card
from cards.status import status_card, status_preview
from cards.text import MAX_CARD_BYTES, NO_VALUE, attachment, card_json, card_size, fmt_number, plain
from cards.verbs import PILOT_CREATE, PILOT_STATUS, PILOTS_PAGE
from governance.errors import ValidationFailed
from governance.model import (
    GOVERNANCE_ITEMS,
    DecisionKind,
    Direction,
    GateDecision,
    HealthStatus,
    Metric,
    MetricReading,
    Person,
    Pilot,
    ScalePlan,
    Stage,
)
from governance.period import Period
from governance.rules import PilotDraft, validate_pilot
from governance.views import PilotStatus, pilot_status
from tests.helpers import inputs, nodes

ROOT = Path(__file__).resolve().parents[2]
VALIDATORS = ROOT / "tools" / "validators"
TODAY = date(2026, 5, 12)  # check-in day for May was Fri 1 May: period 2026-04 is due, overdue from 12 May 09:00
NOON = datetime(2026, 5, 12, 12, tzinfo=UTC)
TENANT = "tenant-1"
SPONSOR = Person("aad-sponsor-1", "Dana Whitfield")
EVIL_NAMES = ("[click](https://x)", "Budget ${name} bot", "**bold** pilot")
CHART_MESSAGE = 'parse UnknownElementType: Unknown element type "{type}". Fallback will be used if present.'
# The one Teams extension the cards use that the official parser knows only from 1.6 on: the people picker.
PEOPLE_PICKER = {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
PEOPLE_PICKER_MESSAGE = (
    'parse UnsupportedProperty: Property "choices.data" is supported in version 1.6, but you are using version 1.5.'
)


# --- factories -----------------------------------------------------------------------------------------------------
def periods_ending(last: str, count: int) -> list[Period]:
    out = [Period.parse(last)]
    while len(out) < count:
        out.append(out[-1].previous)
    return out[::-1]


def make_pilot(pilot_id: str = "p-1", name: str = "Invoice triage copilot", **changes: Any) -> Pilot:
    pilot = Pilot(
        id=pilot_id,
        tenant_id=TENANT,
        name=name,
        sponsor=SPONSOR,
        metrics=(
            Metric("Handling time", "min", 30.0, 20.0, Direction.DECREASE),
            Metric("First-pass accuracy", "%", 82.0, 95.0, Direction.INCREASE),
        ),
        start_date=date(2026, 1, 5),
        gate_date=date(2026, 6, 10),
        budget_monthly=1000.0,
        intended_users=120,
        scale_plan=ScalePlan(expand="Roll out to all AP clerks in EMEA.", retire="Switch off and archive prompts."),
        governance={**dict.fromkeys(GOVERNANCE_ITEMS, True), "dlp": False},
    )
    return replace(pilot, **changes)


def make_readings(pilot: Pilot, last_period: str, count: int, **changes: Any) -> tuple[MetricReading, ...]:
    readings = []
    for i, period in enumerate(periods_ending(last_period, count)):
        readings.append(
            MetricReading(
                pilot_id=pilot.id,
                tenant_id=TENANT,
                period=period,
                values={"Handling time": round(29.0 - 0.35 * i, 2), "First-pass accuracy": 83.0 + 0.4 * i},
                status=(HealthStatus.GREEN, HealthStatus.AMBER, HealthStatus.RED)[i % 3],
                submitted_by=pilot.sponsor,
                submitted_at=datetime(2026, 1, 2, 9, tzinfo=UTC),
                active_users=40 + 3 * i,
                spend=850.0 + 20 * i,
                blockers="Waiting for the DLP policy review." if i % 4 == 0 else "",
            )
        )
    if changes and readings:
        readings[-1] = replace(readings[-1], **changes)
    return tuple(readings)


def sponsored_by(*names: str) -> list[Pilot]:
    """Pilots whose sponsors are ``names`` (for the overdue card's unreachable sponsors)."""
    return [make_pilot(f"p-s{i}", f"Pilot {i}", sponsor=Person(f"aad-s{i}", name)) for i, name in enumerate(names)]


def status_of(
    pilot: Pilot, readings: tuple[MetricReading, ...] = (), decisions: tuple[GateDecision, ...] = ()
) -> PilotStatus:
    return pilot_status(pilot, readings, decisions, NOON)


def healthy() -> PilotStatus:
    pilot = make_pilot()
    return status_of(pilot, make_readings(pilot, "2026-04", 4))


def overdue() -> PilotStatus:
    pilot = make_pilot("p-late", "Contract summariser", gate_date=date(2026, 4, 30))
    return status_of(pilot, make_readings(pilot, "2026-02", 3, spend=1400.0))


def decided() -> PilotStatus:
    pilot = make_pilot("p-done", "Service desk deflection", stage=Stage.PRODUCTION, gate_date=date(2026, 4, 1))
    decision = GateDecision(
        pilot_id=pilot.id,
        tenant_id=TENANT,
        gate_date=pilot.gate_date,
        kind=DecisionKind.GO,
        rationale="Handling time hit target two months running; **expand** to EMEA.",
        decided_by=SPONSOR,
        decided_at=datetime(2026, 4, 2, 15, tzinfo=UTC),
    )
    return status_of(pilot, make_readings(pilot, "2026-03", 3), (decision,))


def fresh() -> PilotStatus:
    pilot = make_pilot("p-new", "Sales email drafts", start_date=date(2026, 5, 4), gate_date=date(2026, 8, 2))
    return status_of(pilot)


def long_running() -> PilotStatus:
    """36 monthly readings and every free-text field at its domain maximum."""
    pilot = make_pilot(
        "p-long",
        "[Long] " + "x*" * 36,
        stage=Stage.EXTENDED,
        start_date=date(2023, 5, 2),
        scale_plan=ScalePlan(expand="[a](http://e) " * 140, retire="_" * 2000),
    )
    long_blockers = "<b>" * 666
    return status_of(pilot, make_readings(pilot, "2026-04", 36, blockers=long_blockers))


def evil(name: str, index: int = 0) -> PilotStatus:
    pilot = make_pilot(f"p-evil-{index}", name, sponsor=Person("aad-2", "[Eve](https://evil)"))
    return status_of(pilot, make_readings(pilot, "2026-04", 2))


def portfolio_statuses(count: int) -> list[PilotStatus]:
    out = []
    for i in range(count):
        pilot = make_pilot(f"p-{i:03d}", f"Pilot {i:03d} " + "with a long descriptive name " * 2)
        last = "2026-04" if i % 3 else "2026-02"  # every third pilot is overdue
        out.append(status_of(pilot, make_readings(pilot, last, 3)))
    return out


def worst_case_statuses(count: int) -> list[PilotStatus]:
    """Every user text at its domain maximum and made of characters that need escaping (JSON doubles them)."""
    metrics = tuple(
        Metric(f"{i}" + "[_]*" * 14 + "<>!", "<>" * 10, 30.0, 20.0 + i, Direction.DECREASE) for i in range(5)
    )
    out = []
    for i in range(count):
        pilot = make_pilot(
            f"{i:04d}-" + "f" * 31,
            f"{i:04d}" + "[*]_" * 19,
            sponsor=Person("aad-x", "<[_]>" * 20),
            metrics=metrics,
            scale_plan=ScalePlan(expand="\\[x]" * 400, retire="*_" * 1000),
        )
        readings = tuple(
            replace(r, values={m.name: 25.0 + j for j, m in enumerate(metrics)}, blockers="`|`" * 666)
            for r in make_readings(pilot, "2026-02", 36)
        )
        out.append(status_of(pilot, readings))
    return out


FORM_VALUES = {
    "name": "Invoice triage",
    "metricName": "Handling time",
    "metricUnit": "min",
    "metricBaseline": "30",
    "metricTarget": "30",
    "metricDirection": "decrease",
    "startDate": "2026-05-04",
    "gateDate": "2026-08-02",
    "sponsor": SPONSOR.aad_object_id,
    "timezone": "Mars/Olympus",
    "budgetMonthly": "1,200",
    "intendedUsers": "",
    "scaleExpand": "**All** AP clerks",
    "scaleRetire": "",
}
FORM_ERRORS = form_errors(
    {
        "metrics[0].target": "The target must differ from the baseline.",
        "timezone": "Use an IANA time zone such as Europe/Berlin or America/New_York.",
        "checkinDay": "Pick a day from 1 to 28.",
    }
)


def form(values: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> dict[str, Any]:
    return card_json(new_pilot_form(values or {}, errors or {}, SPONSOR.name, SPONSOR.aad_object_id, TODAY))


def every_card() -> dict[str, dict[str, Any]]:
    statuses = portfolio_statuses(200)
    worst = worst_case_statuses(200)
    cards = {
        "welcome": card_json(welcome_card()),
        "help": card_json(help_card([("help", "What PilotGate does"), ("status", "status <pilot>: one pilot")])),
        "help-empty": card_json(help_card([])),
        "help-with-search": card_json(
            help_card([("status", "status <pilot>: one pilot")], [("Find a pilot", "Insert a pilot's status card")])
        ),
        # Every status card carries its refresh (an Action.Execute of pilot.status): the parser checks it on each.
        # This is the one a search result inserts: the status of a pilot whose check-in and gate are both late.
        "status-search-result": card_json(status_card(overdue())),
        "status-healthy": card_json(status_card(healthy())),
        "status-overdue": card_json(status_card(overdue())),
        "status-decided": card_json(status_card(decided())),
        "status-fresh": card_json(status_card(fresh())),
        "status-long": card_json(status_card(long_running())),
        "portfolio-empty": card_json(portfolio_card([])),
        "portfolio-small": card_json(portfolio_card([healthy(), overdue(), decided(), fresh()])),
        "portfolio-200-p1": card_json(portfolio_card(statuses)),
        "portfolio-200-p4": card_json(portfolio_card(statuses, page=4)),
        "portfolio-200-last": card_json(portfolio_card(statuses, page=8)),
        "status-worst": card_json(status_card(worst[0])),
        "portfolio-worst": card_json(portfolio_card(worst)),
        "overdue-worst": card_json(overdue_card(worst, sponsored_by(*(p.pilot.sponsor.name * 3 for p in worst)))),
        "overdue-none": card_json(overdue_card([healthy()], [])),
        "overdue-some": card_json(overdue_card([healthy(), overdue()], sponsored_by("Sam Ortiz", "[x](http://y)"))),
        "overdue-200": card_json(overdue_card(statuses, sponsored_by(*(f"Sponsor {i}" for i in range(80))))),
        "form-empty": form(),
        "form-errors": form(FORM_VALUES, FORM_ERRORS),
        "form-admin-300-people": card_json(
            new_pilot_form(
                {},
                {},
                "Ada Admin",
                "a1d4e2b0-0000-4c8e-9f1a-00000000ad01",
                TODAY,
                [(f"00000000-0000-4000-8000-{i:012d}", f"Person {i} [x](http://y) ${{n}}" * 3) for i in range(300)],
                people_picker=True,
            )
        ),
        "form-admin-picked-elsewhere": card_json(
            new_pilot_form(
                {**FORM_VALUES, "sponsor": "5b0c7d1e-0000-4f2a-8b3c-00000000f00d"},
                {},
                "Ada Admin",
                "a1d4e2b0-0000-4c8e-9f1a-00000000ad01",
                TODAY,
                people_picker=True,
            )
        ),
        "welcome-channel": card_json(welcome_card(in_channel=True)),
        "created": card_json(pilot_created_card(healthy().pilot)),
        "choose": card_json(choose_pilot_card("invoice", [("p-1", "Invoice triage"), ("p-2", "Invoice matching")])),
        "choose-many": card_json(choose_pilot_card("pilot", [(f"p-{i}", f"Pilot {i}") for i in range(9)])),
    }
    for i, name in enumerate(EVIL_NAMES):
        status = evil(name, i)
        cards[f"evil-{i}-status"] = card_json(status_card(status))
        cards[f"evil-{i}-portfolio"] = card_json(portfolio_card([status]))
        cards[f"evil-{i}-overdue"] = card_json(overdue_card([status], sponsored_by(name)))
        cards[f"evil-{i}-created"] = card_json(pilot_created_card(status.pilot))
        cards[f"evil-{i}-choose"] = card_json(choose_pilot_card(name, [(status.pilot.id, name)]))
    return cards


# --- walking card JSON ---------------------------------------------------------------------------------------------
def rendered_texts(card: dict[str, Any]) -> list[str]:
    """Everything a host renders as markdown: TextBlock text, fact titles and values."""
    out = []
    for node in nodes(card):
        if node.get("type") == "TextBlock":
            out.append(node["text"])
        elif node.get("type") == "FactSet":
            out += [part for fact in node["facts"] for part in (fact["title"], fact["value"])]
    return out


def shown_text(card: dict[str, Any]) -> str:
    """What a reader sees: rendered texts joined, markdown escapes removed."""
    return re.sub(r"\\(.)", r"\1", " ".join(rendered_texts(card)))


def charts(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in nodes(card) if str(node.get("type", "")).startswith("Chart.")]


def without_charts(value: Any) -> Any:
    """The card as a host without charts renders it: each chart replaced by its fallback."""
    if isinstance(value, list):
        return [without_charts(item) for item in value]
    if isinstance(value, dict):
        if str(value.get("type", "")).startswith("Chart."):
            return without_charts(value["fallback"])
        return {key: without_charts(item) for key, item in value.items()}
    return value


def siblings_of(card: dict[str, Any], input_id: str) -> tuple[list[dict[str, Any]], int]:
    """The element list that holds input ``input_id`` and its index in it."""
    for node in nodes(card):
        for key in ("body", "items"):
            items = node.get(key)
            if isinstance(items, list):
                for index, item in enumerate(items):
                    if isinstance(item, dict) and item.get("id") == input_id:
                        return items, index
    raise AssertionError(f"no input {input_id!r}")


# --- the official parser -------------------------------------------------------------------------------------------
def assert_official_parser_accepts(cards: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    """Zero events but the one the parser logs for every Teams chart even with a fallback; each chart must have a
    TextBlock/FactSet fallback, and the card as a chart-less host renders it (fallbacks in place) has none."""
    files: list[Path] = []
    expected: dict[str, list[str]] = {}
    for name, card in cards.items():
        found = charts(card)
        for chart in found:
            assert chart.get("fallback", {}).get("type") in ("TextBlock", "FactSet"), f"{name}: chart without fallback"
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(card))
        pickers = [PEOPLE_PICKER_MESSAGE for node in nodes(card) if node.get("choices.data") == PEOPLE_PICKER]
        expected[files[-1].name] = sorted([*(CHART_MESSAGE.format(type=chart["type"]) for chart in found), *pickers])
        if found:
            files.append(tmp_path / f"{name}.no-charts.json")
            files[-1].write_text(json.dumps(without_charts(card)))
            expected[files[-1].name] = pickers
    events = run_official_parser(files)
    assert {name: sorted(found) for name, found in events.items()} == expected


def test_the_parser_check_accepts_the_people_picker_and_nothing_else_it_does_not_know(tmp_path: Path) -> None:
    picker = card_json(new_pilot_form({}, {}, "Ada", "aad-ada", TODAY, people_picker=True))
    [sponsor] = [node for node in nodes(picker) if node.get("id") == "sponsor"]
    assert sponsor["choices.data"] == PEOPLE_PICKER and sponsor["choices"]  # static choices: the fallback
    assert_official_parser_accepts({"picker": picker}, tmp_path)
    for other in ({"type": "Data.Query", "dataset": "graph.microsoft.com/groups"}, {"type": "Data.Query"}):
        sponsor["choices.data"] = other
        with pytest.raises(AssertionError):
            assert_official_parser_accepts({"other": picker}, tmp_path)


def test_only_admins_get_the_people_picker_and_a_picked_person_is_kept_on_a_refill() -> None:
    plain_form = card_json(new_pilot_form({}, {}, "Sam", "aad-sam", TODAY))
    assert not [node for node in nodes(plain_form) if "choices.data" in node]
    picked = "5b0c7d1e-0000-4f2a-8b3c-00000000f00d"
    refill = card_json(new_pilot_form({"sponsor": picked}, {}, "Ada", "aad-ada", TODAY, people_picker=True))
    assert inputs(refill)["sponsor"]["value"] == picked


def run_official_parser(files: list[Path]) -> dict[str, list[str]]:
    """One node process for every file: {file name: the parser's events}."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the card tests need Node.js; run `make test`")
    if not (VALIDATORS / "node_modules" / "adaptivecards").is_dir():
        pytest.fail(f"{VALIDATORS}/node_modules is missing: run `make test` (it runs `npm ci` in tools/validators)")
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [node, "validate_card.js", "--target", "1.5", *map(str, files)],
        cwd=VALIDATORS,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    events: dict[str, list[str]] = {}
    current = None
    for line in result.stdout.splitlines():
        match = re.match(r"^(.*): OK \(", line)
        if match:
            events[Path(match.group(1)).name] = []
    for line in result.stderr.splitlines():
        match = re.match(r"^(\S.*): \d+ issue\(s\)$", line)
        if match:
            current = events.setdefault(Path(match.group(1)).name, [])
        elif line.startswith("  ") and current is not None:
            current.append(line.strip())
    missing = {f.name for f in files} - set(events)
    assert result.returncode in (0, 1) and not missing, f"validator failed: {result.stderr[-2000:]}"
    return events


# --- shape ---------------------------------------------------------------------------------------------------------
def test_attachment_wraps_the_card_for_the_bot_framework() -> None:
    card = welcome_card()
    assert attachment(card) == {"contentType": "application/vnd.microsoft.card.adaptive", "content": card_json(card)}


# --- text ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("[click](https://x)", r"\[click\]\(https://x\)"),
        ("${name}", r"\$\{name\}"),
        ("**bold** and _it_ ~~s~~ `c`", r"\*\*bold\*\* and \_it\_ \~\~s\~\~ \`c\`"),
        ("1. first\n- second\n# third\n> quote", "1\\. first\n\\- second\n\\# third\n\\> quote"),
        ("<https://x> a|b \\", r"\<https://x\> a\|b \\"),
        ("2026-01 e-mail, Great! #3 1.5 x+y", "2026-01 e-mail, Great! #3 1.5 x+y"),
        ("28.3 min", "28.3 min"),
        ("-3 then\n---\n+ item\n## h\n12. twelve", "-3 then\n\\---\n\\+ item\n\\## h\n12\\. twelve"),
        ("&#91;x&#93;", r"\&#91;x\&#93;"),
    ],
)
def test_plain_escapes_markdown_and_template_syntax(raw: str, escaped: str) -> None:
    assert plain(raw) == escaped


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [(12.5, "min", "12.5 min"), (1200, "", "1,200"), (45.0, "%", "45%"), (0.125, "", "0.125"), (None, "min", NO_VALUE)],
)
def test_fmt_number_reads_like_a_person_would_write_it(value: float | None, unit: str, shown: str) -> None:
    assert fmt_number(value, unit) == shown


def test_evil_pilot_names_are_shown_escaped() -> None:
    for i, name in enumerate(EVIL_NAMES):
        status = evil(name, i)
        for card in (
            card_json(status_card(status)),
            card_json(portfolio_card([status])),
            card_json(overdue_card([status], sponsored_by(name))),
        ):
            assert any(plain(name) in shown for shown in rendered_texts(card))
    assert r"\[Eve\]\(https://evil\)" in " ".join(rendered_texts(card_json(status_card(evil("x")))))


# --- status --------------------------------------------------------------------------------------------------------
def test_status_card_shows_metric_trend_checkins_spend_users_governance_and_gate() -> None:
    card = card_json(status_card(healthy()))
    shown = shown_text(card)
    for part in ("Invoice triage copilot", "Dana Whitfield", "30 min", "20 min", "27.95 min", "of the way"):
        assert part in shown
    assert "Handling time, last 4 months" in shown  # the chart title sits above the chart
    (chart,) = charts(card)
    assert chart["type"] == "Chart.Line" and "title" not in chart
    assert [p["x"] for p in chart["data"][0]["values"]] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert "2026-04: 27.95" in chart["fallback"]["text"] and "target 20 min" in chart["fallback"]["text"]
    assert "First-pass accuracy" in shown  # secondary metric as a fact
    assert "910 of 1,000 monthly budget" in shown
    assert "49 of 120 intended (41%)" in shown
    assert "Data loss prevention" in shown
    assert "2026-06-10: in 29 days" in shown
    assert card["actions"][0]["data"] == {"verb": PILOT_STATUS, "pilotId": "p-1"}


def test_status_card_of_a_late_pilot_says_overdue_and_gate_passed_without_decision() -> None:
    shown = shown_text(card_json(status_card(overdue())))
    assert "The check-in for 2026-04 is 11 days overdue." in shown
    assert "2026-04-30: passed 12 days ago, no decision" in shown
    assert "over budget" in shown


def test_status_card_shows_the_latest_decision() -> None:
    shown = shown_text(card_json(status_card(decided())))
    assert "Latest decision: Go: expand (2026-04-02 by Dana Whitfield)" in shown
    assert r"\*\*expand\*\*" in " ".join(rendered_texts(card_json(status_card(decided()))))


def test_status_card_without_readings_has_no_chart() -> None:
    card = card_json(status_card(fresh()))
    assert charts(card) == []
    assert "No check-ins yet." in rendered_texts(card)


def test_status_card_of_36_months_caps_the_chart_and_summarises_the_rest() -> None:
    status = long_running()
    card = card_json(status_card(status))
    (chart,) = charts(card)
    assert len(chart["data"][0]["values"]) == MAX_TREND_POINTS
    assert chart["data"][0]["values"][-1]["x"] == "2026-04"
    shown = shown_text(card)
    assert "24 earlier readings not shown, from 2023-05 (29 min)." in shown
    assert "30 more earlier." in shown  # check-in history: the last 6 periods as facts
    assert card_size(card) < MAX_CARD_BYTES


# --- portfolio and overdue -----------------------------------------------------------------------------------------
def test_portfolio_of_200_pages_by_25_with_a_more_button_and_stays_under_28_kb() -> None:
    statuses = portfolio_statuses(200)
    first = card_json(portfolio_card(statuses))
    shown = rendered_texts(first)
    assert "200 pilots, 67 need attention" in shown
    rows = [n for n in first["body"] if n.get("type") == "Container"]
    assert len(rows) == 25
    assert [a["title"] for a in first["actions"]] == ["More"]
    assert first["actions"][0]["data"] == {"verb": PILOTS_PAGE, "page": 2}
    assert rows[0]["selectAction"]["data"]["pilotId"] == "p-000"  # overdue pilots first
    assert "check-in overdue 11d" in " ".join(rendered_texts(rows[0]))
    last = card_json(portfolio_card(statuses, page=99))
    assert "Page 8 of 8: pilots 176-200 of 200." in rendered_texts(last)
    assert [a["title"] for a in last["actions"]] == ["Previous"]
    for page in range(1, 9):
        assert card_size(card_json(portfolio_card(statuses, page=page))) < MAX_CARD_BYTES


def test_markup_heavy_maximal_texts_still_fit_by_trimming_rows_not_pages() -> None:
    worst = worst_case_statuses(200)
    for page in (1, 8):
        card = card_json(portfolio_card(worst, page=page))
        assert card_size(card) < MAX_CARD_BYTES
        assert f"Page {page} of 8: pilots" in shown_text(card)
    overdue_list = card_json(overdue_card(worst, sponsored_by(*(s.pilot.sponsor.name * 3 for s in worst))))
    assert card_size(overdue_list) < MAX_CARD_BYTES
    assert "more not shown." in shown_text(overdue_list)
    assert card_size(card_json(status_card(worst[0]))) < MAX_CARD_BYTES


def test_portfolio_row_shows_stage_metric_gate_last_checkin_and_flags() -> None:
    card = card_json(portfolio_card([healthy()]))
    shown = shown_text(card)
    assert "1 pilot, 0 need attention" in shown
    assert "Pilot · Handling time: 27.95 min vs target 20 min (20.5%)" in shown
    assert "gate in 29 days · last check-in 2026-04" in shown
    assert "1 governance gap" in shown
    assert "actions" not in card


def test_overdue_card_lists_days_late_and_unreachable_sponsors() -> None:
    shown = shown_text(card_json(overdue_card([healthy(), overdue()], sponsored_by("Sam Ortiz"))))
    assert "Contract summariser" in shown and "Invoice triage copilot" not in shown
    assert "check-in for 2026-04 overdue 11 days; gate 2026-04-30 passed 12 days ago, no decision" in shown
    assert "Sam Ortiz" in shown


def test_overdue_card_says_nothing_overdue_when_all_is_well() -> None:
    assert any(t.startswith("Nothing overdue") for t in rendered_texts(card_json(overdue_card([healthy()], []))))


# --- the form ------------------------------------------------------------------------------------------------------
def test_form_has_the_stable_input_ids_and_defaults() -> None:
    fields = inputs(form())
    assert set(fields) == set(INPUT_IDS)
    assert fields["startDate"]["value"] == "2026-05-12"
    assert fields["gateDate"]["value"] == "2026-08-10" and "start + 90 days" in fields["gateDate"]["label"]
    assert fields["timezone"]["value"] == "UTC"
    assert fields["scaleExpand"]["isMultiline"] and fields["scaleRetire"]["isMultiline"]
    assert {c["value"] for c in fields["metricDirection"]["choices"]} == {"increase", "decrease"}
    sponsor = fields["sponsor"]
    assert sponsor["choices"] == [{"title": "Dana Whitfield (you)", "value": "aad-sponsor-1"}]
    assert sponsor["value"] == "aad-sponsor-1"
    action = form()["actions"][0]
    assert action["type"] == "Action.Execute" and action["verb"] == PILOT_CREATE


def test_form_shows_each_error_next_to_its_field_and_keeps_the_values() -> None:
    card = form(FORM_VALUES, FORM_ERRORS)
    for input_id in ("metricTarget", "timezone"):
        siblings, index = siblings_of(card, input_id)
        note = siblings[index + 1]
        assert note["type"] == "TextBlock" and note["color"] == "Attention"
        assert note["text"] == plain(FORM_ERRORS[input_id])
        assert siblings[index]["errorMessage"] == FORM_ERRORS[input_id]
    siblings, index = siblings_of(card, "name")
    assert index + 1 == len(siblings) or siblings[index + 1].get("color") != "Attention"
    assert "Pick a day from 1 to 28." in rendered_texts(card)  # no input of its own: shown at the top
    fields = inputs(card)
    assert fields["name"]["value"] == "Invoice triage"
    assert fields["metricTarget"]["value"] == 30 and fields["budgetMonthly"]["value"] == 1200
    assert fields["metricDirection"]["value"] == "decrease"
    assert fields["gateDate"]["value"] == "2026-08-02"
    assert fields["timezone"]["value"] == "Mars/Olympus"
    assert fields["scaleExpand"]["value"] == "**All** AP clerks"  # input values are raw text, not markdown
    assert "value" not in fields["intendedUsers"]


def test_gate_default_follows_the_chosen_start_date() -> None:
    assert inputs(form({"startDate": "2026-06-01"}))["gateDate"]["value"] == "2026-08-30"


def test_every_domain_field_error_maps_to_an_input() -> None:
    draft = PilotDraft(
        name="",
        sponsor=Person(""),
        metrics=(Metric("Handling time", "m" * 30, 30.0, 40.0, Direction.DECREASE),),
        start_date=TODAY,
        gate_date=TODAY - timedelta(days=1),
        timezone="Nowhere",
        budget_monthly=-1.0,
        intended_users=0,
        scale_plan=ScalePlan(expand="x" * 3000, retire="y" * 3000),
    )
    with pytest.raises(ValidationFailed) as failed:
        validate_pilot(draft, TODAY)
    mapped = form_errors(failed.value.fields)
    assert set(failed.value.fields) <= set(FORM_FIELDS)
    assert set(mapped) <= set(INPUT_IDS)
    card = form({}, mapped)
    for input_id, message in mapped.items():
        siblings, index = siblings_of(card, input_id)
        assert siblings[index + 1]["text"] == plain(message)


def test_pilot_created_card_summarises_the_pilot() -> None:
    card = card_json(pilot_created_card(healthy().pilot))
    shown = shown_text(card)
    assert "Pilot registered: Invoice triage copilot" in shown
    assert "Handling time: 30 min to 20 min (decrease)" in shown
    assert "2026-06-10 (156 days after start)" in shown
    assert inputs(card) == {}
    assert card["actions"][0]["data"] == {"verb": PILOT_STATUS, "pilotId": "p-1"}


# --- choosing ------------------------------------------------------------------------------------------------------
def test_choose_card_offers_one_status_button_per_candidate() -> None:
    card = card_json(choose_pilot_card("invoice", [("p-1", "Invoice triage"), ("p-2", "Invoice matching")]))
    buttons = [n for n in nodes(card) if n.get("type") == "Action.Execute"]
    assert [(b["title"], b["verb"], b["data"]["pilotId"]) for b in buttons] == [
        ("Invoice triage", PILOT_STATUS, "p-1"),
        ("Invoice matching", PILOT_STATUS, "p-2"),
    ]
    many = card_json(choose_pilot_card("pilot", [(f"p-{i}", f"Pilot {i}") for i in range(9)]))
    assert len([n for n in nodes(many) if n.get("type") == "Action.Execute"]) == MAX_BUTTONS
    assert "4 more match" in " ".join(rendered_texts(many))


def test_not_found_text_suggests_close_names() -> None:
    assert not_found_text("invoce", ["Invoice triage", "Invoice matching"]) == (
        "No pilot named 'invoce'. Did you mean Invoice triage or Invoice matching?"
    )
    assert not_found_text("x", ["A", "B", "C"]) == "No pilot named 'x'. Did you mean A, B or C?"
    assert not_found_text("[x](http://y)", []) == r"No pilot named '\[x\]\(http://y\)'. Type pilots to see them all."


# --- the refresh and the message extension's preview ----------------------------------------------------------------
def test_every_status_card_refreshes_itself_for_everyone_with_the_status_verb() -> None:
    status_cards = {name: card for name, card in every_card().items() if "status" in name}
    assert len(status_cards) >= 10
    for name, card in status_cards.items():
        refresh = card["refresh"]
        assert set(refresh) == {"action"}, name  # no userIds: Teams refreshes for everyone in chats of up to 60
        action = refresh["action"]
        assert action["type"] == "Action.Execute" and action["verb"] == PILOT_STATUS, name
        pressed = next(a for a in card["actions"] if a["type"] == "Action.Execute")
        assert action["data"] == pressed["data"] == {"verb": PILOT_STATUS, "pilotId": pressed["data"]["pilotId"]}


def test_the_official_parser_checks_a_cards_refresh(tmp_path: Path) -> None:
    """So "the parser accepts every card" covers the refresh: it refuses one that Teams could not send."""
    card = card_json(status_card(healthy()))
    card["refresh"] = {"action": {"type": "Action.Submit", "data": {"verb": PILOT_STATUS}}}
    (tmp_path / "submit-refresh.json").write_text(json.dumps(card))
    events = run_official_parser([tmp_path / "submit-refresh.json"])
    assert any("Action.Submit" in event for event in events["submit-refresh.json"]), events


def test_the_search_preview_shows_name_stage_and_gate_and_what_needs_attention() -> None:
    assert status_preview(healthy()) == {
        "contentType": "application/vnd.microsoft.card.thumbnail",
        "content": {
            "title": "Invoice triage copilot",
            "subtitle": "Pilot",
            "text": "Gate in 29 days · 1 governance gap",
        },
    }
    late = status_preview(overdue())["content"]
    assert late["text"] == ("Check-in overdue 11d · gate passed 12d ago, no decision · over budget · 1 governance gap")
    assert status_preview(decided())["content"]["subtitle"] == "Production"
    assert status_preview(decided())["content"]["text"].startswith("Gate decided: go")


@pytest.mark.parametrize("name", EVIL_NAMES)
def test_the_search_preview_keeps_user_text_out_of_the_field_teams_formats(name: str) -> None:
    """Teams formats a thumbnail's text (HTML and markdown) but not its title: the name is the title, as typed."""
    content = status_preview(evil(name))["content"]
    assert content["title"] == name
    assert name not in content["text"] and "Eve" not in content["text"]


# --- help ----------------------------------------------------------------------------------------------------------
def test_welcome_and_help_cards_list_the_commands() -> None:
    welcome = " ".join(rendered_texts(card_json(welcome_card())))
    for command in ("new pilot", "pilots", r"status \<pilot\>", "help"):
        assert command in welcome
    shown = rendered_texts(card_json(help_card([("link", "link <pilot>: this channel")])))
    assert "link" in shown and r"link \<pilot\>: this channel" in shown
    assert "Find a pilot" not in shown
    with_search = rendered_texts(card_json(help_card([("help", "x")], [("Find a pilot", "Insert a status card")])))
    assert "Find a pilot" in with_search and "From any chat's message box" in with_search

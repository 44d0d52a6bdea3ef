"""Properties of every parser that reads what people and systems send (issue 10): months, numbers, dates, JSON
bodies, card submissions and REST bodies. Each returns a value or refuses with its own named error (ValueError,
BadNumber, UnreadableJson; ValidationFailed naming every field for whole submissions and bodies); none ever raises
anything else.

Hypothesis runs each property on a bounded number of examples, derandomized and without an example database, so CI
checks the same inputs on every run.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Final, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from api import json_input
from api.schemas import PilotIn, PilotPatch, ReadingIn, field_errors
from cards.checkin import metric_input_id
from cards.decision import DECISION_INPUTS
from cards.inputs import MAX_NUMBER_CHARS, BadNumber, parse_date, parse_number
from cards.submissions import CheckinSubmission, DecisionSubmission, NewPilotSubmission, read
from governance.decisions import apply_decision
from governance.errors import ValidationFailed
from governance.model import GOVERNANCE_ITEMS, Person
from governance.period import MAX_YEAR, MIN_YEAR, Period
from governance.rules import PilotDraft, name_key, validate_pilot, validate_reading
from governance.services import API_ACTOR, PilotService
from storage.repositories import Repositories
from tests.fakes import FixedClock, MemoryDocumentStore
from tests.unit.test_checkin import make_pilot

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

PROPERTY: Final = settings(max_examples=300, deadline=None, derandomize=True, database=None)
# Parsers of whole bodies and cards: fewer, larger examples.
BODY_PROPERTY: Final = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
TODAY: Final = date(2026, 11, 26)
TODAYS: Final = st.dates(date(2000, 1, 1), date(2100, 12, 31))  # a clock's dates, never near year 1 or 9999

# --- strategies ---------------------------------------------------------------------------------------------------
# Text as JSON can carry it: any code point, lone surrogates included.
ANY_TEXT: Final = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
JSON_SCALARS: Final = st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT
JSON_VALUES: Final = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(ANY_TEXT, children, max_size=4),
    max_leaves=12,
)
periods: Final = st.builds(Period, st.integers(MIN_YEAR, MAX_YEAR), st.integers(1, 12))
finite_floats: Final = st.floats(allow_nan=False, allow_infinity=False)
# What people type into card inputs, near the edges of what is read.
TYPED: Final = st.one_of(
    ANY_TEXT,
    st.sampled_from(
        [
            "",
            " ",
            "green",
            " AMBER ",
            "red",
            "purple",
            "increase",
            "decrease",
            "go",
            "Narrow",
            "extend",
            "retire",
            "2026-12-01",
            "2026-12-01T09:00:00Z",
            "2026-02-30",
            "9999-12-31",
            "0001-01-01",
            "1,234.5",
            "1,5",
            "-3",
            "$1,200.50",
            "1e308",
            "1e309",
            "nan",
            "inf",
            "Europe/Berlin",
            "UTC",
            "x" * 2001,
        ]
    ),
    finite_floats.map(repr),
    st.integers(-(10**15), 10**15).map(lambda n: f"{n:,}"),
    st.dates().map(date.isoformat),
    JSON_VALUES,  # an Action.Submit fallback may send numbers; anything else is an attack or a bug
)


def card_data(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """A card action's data: some of the card's own input ids with typed values, and a few stray keys."""
    known = st.fixed_dictionaries({}, optional={key: TYPED for key in keys})
    stray = st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=3)
    return st.builds(lambda stray, known: {**stray, **known}, stray, known)


def aliases(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(sorted({info.alias or name for name, info in model.model_fields.items()} | set(model.model_fields)))


def named_refusal_or(make: Callable[[], T]) -> T | None:
    """``make()``, or None when it raised ValidationFailed naming at least one field; any other exception fails."""
    try:
        return make()
    except ValidationFailed as exc:
        assert exc.fields, "ValidationFailed without fields"
        assert all(
            isinstance(key, str) and key and isinstance(problem, str) and problem for key, problem in exc.fields.items()
        )
        return None


# --- periods ------------------------------------------------------------------------------------------------------
@PROPERTY
@given(text=ANY_TEXT | st.from_regex(r"[0-9]{4}-[0-9]{2}", fullmatch=True) | periods.map(str))
def test_a_period_is_parsed_only_from_its_own_spelling(text: str) -> None:
    try:
        period = Period.parse(text)
    except ValueError:
        return
    assert str(period) == text
    assert text.isascii()


@PROPERTY
@given(
    digits=st.lists(st.characters(categories=["Nd"]), min_size=6, max_size=6).filter(
        lambda ds: not all(d.isascii() for d in ds)
    )
)
def test_a_period_written_with_any_digit_that_is_not_ascii_is_refused(digits: list[str]) -> None:
    with pytest.raises(ValueError):
        Period.parse("".join(digits[:4]) + "-" + "".join(digits[4:]))


@PROPERTY
@given(a=periods, b=periods)
def test_periods_order_as_year_then_month_and_as_their_text(a: Period, b: Period) -> None:
    assert (a < b) == ((a.year, a.month) < (b.year, b.month))
    assert (a == b) == ((a.year, a.month) == (b.year, b.month))
    assert (a < b) == (str(a) < str(b))  # stored ids that embed the period sort by time
    assert b.months_since(a) == (b.year - a.year) * 12 + b.month - a.month


@PROPERTY
@given(period=periods)
def test_next_and_previous_undo_each_other(period: Period) -> None:
    if period != Period(MAX_YEAR, 12):
        assert period.next.previous == period and period.next > period
    if period != Period(MIN_YEAR, 1):
        assert period.previous.next == period and period.previous < period


@PROPERTY
@given(period=periods, data=st.data())
def test_plus_then_minus_the_same_months_is_the_same_period(period: Period, data: st.DataObject) -> None:
    index = period.year * 12 + period.month - 1
    months = data.draw(st.integers(MIN_YEAR * 12 - index, MAX_YEAR * 12 + 11 - index))
    moved = period.plus(months)
    assert moved.plus(-months) == period
    assert moved.months_since(period) == months


@PROPERTY
@given(period=periods, months=st.integers(-(10**6), 10**6))
def test_plus_beyond_the_calendar_is_refused(period: Period, months: int) -> None:
    index = period.year * 12 + period.month - 1 + months
    if MIN_YEAR * 12 <= index <= MAX_YEAR * 12 + 11:
        assert period.plus(months).months_since(period) == months
    else:
        with pytest.raises(ValueError):
            period.plus(months)


# --- numbers ------------------------------------------------------------------------------------------------------
NUMBERISH: Final = st.text(alphabet="0123456789+-.,eE _$€£¥\u00a0", max_size=45)


@PROPERTY
@given(text=ANY_TEXT | NUMBERISH | TYPED.filter(lambda v: isinstance(v, str)), money=st.booleans())
def test_any_text_is_a_finite_number_blank_or_bad_number(text: str, money: bool) -> None:
    try:
        number = parse_number(text, money=money)
    except BadNumber:
        return
    if number is None:
        assert not text.strip().replace(" ", "").replace("\u00a0", "").replace("_", "").strip("$€£¥" if money else "")
    else:
        assert isinstance(number, float) and math.isfinite(number)


@PROPERTY
@given(number=finite_floats, money=st.booleans())
def test_a_float_reads_back_from_its_repr_and_its_grouped_form(number: float, money: bool) -> None:
    assert len(repr(number)) <= MAX_NUMBER_CHARS
    assert parse_number(repr(number), money=money) == number
    assert parse_number(f"{number:,}", money=money) == number


@PROPERTY
@given(whole=st.integers(-(10**25), 10**25))
def test_thousands_separators_are_read_as_grouping(whole: int) -> None:
    assert parse_number(f"{whole:,}") == float(whole)
    assert parse_number(f"{whole:,}.5") == float(f"{whole}.5")


@PROPERTY
@given(
    head=st.integers(0, 999), tail=st.text(alphabet="0123456789", min_size=1, max_size=6).filter(lambda t: len(t) != 3)
)
def test_a_comma_that_is_not_a_thousands_separator_is_refused(head: int, tail: str) -> None:
    with pytest.raises(BadNumber):
        parse_number(f"{head},{tail}")


def test_grouping_examples_from_the_issue() -> None:
    assert parse_number("1,234.5") == 1234.5
    with pytest.raises(BadNumber):
        parse_number("1,5")


@PROPERTY
@given(digits=st.text(alphabet="0123456789", min_size=MAX_NUMBER_CHARS + 1, max_size=MAX_NUMBER_CHARS + 200))
def test_digit_strings_longer_than_the_bound_are_refused(digits: str) -> None:
    with pytest.raises(BadNumber):
        parse_number(digits)


# --- dates --------------------------------------------------------------------------------------------------------
@PROPERTY
@given(text=ANY_TEXT | TYPED.filter(lambda v: isinstance(v, str)))
def test_any_text_is_a_date_blank_or_value_error(text: str) -> None:
    try:
        day = parse_date(text)
    except ValueError:
        return
    if text.strip():
        assert isinstance(day, date)
    else:
        assert day is None


@PROPERTY
@given(day=st.dates(), time=st.sampled_from(["", "T09:00:00Z", "T00:00:00.000+05:30", " "]))
def test_a_date_input_value_reads_back_with_or_without_a_time(day: date, time: str) -> None:
    assert parse_date(f" {day.isoformat()}{time}") == day


# --- JSON bodies --------------------------------------------------------------------------------------------------
def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _finite_everywhere(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite_everywhere(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite_everywhere(v) for v in value)
    return True


@PROPERTY
@given(
    raw=st.binary(max_size=200)
    | ANY_TEXT
    | JSON_VALUES.map(lambda v: json.dumps(v).encode())
    | st.from_regex(rb"-?[0-9]{1,60}(\.[0-9]{0,20})?([eE][+-]?[0-9]{1,6})?", fullmatch=True)
)
def test_any_body_is_a_json_value_or_unreadable_json(raw: bytes | str) -> None:
    try:
        value = json_input.loads(raw)
    except json_input.UnreadableJson as exc:
        assert exc.message
        return
    assert _depth(value) <= json_input.MAX_DEPTH
    assert _finite_everywhere(value), value


PLAIN_JSON: Final = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | finite_floats | ANY_TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(ANY_TEXT, children, max_size=3),
    max_leaves=20,
)


@PROPERTY
@given(value=PLAIN_JSON, max_depth=st.integers(0, 8))
def test_json_within_the_bounds_reads_back_and_deeper_json_is_refused(value: Any, max_depth: int) -> None:
    raw = json.dumps(value).encode()
    if _depth(value) > max_depth:
        with pytest.raises(json_input.UnreadableJson):
            json_input.loads(raw, max_depth=max_depth)
    else:
        assert json_input.loads(raw, max_depth=max_depth) == value


@settings(PROPERTY, max_examples=60)
@given(levels=st.integers(0, 20_000), opener=st.sampled_from([b"[", b'{"a":']))
def test_nesting_deeper_than_the_bound_is_refused_however_deep(levels: int, opener: bytes) -> None:
    closer = b"]" if opener == b"[" else b"}"
    raw = opener * levels + b"1" + closer * levels
    if levels > json_input.MAX_DEPTH:
        with pytest.raises(json_input.UnreadableJson):
            json_input.loads(raw)
    else:
        assert _depth(json_input.loads(raw)) == levels


# --- card submissions ---------------------------------------------------------------------------------------------
PILOT = make_pilot()
NEW_PILOT_KEYS: Final = aliases(NewPilotSubmission)
CHECKIN_KEYS: Final = (*aliases(CheckinSubmission), *(metric_input_id(i) for i in range(3)))
DECISION_KEYS: Final = (
    *aliases(DecisionSubmission),
    *sorted({input_id for inputs in DECISION_INPUTS.values() for input_id in inputs.values()}),
)


def with_pilot_id(data: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Half the data carries the pilot's id; in the rest it is missing, or whatever the random inputs put there."""
    return st.builds(lambda d: {**d, "pilotId": PILOT.id}, data) | data


@BODY_PROPERTY
@given(data=card_data(NEW_PILOT_KEYS), sponsor_name=ANY_TEXT, today=TODAYS)
def test_any_new_pilot_card_is_a_valid_draft_or_refused_by_input(
    data: dict[str, Any], sponsor_name: str, today: date
) -> None:
    submission = named_refusal_or(lambda: read(NewPilotSubmission, data))
    if submission is None:
        return
    draft = named_refusal_or(lambda: submission.to_draft(sponsor_name, today))
    if draft is not None:
        named_refusal_or(lambda: validate_pilot(draft, today))


@BODY_PROPERTY
@given(data=with_pilot_id(card_data(CHECKIN_KEYS)))
def test_any_checkin_card_is_a_valid_reading_or_refused_by_input(data: dict[str, Any]) -> None:
    submission = named_refusal_or(lambda: read(CheckinSubmission, data))
    if submission is None:
        return
    draft = named_refusal_or(lambda: submission.to_draft(PILOT))
    if draft is not None:
        assert set(draft.values) <= {m.name for m in PILOT.metrics}
        named_refusal_or(lambda: validate_reading(draft, PILOT.metrics, PILOT.start_date, TODAY))


@BODY_PROPERTY
@given(data=with_pilot_id(card_data(DECISION_KEYS)), admin=st.booleans(), more_extensions=st.booleans())
def test_any_decision_card_is_a_decision_or_refused_by_input(
    data: dict[str, Any], admin: bool, more_extensions: bool
) -> None:
    submission = named_refusal_or(lambda: read(DecisionSubmission, data))
    if submission is None:
        return
    draft = named_refusal_or(submission.to_draft)
    if draft is not None:
        now = datetime(2026, 11, 26, 9, tzinfo=UTC)
        named_refusal_or(
            lambda: apply_decision(PILOT, draft, admin, more_extensions, TODAY, Person("aad-1", "Dana"), now)
        )


# --- REST bodies --------------------------------------------------------------------------------------------------
# Values of the right JSON type, near and past the domain's limits; wrong types come from the junk in rest_body.
TEXT: Final = st.text(max_size=30)
NAME: Final = st.text(min_size=1, max_size=30).filter(str.strip) | st.just("x" * 81)
LONG_TEXT: Final = TEXT | st.sampled_from(["x" * 2001])
ID: Final = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,20}", fullmatch=True)
NUMBER: Final = st.integers(-1000, 1000) | st.floats(min_value=-1.1e12, max_value=1.1e12)
MONEY: Final = st.none() | st.integers(0, 10**6) | st.floats(min_value=0, max_value=1.1e12)
DATE_TEXT: Final = st.dates(date(1995, 1, 1), date(2105, 1, 1)).map(date.isoformat) | st.dates().map(date.isoformat)
METRIC: Final = st.fixed_dictionaries(
    {"name": NAME, "baseline": NUMBER, "target": NUMBER, "direction": st.sampled_from(["increase", "decrease"])},
    optional={"unit": st.text(max_size=25)},
) | st.builds(  # a target that moves the right way, which the domain accepts
    lambda name, baseline, step, up: {
        "name": name,
        "baseline": baseline,
        "target": baseline + step if up else baseline - step,
        "direction": "increase" if up else "decrease",
    },
    NAME,
    st.integers(-1000, 1000),
    st.integers(1, 1000),
    st.booleans(),
)
PILOT_FIELDS: Final[dict[str, st.SearchStrategy[Any]]] = {
    "name": NAME,
    "tenantId": ID,
    "sponsor": st.fixed_dictionaries({"aadObjectId": ID}, optional={"name": TEXT}),
    "metrics": st.lists(METRIC, min_size=1, max_size=3, unique_by=lambda metric: name_key(metric["name"])),
    "startDate": DATE_TEXT,
    "gateDate": DATE_TEXT | st.none(),
    "checkinDay": st.integers(1, 29),
    "timezone": st.sampled_from(
        ["UTC", "Europe/Berlin", "localtime", "Factory", "posix/Europe/Berlin", "", "Mars/Base"]
    ),
    "channel": st.none() | st.fixed_dictionaries({"conversationId": ID}, optional={"teamId": ID, "name": TEXT}),
    "budgetMonthly": MONEY,
    "intendedUsers": st.none() | st.integers(0, 2 * 10**7),
    "scalePlan": st.fixed_dictionaries({}, optional={"expand": LONG_TEXT, "retire": LONG_TEXT}),
    "governance": st.dictionaries(st.sampled_from(GOVERNANCE_ITEMS) | TEXT, st.booleans(), max_size=4),
}
READING_FIELDS: Final[dict[str, st.SearchStrategy[Any]]] = {
    # The pilot started in 2025-11 and today is in 2026-11: its months, the edges around them, and any month.
    "period": st.sampled_from(["2025-11", "2026-10", "2026-11", "2026-12"])
    | st.sampled_from(["2025-10", "2027-01"])
    | periods.map(str),
    "values": st.dictionaries(st.sampled_from([m.name for m in PILOT.metrics]), NUMBER, min_size=1)
    | st.dictionaries(st.sampled_from([m.name for m in PILOT.metrics]) | TEXT, NUMBER, min_size=1, max_size=3),
    "status": st.sampled_from(["green", "amber", "red"]),
    "activeUsers": st.none() | st.integers(0, 2 * 10**7),
    "spend": MONEY,
    "blockers": LONG_TEXT,
    "notes": LONG_TEXT,
}


def rest_body(
    fields: Mapping[str, st.SearchStrategy[Any]], required: tuple[str, ...]
) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects shaped like the model (the required keys there, values near the domain's edges), half of them
    with a key or two replaced or added with any JSON value."""
    shaped = st.fixed_dictionaries(
        {key: fields[key] for key in required}, optional={k: v for k, v in fields.items() if k not in required}
    )
    junk = st.dictionaries(st.sampled_from(sorted(fields)) | ANY_TEXT, JSON_VALUES, min_size=1, max_size=2)
    return shaped | st.builds(lambda shaped, junk: {**shaped, **junk}, shaped, junk)


def names_one_of(field: str, names: set[str]) -> bool:
    """``metrics[0].target`` names ``metrics``; a stray key such as ``a.b`` is named as it was sent."""
    return field in names or re.split(r"[.\[]", field, maxsplit=1)[0] in names


def parsed_or_named(model: type[M], body: dict[str, Any]) -> M | None:
    """The body as ``model`` (what api.routes.parse_body returns for an object), or None after checking that
    pydantic's errors, as the API reports them, name fields of the model or keys of the body."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        fields = field_errors(exc)
        assert fields
        names = {*aliases(model), *map(str, body), "body"}
        assert all(names_one_of(key, names) for key in fields), fields
        return None


def assert_named_by_model(model: type[BaseModel], check: Callable[[], object]) -> None:
    try:
        check()
    except ValidationFailed as exc:
        assert exc.fields
        assert all(names_one_of(key, set(aliases(model))) for key in exc.fields), exc.fields


@BODY_PROPERTY
@given(body=rest_body(PILOT_FIELDS, ("name", "tenantId", "sponsor", "metrics", "startDate")), today=TODAYS)
def test_any_pilot_body_is_a_valid_draft_or_refused_by_field(body: dict[str, Any], today: date) -> None:
    parsed = parsed_or_named(PilotIn, body)
    if parsed is not None:
        assert_named_by_model(PilotIn, lambda: validate_pilot(parsed.to_draft(), today))


@BODY_PROPERTY
@given(body=rest_body(READING_FIELDS, ("period", "values", "status")))
def test_any_reading_body_is_a_valid_draft_or_refused_by_field(body: dict[str, Any]) -> None:
    parsed = parsed_or_named(ReadingIn, body)
    if parsed is not None:
        assert_named_by_model(
            ReadingIn, lambda: validate_reading(parsed.to_draft(), PILOT.metrics, PILOT.start_date, TODAY)
        )


async def _patch(patch: PilotPatch) -> None:
    """Register a valid pilot on the in-memory store and PATCH it as api.routes does."""
    store = MemoryDocumentStore()
    await store.open()
    repos = Repositories.on(store)
    clock = FixedClock()
    service = PilotService(repos.pilots, repos.readings, repos.decisions, repos.audit, clock, repos.agenda)
    draft = PilotDraft(
        name=PILOT.name,
        sponsor=PILOT.sponsor,
        metrics=PILOT.metrics,
        start_date=date(2026, 9, 1),
        timezone="Europe/Berlin",
        governance={"dataLabels": True},
    )
    pilot = await service.register(draft, "tenant-1", API_ACTOR)
    try:
        changes = patch.changes(pilot)
    except ValueError as exc:
        assert str(exc) in PilotPatch.model_fields  # api.routes answers {camelCase(field): "cannot be cleared"}
        return
    await service.update(pilot.id, changes, API_ACTOR, pilot.tenant_id)


@BODY_PROPERTY
@given(body=rest_body({key: values | st.none() for key, values in PILOT_FIELDS.items() if key != "tenantId"}, ()))
def test_any_patch_body_changes_the_pilot_or_is_refused_by_field(body: dict[str, Any]) -> None:
    parsed = parsed_or_named(PilotPatch, body)
    if parsed is not None:
        assert_named_by_model(PilotPatch, lambda: asyncio.run(_patch(parsed)))

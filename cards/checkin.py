"""The monthly check-in card sent to the sponsor, the read-only summary that replaces it, and the nudges.

The form as sent carries a ``refresh`` (verb ``checkin.view``, data ``{pilotId, period}``; no ``userIds``, it goes
to a 1:1 chat), so whenever the sponsor looks at it Teams asks the bot for its state now: the form while the month
is open and unanswered, "already received" once a reading is in (sent in Teams, on another device, or through the
REST API), and "superseded" once a later month's check-in is due. Only the form refreshes: the other two are final,
and a form refilled after a failed submit has no refresh, so a refresh cannot wipe what was typed.

Input ids are defined here and read back by ``cards.submissions.CheckinSubmission``. Each problem is shown right
under its input (an attention TextBlock) and as the input's ``errorMessage``; the values as Teams sent them are
kept.

Input labels are plain text (hosts do not render markdown in labels), so metric names go into them unescaped, as
input values do; everything in a TextBlock or FactSet goes through plain().
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Final

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    NumberInput,
    ShowCardAction,
    TextInput,
)

from cards.elements import CARD_BUDGET, build, facts, heading, section, text
from cards.pieces import (
    HEALTH_COLOR,
    HEALTH_LABEL,
    MAX_FREE_TEXT,
    MAX_LABEL_NAME,
    kept_number,
    kept_text,
    period_label,
    sponsor_label,
    with_error,
)
from cards.text import card_size, fmt_number, plain, plural, shorten
from cards.verbs import (
    CHECKIN_AWAY,
    CHECKIN_SKIP,
    CHECKIN_SUBMIT,
    CHECKIN_VIEW,
    CORRECTION_SUBMIT,
    PILOT_STATUS,
    READING_CORRECT,
    execute,
    refresh,
)
from governance.checkin import checkin_send_date
from governance.checkin import remind_on as checkin_remind_on
from governance.corrections import CORRECTION_MONTHS
from governance.lead import LEAD, checkin_audiences
from governance.localtime import local_date
from governance.model import HealthStatus, Metric, MetricReading, Pilot, ReadingSource
from governance.period import Period
from governance.rules import MAX_TEXT

# Input ids (Teams sends each value as a string). Metric inputs are ``metric_0``, ``metric_1`` ... in the order of
# ``pilot.metrics``; ``pilotId`` and ``period`` travel in the action's data.
STATUS_INPUT: Final = "status"
ACTIVE_USERS_INPUT: Final = "activeUsers"
SPEND_INPUT: Final = "spend"
BLOCKERS_INPUT: Final = "blockers"
NOTES_INPUT: Final = "notes"
PERIOD_FIELD: Final = "period"
BASED_ON_FIELD: Final = "basedOn"  # the stamp of the reading a correction form (or a Confirm button) was built on
CORRECT_PERIOD_INPUT: Final = "correctPeriod"  # the month chosen under the status card's "Correct a reading"
STATUS_CHOICES: Final = tuple((status.value, HEALTH_LABEL[status]) for status in HealthStatus)
# How much submitted free text a refilled form keeps: all of it, then less while the card is too large.
KEEP_TEXT_LIMITS: Final = (MAX_TEXT, 300, 0)


def metric_input_id(index: int) -> str:
    return f"metric_{index}"


def input_ids(pilot: Pilot) -> tuple[str, ...]:
    """Every input id of ``pilot``'s check-in card, in the order they appear."""
    metrics = tuple(metric_input_id(i) for i in range(len(pilot.metrics)))
    return (*metrics, STATUS_INPUT, ACTIVE_USERS_INPUT, SPEND_INPUT, BLOCKERS_INPUT, NOTES_INPUT)


def input_for(pilot: Pilot, field: str) -> str:
    """The input that shows a reading's field error: ``values.<metric>`` -> that metric's input."""
    for index, metric in enumerate(pilot.metrics):
        if field == f"values.{metric.name}":
            return metric_input_id(index)
    return field


def _metric_label(metric: Metric, last: float | None) -> str:
    name = shorten(metric.name, MAX_LABEL_NAME)
    unit = f" ({metric.unit})" if metric.unit else ""
    previous = fmt_number(last, metric.unit) if last is not None else "none"
    return (
        f"{name}{unit}: baseline {fmt_number(metric.baseline, metric.unit)}, "
        f"target {fmt_number(metric.target, metric.unit)}, last month: {previous}"
    )


def checkin_card(
    pilot: Pilot,
    period: Period,
    last_reading: MetricReading | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    received: MetricReading | None = None,
) -> AdaptiveCard:
    """The check-in form for ``period``, or, when ``received`` is given, the readings that already arrived.

    The empty form (no ``values``, no ``errors``) carries the refresh that keeps it current (see the module note).
    Kept free text is shortened, then dropped, if the card would pass Teams' size limit (2,000 characters of
    non-ASCII text take 12 KB once JSON-escaped).
    """
    for keep in KEEP_TEXT_LIMITS:
        card = _checkin_card(pilot, period, last_reading, values, errors, received, keep)
        if card_size(card) <= CARD_BUDGET:
            break
    if received is None and not values and not errors:
        card = card.with_refresh(refresh(CHECKIN_VIEW, checkin_ref(pilot, period)))
    return card  # the last try keeps no free text at all


def checkin_ref(pilot: Pilot, period: Period) -> dict[str, str]:
    return {"pilotId": pilot.id, PERIOD_FIELD: str(period)}


def _checkin_card(
    pilot: Pilot,
    period: Period,
    last_reading: MetricReading | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    received: MetricReading | None,
    keep: int,
) -> AdaptiveCard:
    month = period_label(period)
    body: list[CardElement] = [
        heading(plain(f"Monthly check-in: {pilot.name}")),
        text(plain(f"How did {month} go? The readings feed the gate on {pilot.gate_date}."), subtle=True),
    ]
    if received is not None:
        body.append(text(plain(f"The readings for {month} are already in: {received_from(received)}."), color="Good"))
        body += reading_details(pilot, received)
        return build(body, [execute("Show status", PILOT_STATUS, {"pilotId": pilot.id})])

    body += _form(pilot, period, last_reading, values, errors, keep)
    remind_on = checkin_remind_on(pilot, period)
    if remind_on is not None:
        body.append(text(plain(f"You asked to be reminded on {day_label(remind_on)}."), subtle=True))
    ref = checkin_ref(pilot, period)
    return build(
        body,
        [
            execute("Submit check-in", CHECKIN_SUBMIT, ref, style="positive"),
            execute("Remind me on ...", CHECKIN_AWAY, ref, with_inputs=False),
            execute("Skip this month", CHECKIN_SKIP, ref, with_inputs=False),
        ],
    )


def _form(
    pilot: Pilot,
    period: Period,
    last_reading: MetricReading | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    keep: int,
) -> list[CardElement]:
    """The check-in's inputs, each with its kept value and its problem: the check-in and the correction share them."""
    month = period_label(period)
    ids = input_ids(pilot)
    body: list[CardElement] = []
    if errors:
        body.append(text("Nothing was saved yet: fix the values marked below and submit again.", color="Attention"))
        body += [
            text(plain(problem), color="Attention", spacing="Small")
            for key, problem in errors.items()
            if key not in ids
        ]

    body.append(section("Metrics"))
    for index, metric in enumerate(pilot.metrics):
        input_id = metric_input_id(index)
        last = last_reading.values.get(metric.name) if last_reading is not None else None
        required = index == 0
        element = NumberInput(
            id=input_id,
            label=_metric_label(metric, last),
            value=kept_number(values.get(input_id)),
            placeholder=f"{metric.name} for {month}" if required else "Leave blank if not measured",
            is_required=required or None,
            error_message=errors.get(input_id) or ("Enter this month's value." if required else None),
        )
        body += with_error(element, errors.get(input_id))

    body.append(section("Status, adoption and spend"))
    kept_status = values.get(STATUS_INPUT)
    body += with_error(
        ChoiceSetInput(
            id=STATUS_INPUT,
            label="Overall status",
            style="expanded",
            choices=[Choice(title=title, value=value) for value, title in STATUS_CHOICES],
            value=kept_status if kept_status in {value for value, _ in STATUS_CHOICES} else None,
            is_required=True,
            error_message=errors.get(STATUS_INPUT) or "Choose green, amber or red.",
        ),
        errors.get(STATUS_INPUT),
    )
    users_label = "Active users this month"
    if pilot.intended_users:
        users_label += f" (intended: {fmt_number(pilot.intended_users)})"
    spend_label = f"Spend in {month}"
    if pilot.budget_monthly is not None:
        spend_label += f" (monthly budget: {fmt_number(pilot.budget_monthly)})"
    for input_id, label in ((ACTIVE_USERS_INPUT, users_label), (SPEND_INPUT, spend_label)):
        element = NumberInput(
            id=input_id,
            label=label,
            value=kept_number(values.get(input_id)),
            min=0,
            error_message=errors.get(input_id),
        )
        body += with_error(element, errors.get(input_id))
    for input_id, label, hint in (
        (BLOCKERS_INPUT, "Blockers", "What stands in the way? Leave blank if nothing."),
        (NOTES_INPUT, "Notes", "Anything else the gate should know"),
    ):
        body += with_error(
            TextInput(
                id=input_id,
                label=label,
                value=kept_text(values.get(input_id), keep),
                placeholder=hint,
                is_multiline=True,
                max_length=MAX_TEXT,
                error_message=errors.get(input_id),
            ),
            errors.get(input_id),
        )
    return body


def day_label(day: date) -> str:
    """``Tuesday 15 December 2026``."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def received_from(reading: MetricReading) -> str:
    """Who sent a reading, how and when, and who corrected or confirmed it (plain text, not yet escaped)."""
    who = reading.submitted_by.name or ("a system of record" if reading.source is ReadingSource.API else "")
    via = "through the API" if reading.source is ReadingSource.API else "in Teams"
    by = f" by {who}" if who else ""
    sent = f"sent {via}{by} on {reading.submitted_at.date().isoformat()}"
    if reading.corrected_at is not None:
        corrector = reading.corrected_by.name if reading.corrected_by is not None else ""
        sent += f", corrected{f' by {corrector}' if corrector else ''} on {reading.corrected_at.date().isoformat()}"
    if reading.confirmed_at is not None and reading.confirmed_by is not None:
        sent += f", confirmed by {reading.confirmed_by.name or 'the sponsor'}"
    return sent


# --- correcting a past reading ------------------------------------------------------------------------------------
def reading_values(pilot: Pilot, reading: MetricReading) -> dict[str, str]:
    """A stored reading as the check-in's inputs (input id -> text): the correction form starts from it."""
    out = {
        metric_input_id(index): _number_text(reading.values.get(metric.name))
        for index, metric in enumerate(pilot.metrics)
    }
    out |= {
        STATUS_INPUT: reading.status.value,
        ACTIVE_USERS_INPUT: _number_text(reading.active_users),
        SPEND_INPUT: _number_text(reading.spend),
        BLOCKERS_INPUT: reading.blockers,
        NOTES_INPUT: reading.notes,
    }
    return {key: value for key, value in out.items() if value}


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def correction_card(
    pilot: Pilot,
    period: Period,
    current: MetricReading | None,
    last_reading: MetricReading | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    *,
    note: str = "",
) -> AdaptiveCard:
    """The form that corrects ``period``'s reading (``current``; None fills in a month that has none), filled with
    ``values`` (the reading itself when it is first shown) and each problem next to its input. ``note`` says why the
    form is shown again (the reading changed meanwhile); what was typed is kept."""
    for keep in KEEP_TEXT_LIMITS:
        card = _correction_card(pilot, period, current, last_reading, values, errors, note, keep)
        if card_size(card) <= CARD_BUDGET:
            break
    return card


def _correction_card(
    pilot: Pilot,
    period: Period,
    current: MetricReading | None,
    last_reading: MetricReading | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    note: str,
    keep: int,
) -> AdaptiveCard:
    month = period_label(period)
    where = (
        f"The readings for {month} as they stand: {received_from(current)}."
        if current is not None
        else f"No readings were received for {month}: this records them."
    )
    body: list[CardElement] = [heading(plain(f"Correct a reading: {pilot.name}")), text(plain(where), subtle=True)]
    if note:
        body.append(text(plain(note), color="Warning"))
    body += _form(pilot, period, last_reading, values, errors, keep)
    data = {**checkin_ref(pilot, period), BASED_ON_FIELD: current.stamp if current is not None else ""}
    return build(body, [execute("Save correction", CORRECTION_SUBMIT, data, style="positive")])


def correct_action(pilot: Pilot, choices: Mapping[Period, MetricReading | None]) -> ShowCardAction | None:
    """The status card's "Correct a reading": choose one of the last months (``choices``, latest first, with its
    reading if any), then open its form. None when no month can be corrected yet."""
    if not choices:
        return None
    metric = pilot.primary_metric
    options: list[Choice] = []
    for period, reading in choices.items():
        value = reading.values.get(metric.name) if reading is not None else None
        if reading is None:
            shown = "no reading"
        else:
            shown = fmt_number(value, metric.unit) if value is not None else "not reported"
            shown += " (corrected)" if reading.corrected else ""
        options.append(Choice(title=f"{period_label(period)}: {shown}", value=str(period)))
    picker = ChoiceSetInput(
        id=CORRECT_PERIOD_INPUT,
        label="Which month?",
        choices=options,
        value=options[0].value,
        is_required=True,
        error_message="Choose a month.",
    )
    hint = text(
        f"The sponsor or the lead can correct any of the last {CORRECTION_MONTHS} months.", subtle=True, spacing="Small"
    )
    open_form = execute("Open the form", READING_CORRECT, {"pilotId": pilot.id})
    return ShowCardAction(title="Correct a reading", card=AdaptiveCard(body=[picker, hint], actions=[open_form]))


def reading_details(pilot: Pilot, reading: MetricReading) -> list[CardElement]:
    rows: list[tuple[str, str]] = []
    for metric in pilot.metrics:
        value = reading.values.get(metric.name)
        shown = fmt_number(value, metric.unit) if value is not None else "not reported"
        rows.append(
            (shorten(metric.name, MAX_LABEL_NAME), f"{shown} (target {fmt_number(metric.target, metric.unit)})")
        )
    if reading.active_users is None:
        users = "not reported"
    elif pilot.intended_users:
        users = f"{fmt_number(reading.active_users)} of {fmt_number(pilot.intended_users)} intended"
    else:
        users = fmt_number(reading.active_users)
    if reading.spend is None:
        spend = "not reported"
    elif pilot.budget_monthly is not None:
        spend = f"{fmt_number(reading.spend)} of {fmt_number(pilot.budget_monthly)} monthly budget"
    else:
        spend = fmt_number(reading.spend)
    rows += [("Active users", users), ("Spend", spend)]
    elements: list[CardElement] = [
        text(plain(f"Status: {HEALTH_LABEL[reading.status]}"), weight="Bolder", color=HEALTH_COLOR[reading.status]),
        facts(rows),
    ]
    for label, note in (("Blockers", reading.blockers), ("Notes", reading.notes)):
        if note:
            elements.append(text(plain(f"{label}: {shorten(note, MAX_FREE_TEXT)}"), spacing="Small"))
    return elements


def checkin_summary_card(pilot: Pilot, reading: MetricReading, title: str = "Check-in received") -> AdaptiveCard:
    """Replaces the check-in (or correction) form for everyone once the reading is stored: read-only, with who sent
    it and who corrected it."""
    body: list[CardElement] = [
        heading(plain(f"{title}: {pilot.name}")),
        text(plain(f"{period_label(reading.period)}, {received_from(reading)}."), subtle=True, spacing="None"),
        *reading_details(pilot, reading),
    ]
    return build(body, [execute("Show status", PILOT_STATUS, {"pilotId": pilot.id})])


def checkin_superseded_card(
    pilot: Pilot, period: Period, newer: Period, *, newer_received: bool = False
) -> AdaptiveCard:
    """What an unanswered check-in card turns into once a later month's check-in is due: a read-only note that
    points to the newer card (or says that month is in already)."""
    month, next_month = period_label(period), period_label(newer)
    where = (
        f"the readings for {next_month} are already in"
        if newer_received
        else f"answer the {next_month} card further down this chat"
    )
    body: list[CardElement] = [
        heading(plain(f"Monthly check-in: {pilot.name}")),
        text(
            plain(f"This card asked for {month}. The {next_month} check-in has replaced it: {where}."),
            color="Accent",
        ),
        text(plain(f"No readings were received for {month}."), subtle=True, spacing="Small"),
    ]
    return build(body, [execute("Show status", PILOT_STATUS, {"pilotId": pilot.id})])


def checkin_reminder_text(pilot: Pilot, period: Period, sent_on: date | None = None, *, asked: bool = False) -> str:
    """The one reminder to the sponsor (markdown; user text escaped). ``sent_on`` defaults to the scheduled day;
    ``asked``: the day the sponsor asked to be reminded on ("Remind me on ...")."""
    sent = sent_on or checkin_send_date(pilot, period)
    if asked:
        return (
            f"You asked to be reminded today: the {period_label(period)} check-in for **{plain(pilot.name)}** is "
            f"still open (sent {sent.isoformat()}). Fill in the card above, or skip the month there with a reason."
        )
    return (
        f"Reminder: the {period_label(period)} check-in for **{plain(pilot.name)}** is still open "
        f"(sent {sent.isoformat()}). It takes a minute: fill in the card above, or type "
        f"status {plain(pilot.name)} to see where the pilot stands."
    )


def overdue_channel_card(pilot: Pilot, period: Period, now: datetime, sent_on: date | None = None) -> AdaptiveCard:
    """The post in the project channel when the sponsor has not answered the check-in after 7 business days.

    ``sent_on`` (the local day the card went out) defaults to the scheduled send day.
    """
    sponsor = sponsor_label(pilot)
    if pilot.lead is not None and checkin_audiences(pilot) == (LEAD,):  # the lead answers instead of the sponsor
        sponsor = pilot.lead.name or "The pilot's lead"
    sent = sent_on or checkin_send_date(pilot, period)
    days = max(0, (local_date(now, pilot.timezone) - sent).days)
    body: list[CardElement] = [
        heading(plain(f"Check-in overdue: {pilot.name}"), size="Medium"),
        text(
            plain(
                f"{sponsor} has not answered the {period_label(period)} check-in sent on {sent.isoformat()} "
                f"({plural(days, 'day')} ago). Without readings the gate on {pilot.gate_date} has nothing to judge."
            ),
            color="Accent",
        ),
        text("They can answer the card in their chat with PilotGate.", subtle=True, spacing="Small"),
    ]
    return build(body, [execute("Show status", PILOT_STATUS, {"pilotId": pilot.id})])

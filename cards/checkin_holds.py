"""The check-in card's "Remind me on ..." and "Skip this month" forms, and what the card turns into once its month is
skipped (governance.checkin holds the rules; bots.actions routes the verbs)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    DateInput,
    TextInput,
)

from cards.checkin import checkin_ref
from cards.elements import build, heading, text
from cards.pieces import (
    HEALTH_LABEL,
    kept_text,
    period_label,
    with_error,
)
from cards.text import plain
from cards.verbs import (
    CHECKIN_AWAY,
    CHECKIN_SKIP,
    CHECKIN_VIEW,
    PILOT_STATUS,
    execute,
)
from governance.model import CheckinHold, HealthStatus, Pilot
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

# The away and skip forms ("Remind me on ...", "Skip this month"); ``confirm`` in the data marks their own button.
REMIND_ON_INPUT: Final = "remindOn"
SKIP_REASON_INPUT: Final = "skipReason"
CONFIRM_FIELD: Final = "confirm"
MAX_SKIP_REASON: Final = 200


def checkin_away_card(
    pilot: Pilot, period: Period, today: date, value: str = "", error: str | None = None
) -> AdaptiveCard:
    """ "Remind me on ...": a day in the month the check-in is answered in, after today (governance.checkin rules)."""
    month = period.next
    first = max(today + timedelta(days=1), month.first_day)
    body: list[CardElement] = [
        heading(plain(f"Remind me later: {pilot.name}")),
        text(
            plain(
                f"Away? Pick the day to be reminded of the {period_label(period)} check-in. Until then no reminder "
                "comes and the project channel hears nothing."
            ),
            subtle=True,
        ),
    ]
    ref = checkin_ref(pilot, period)
    back = execute("Back to the check-in", CHECKIN_VIEW, ref, with_inputs=False)
    if first > month.last_day:
        body.append(text(plain(f"No day is left in {period_label(month)}: answer the check-in or skip the month.")))
        return build(body, [back])
    body += with_error(
        DateInput(
            id=REMIND_ON_INPUT,
            label="Remind me on",
            value=value or None,
            min=first.isoformat(),
            max=month.last_day.isoformat(),
            is_required=True,
            error_message=error or f"Pick a day from {first.isoformat()} to {month.last_day.isoformat()}.",
        ),
        error,
    )
    return build(body, [execute("Remind me then", CHECKIN_AWAY, {**ref, CONFIRM_FIELD: "1"}, style="positive"), back])


def checkin_skip_card(pilot: Pilot, period: Period, value: str = "", error: str | None = None) -> AdaptiveCard:
    """ "Skip this month", with the reason the status and gate cards will show."""
    month = period_label(period)
    body: list[CardElement] = [
        heading(plain(f"Skip {month}: {pilot.name}")),
        text(
            plain(
                "A skipped month gets no reminders and counts as skipped, not late. The reason is shown with it "
                "on the status and gate cards."
            ),
            subtle=True,
        ),
    ]
    body += with_error(
        TextInput(
            id=SKIP_REASON_INPUT,
            label="Why is this month skipped?",
            value=kept_text(value, MAX_SKIP_REASON),
            placeholder="e.g. on leave; pilot paused for the holidays",
            max_length=MAX_SKIP_REASON,
            is_required=True,
            error_message=error or "Say why this month is skipped.",
        ),
        error,
    )
    ref = checkin_ref(pilot, period)
    return build(
        body,
        [
            execute(f"Skip {month}", CHECKIN_SKIP, {**ref, CONFIRM_FIELD: "1"}, style="destructive"),
            execute("Back to the check-in", CHECKIN_VIEW, ref, with_inputs=False),
        ],
    )


def checkin_skipped_card(pilot: Pilot, hold: CheckinHold) -> AdaptiveCard:
    """What the check-in card turns into once its month is skipped: read-only, with the reason and who skipped it."""
    who = hold.by.name or "the sponsor"
    body: list[CardElement] = [
        heading(plain(f"Check-in skipped: {pilot.name}")),
        text(
            plain(f"{period_label(hold.period)} was skipped by {who} on {hold.at.date().isoformat()}: {hold.reason}"),
            color="Accent",
            spacing="None",
        ),
        text("No reminders will come for this month.", subtle=True, spacing="Small"),
    ]
    return build(body, [execute("Show status", PILOT_STATUS, {"pilotId": pilot.id})])

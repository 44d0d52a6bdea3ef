"""The sponsor's card for readings the pilot's lead wrote: they count at once; the sponsor confirms or corrects them
(governance.lead). Confirm records who confirmed; Correct opens the correction form for that month."""

from __future__ import annotations

from microsoft_teams.cards import AdaptiveCard, CardElement

from cards.checkin import BASED_ON_FIELD, PERIOD_FIELD, reading_details, received_from
from cards.elements import build, heading, text
from cards.pieces import period_label
from cards.text import plain
from cards.verbs import PILOT_STATUS, READING_CONFIRM, READING_CORRECT, execute
from governance.model import MetricReading, Pilot


def confirmation_card(pilot: Pilot, reading: MetricReading, note: str = "") -> AdaptiveCard:
    """Sent to the sponsor: what the lead wrote for a month, with Confirm and Correct; ``note`` says why it is shown
    again (the values changed since the card the sponsor pressed)."""
    month = period_label(reading.period)
    lead = reading.changed_by.name or "The pilot's lead"
    ref = {"pilotId": pilot.id, PERIOD_FIELD: str(reading.period)}
    body: list[CardElement] = [
        heading(plain(f"Confirm the {month} readings: {pilot.name}")),
        *([text(plain(note), color="Warning")] if note else []),
        text(plain(f"{lead} {'corrected' if reading.corrected else 'sent'} the readings for {month}.")),
        text(
            "They count from now on. Confirm them, or correct what is wrong: you stay accountable for them.",
            subtle=True,
            spacing="Small",
        ),
        *reading_details(pilot, reading),
    ]
    actions = [
        execute("Confirm", READING_CONFIRM, {**ref, BASED_ON_FIELD: reading.stamp}, style="positive"),
        execute("Correct", READING_CORRECT, ref),
    ]
    return build(body, actions)


def confirmed_card(pilot: Pilot, reading: MetricReading) -> AdaptiveCard:
    """Replaces the confirmation card once the sponsor confirmed: read-only, with who sent and who confirmed."""
    body: list[CardElement] = [
        heading(plain(f"Readings confirmed: {pilot.name}")),
        text(plain(f"{period_label(reading.period)}, {received_from(reading)}."), subtle=True, spacing="None"),
        *reading_details(pilot, reading),
    ]
    return build(body, [execute("Show status", PILOT_STATUS, {"pilotId": pilot.id})])

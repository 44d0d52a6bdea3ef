"""The welcome card (first contact) and the help card (the command list)."""

from __future__ import annotations

from collections.abc import Sequence

from microsoft_teams.cards import AdaptiveCard, CardElement

from cards.elements import build, facts, heading, section, text

WELCOME_COMMANDS: tuple[tuple[str, str], ...] = (
    ("new pilot", "Register a pilot: sponsor, success metric, budget and gate date"),
    ("pilots", "The portfolio: every pilot with its metric, gate and flags"),
    ("status <pilot>", "Metric trend, check-ins, spend and gate of one pilot"),
    ("help", "Every command PilotGate knows"),
)


def welcome_card(in_channel: bool = False) -> AdaptiveCard:
    """``in_channel``: in a channel or group chat, commands start with an @mention of the bot."""
    start = "Get started: @mention PilotGate, then one of these" if in_channel else "Get started: type one of these"
    return build(
        [
            heading("Welcome to PilotGate"),
            text(
                "PilotGate keeps AI pilots out of pilot purgatory. Every pilot gets an executive sponsor, "
                "a success metric with a baseline and a target, and a monthly check-in right here in Teams."
            ),
            text("At the gate, 90 days in, the sponsor decides: expand, narrow, extend or retire."),
            section(start),
            facts(WELCOME_COMMANDS),
        ]
    )


def help_card(commands: Sequence[tuple[str, str]], searches: Sequence[tuple[str, str]] = ()) -> AdaptiveCard:
    """``commands`` (chat) and ``searches`` (message extension) are (title, description) pairs, so this module needs
    nothing from bots/."""
    body: list[CardElement] = [heading("PilotGate commands", size="Medium")]
    if commands:
        body.append(facts(commands))
    body.append(
        text(
            "In a channel or group chat, @mention PilotGate first, e.g. @PilotGate status Invoice triage.",
            subtle=True,
            spacing="Medium",
        )
    )
    if searches:
        body.append(section("From any chat's message box"))
        body.append(facts(searches))
        body.append(
            text(
                "Open PilotGate from the apps (+) under the box where you type a message, then search.",
                subtle=True,
                spacing="Small",
            )
        )
    return build(body)

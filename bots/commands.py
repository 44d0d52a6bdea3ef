"""The chat commands the bot answers; the app manifest's command lists are built from this table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChatCommand:
    title: str
    description: str
    scopes: tuple[str, ...] = ("personal", "team", "groupChat")


COMMANDS: tuple[ChatCommand, ...] = (
    ChatCommand("help", "What PilotGate does and the commands it knows"),
    ChatCommand("pilots", "The portfolio: every pilot with its stage, metric and gate"),
    ChatCommand("status", "status <pilot>: metric, trend, check-ins, spend and gate of one pilot"),
    ChatCommand("overdue", "Pilots with a late check-in or a gate passed without a decision"),
    ChatCommand("new pilot", "Register a pilot: sponsor, success metric, budget, gate date"),
    ChatCommand("link", "link <pilot>: make this channel the pilot's project channel", ("team",)),
)

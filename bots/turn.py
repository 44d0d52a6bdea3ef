"""What every handler gets: the turn, who asks, and the app's services; what a card action answers; and the one
place named failures become a sentence a person can act on."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from botbuilder.core import StatePropertyAccessor, TurnContext
from microsoft_teams.cards import AdaptiveCard

from bots.activity import Asker, card_activity
from cards.choose import not_found_text
from cards.text import plain
from config import Settings
from governance.errors import (
    AmbiguousPilot,
    ConcurrencyConflict,
    GovernanceError,
    PilotNotFound,
    StorageUnavailable,
    ValidationFailed,
)
from governance.leadership import LeadershipService, ReportLinks, ReportSource
from governance.portfolio import Portfolio
from governance.ports import Clock, ConversationRepository, DeciderIds, MemberRepository, Messenger
from governance.services import PilotService, TenantCalendar

logger = logging.getLogger(__name__)

STORAGE_DOWN_REPLY = "I can't reach my storage right now, so nothing was changed. Please try again in a minute."
STALE_CARD_REPLY = "This card is out of date. Type **status** and the pilot's name for a fresh one."
CONFLICT_REPLY = "Someone changed this at the same moment; please try again."


@dataclass(frozen=True, slots=True)
class BotServices:
    """Built once by create_app; shared by every turn."""

    settings: Settings
    pilots: PilotService
    portfolio: Portfolio
    calendar: TenantCalendar  # the tenant's default public-holiday calendar (`country`)
    conversations: ConversationRepository
    members: MemberRepository
    messenger: Messenger
    clock: Clock
    last_pilot: StatePropertyAccessor  # the pilot a conversation last looked at: `status` alone shows it again
    deciders: DeciderIds  # who may decide a gate, by Teams id: the gate card's refresh names them
    leadership: LeadershipService  # the leadership channel and the report day
    reports: ReportSource  # the monthly report, for `report`
    report_links: ReportLinks  # the signed link to a report's full page, or None


@dataclass(frozen=True, slots=True)
class Turn:
    context: TurnContext
    asker: Asker
    app: BotServices
    # Teams is refreshing a card by itself (a Universal Actions refresh, CardAction.automatic): nobody asked, so the
    # turn only reads; it remembers nothing, not even the pilot last looked at.
    automatic: bool = False

    async def say(self, text: str) -> None:
        await self.context.send_activity(text)

    async def show(self, card: AdaptiveCard) -> None:
        await self.context.send_activity(card_activity(card))

    async def replace_pressed_card(self, card: AdaptiveCard) -> None:
        """The invoke answer updates the presser's view; updating the message shows it on every device too."""
        activity = self.context.activity
        if not activity.reply_to_id:
            return
        update = card_activity(card)
        update.id = activity.reply_to_id
        try:
            await self.context.update_activity(update)
        except Exception:  # the work is stored and the presser sees the new card; other devices catch up later
            logger.warning("could not update the pressed card for everyone", exc_info=True)


@dataclass(frozen=True, slots=True)
class Reply:
    """What a card action answers: a card (replaces the pressed card) or a short text."""

    card: AdaptiveCard | None = None
    text: str | None = None


def friendly(exc: GovernanceError) -> str:
    """One sentence a person can act on, for each named failure."""
    if isinstance(exc, PilotNotFound):
        return not_found_text(exc.name_or_id, list(exc.suggestions))
    if isinstance(exc, AmbiguousPilot):
        return f"Several pilots match '{plain(exc.query)}': {', '.join(plain(c) for c in exc.candidates)}."
    if isinstance(exc, StorageUnavailable):
        return STORAGE_DOWN_REPLY
    if isinstance(exc, ConcurrencyConflict):
        return CONFLICT_REPLY
    # Messages may quote a pilot's name: shown as text, never as markdown.
    if isinstance(exc, ValidationFailed):
        return plain(" ".join(exc.fields.values()) or exc.message)
    return plain(exc.message)

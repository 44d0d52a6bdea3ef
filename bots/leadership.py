"""The chat side of the monthly report: `link leadership`, `report [YYYY-MM]` and an admin's `report day N` /
`report timezone <zone>`. Thin handlers: the turn -> a typed request -> governance.leadership -> a card or a line."""

from __future__ import annotations

from typing import Final

from bots.activity import base_conversation_id, channel_link_of
from bots.turn import Turn
from cards.pieces import period_label
from cards.report import report_card
from cards.text import plain
from governance.leadership import (
    MAX_REPORT_DAY,
    MIN_REPORT_DAY,
    next_report_at,
    report_scope,
)
from governance.localtime import local_date
from governance.model import ConversationKind, TenantSettings
from governance.period import Period

LEADERSHIP: Final = "leadership"
REPORT_USAGE: Final = "Type **report** for last month, or **report YYYY-MM** (for example report 2026-10)."
REPORT_REFUSAL: Final = (
    "The monthly report is for governance admins, the leadership channel, and sponsors (their own pilots)."
)
DAY_USAGE: Final = f"Type **report day N**, N a business day of the month from {MIN_REPORT_DAY} to {MAX_REPORT_DAY}."
ZONE_USAGE: Final = "Type **report timezone** and an IANA time zone, for example report timezone Europe/Paris."


async def link_leadership(turn: Turn) -> None:
    if turn.asker.conversation_kind is not ConversationKind.CHANNEL:
        await turn.say("Use **link leadership** in the leadership team's channel, after @PilotGate.")
        return
    channel = channel_link_of(turn.context.activity)
    settings = await turn.app.leadership.link_channel(turn.asker.tenant_id, channel, turn.asker.actor)
    await turn.say(f"This channel now gets the monthly outcome report: {when(settings, turn)}.")


async def report(turn: Turn, argument: str) -> None:
    """`report`, `report 2026-10`, `report day 5`, `report timezone Europe/Paris`."""
    words = argument.split()
    setting = words[0].lower() if words else ""
    if setting == "day":
        await set_report_day(turn, words[1:])
    elif setting in ("timezone", "time-zone", "tz"):
        await set_report_timezone(turn, words[1:])
    elif len(words) > 1:
        await turn.say(REPORT_USAGE)
    else:
        await show_report(turn, argument)


async def show_report(turn: Turn, argument: str) -> None:
    tenant_id = turn.asker.tenant_id
    settings = await turn.app.leadership.settings(tenant_id)
    this_month = Period.of(local_date(turn.app.clock.now(), settings.report_timezone))
    try:
        period = Period.parse(argument) if argument else this_month.previous
    except ValueError:
        await turn.say(REPORT_USAGE)
        return
    if period > this_month:
        await turn.say(f"{period_label(period)} has not begun yet. {REPORT_USAGE}")
        return
    actor = turn.asker.actor
    channel = settings.leadership_channel
    in_leadership_channel = (
        turn.asker.conversation_kind is ConversationKind.CHANNEL
        and channel is not None
        and base_conversation_id(turn.context.activity) == channel.conversation_id
    )
    sponsors = not actor.is_admin and not in_leadership_channel and await sponsors_a_pilot(turn)
    scope = report_scope(actor, in_leadership_channel, sponsors)
    if not scope.allowed:
        await turn.say(REPORT_REFUSAL)
        return
    monthly = await turn.app.reports(tenant_id, period, scope.sponsor)
    # The signed link opens the whole tenant's report: a sponsor's own report carries none.
    link = turn.app.report_links(tenant_id, period) if scope.whole else None
    await turn.show(report_card(monthly, link))


async def sponsors_a_pilot(turn: Turn) -> bool:
    me = turn.asker.actor.aad_object_id
    return bool(me) and any(
        p.sponsor.aad_object_id.lower() == me for p in await turn.app.pilots.list(turn.asker.tenant_id)
    )


async def set_report_day(turn: Turn, words: list[str]) -> None:
    if len(words) != 1 or not words[0].isdigit():
        await turn.say(DAY_USAGE)
        return
    settings = await turn.app.leadership.set_report_day(turn.asker.tenant_id, int(words[0]), turn.asker.actor)
    await turn.say(f"The monthly report now goes out {when(settings, turn)}.")


async def set_report_timezone(turn: Turn, words: list[str]) -> None:
    if len(words) != 1:
        await turn.say(ZONE_USAGE)
        return
    settings = await turn.app.leadership.set_report_timezone(turn.asker.tenant_id, words[0], turn.asker.actor)
    await turn.say(f"The monthly report now goes out {when(settings, turn)}.")


def when(settings: TenantSettings, turn: Turn) -> str:
    """``on business day 5 of each month at 09:00 (Europe/Paris); next: 2026-12-07``."""
    zone = settings.report_timezone
    upcoming = local_date(next_report_at(settings, turn.app.clock.now()), zone)
    where = "" if settings.leadership_channel else " once an admin types link leadership in a channel"
    return plain(
        f"on business day {settings.report_business_day} of each month at 09:00 ({zone}){where}; "
        f"next: {upcoming.isoformat()}"
    )

"""Portfolio reads: a pilot's status, the tenant's statuses, who is overdue, and whether a sponsor can be reached.

The bot's `pilots`, `status` and `overdue`, the REST API and the scheduler's sweep read these; reachability is
decided here once (``sponsor_reach``), so chat and sweep give the same answer. ``Deciders`` names who may decide a
gate by the ids Teams knows them by, for the gate card's per-user views.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Final

from governance.calendars import with_tenant_country
from governance.checkin import checkin_log_key
from governance.lead import checkin_audiences
from governance.model import ConversationRef, Pilot, TeamMember
from governance.ports import (
    Clock,
    ConversationRepository,
    DecisionRepository,
    MemberRepository,
    PilotRepository,
    PilotSummaries,
    ReadingRepository,
    SendLog,
    TenantSettingsRepository,
)
from governance.rules import name_key, search_names
from governance.views import PilotStatus, attention_first, pilot_status, status_of, with_checkin_sent


class Unread(Enum):
    """A value the caller has not read (so ``status`` reads it), as opposed to one that is None."""

    UNREAD = "unread"


UNREAD: Final = Unread.UNREAD


class Reach(StrEnum):
    CHAT = "chat"  # the sponsor's 1:1 chat with the bot works
    ROSTER = "roster"  # no working chat, but a team roster gives what opening one needs
    NONE = "none"  # not reachable until they install (or unblock) PilotGate


def sponsor_reach(chat: ConversationRef | None, member: TeamMember | None) -> Reach:
    """How the bot reaches a sponsor. A chat Teams refused with 403 (blocked) is not retried through the roster:
    a new 1:1 chat with the same person is refused the same way, until their next install clears the mark."""
    if chat is not None and chat.active and not chat.undeliverable:
        return Reach.CHAT
    if chat is not None and chat.undeliverable:
        return Reach.NONE
    if member is not None and member.user_id and member.service_url and member.bot_id:
        return Reach.ROSTER
    return Reach.NONE


@dataclass(frozen=True, slots=True)
class SponsorRoute:
    reach: Reach
    chat: ConversationRef | None
    member: TeamMember | None


async def sponsor_route(pilot: Pilot, conversations: ConversationRepository, members: MemberRepository) -> SponsorRoute:
    """How to reach the pilot's sponsor, reading the roster only when there is no working chat."""
    return await person_route(pilot.tenant_id, pilot.sponsor.aad_object_id, conversations, members)


async def person_route(
    tenant_id: str, aad_object_id: str, conversations: ConversationRepository, members: MemberRepository
) -> SponsorRoute:
    """How to reach someone in their 1:1 chat (a sponsor, a pilot's lead), by the same rule as ``sponsor_reach``."""
    chat = await conversations.find_personal(tenant_id, aad_object_id)
    if sponsor_reach(chat, None) is Reach.CHAT:
        return SponsorRoute(Reach.CHAT, chat, None)
    member = await members.find(tenant_id, aad_object_id)
    return SponsorRoute(sponsor_reach(chat, member), chat, member)


class Portfolio:
    """A pilot's status from its sources; the tenant's statuses from the per-pilot summary (``PilotSummaries``), which
    keeps the same facts, so both are built by ``governance.views`` at the moment they are read."""

    def __init__(
        self,
        pilots: PilotRepository,
        readings: ReadingRepository,
        decisions: DecisionRepository,
        sendlog: SendLog,
        conversations: ConversationRepository,
        members: MemberRepository,
        clock: Clock,
        summaries: PilotSummaries,
        tenants: TenantSettingsRepository | None = None,
    ) -> None:
        self._tenants = tenants  # the tenant's default holiday calendar, for pilots that name no country
        self._pilots = pilots
        self._readings = readings
        self._decisions = decisions
        self._sendlog = sendlog
        self._conversations = conversations
        self._members = members
        self._clock = clock
        self._summaries = summaries

    async def status(self, pilot: Pilot, default_country: str | Unread | None = UNREAD) -> PilotStatus:
        """``default_country``: the tenant's default holiday calendar, when the caller has read it already."""
        if pilot.country is None:
            if isinstance(default_country, Unread):
                default_country = await self.default_country(pilot.tenant_id)
            pilot = with_tenant_country(pilot, default_country)
        readings = await self._readings.list_for(pilot.id)
        decisions = await self._decisions.list_for(pilot.id)
        status = pilot_status(pilot, readings, decisions, self._clock.now())
        if status.due_period is None:
            return status
        sent = await self._sendlog.get(pilot.id, checkin_log_key(status.due_period, checkin_audiences(pilot)[0]))
        return with_checkin_sent(status, sent)

    async def default_country(self, tenant_id: str) -> str | None:
        return (await self._tenants.get(tenant_id)).default_country if self._tenants is not None else None

    async def statuses(self, tenant_id: str) -> list[PilotStatus]:
        now = self._clock.now()
        country = await self.default_country(tenant_id)
        statuses = [status_of(facts, now, country) for facts in await self._summaries.for_tenant(tenant_id)]
        return sorted(statuses, key=lambda s: (name_key(s.pilot.name), s.pilot.id))

    async def search(self, tenant_id: str, query: str, limit: int) -> list[PilotStatus]:
        """At most ``limit`` pilots for a search box, best first: the names ``status <query>`` would offer (see
        ``search_names``); for an empty query the tenant's pilots, those needing attention first."""
        statuses = await self.statuses(tenant_id)
        if not query.strip():
            return sorted(statuses, key=attention_first)[:limit]
        by_name = {status.pilot.name: status for status in statuses}
        return [by_name[name] for name in search_names(query, by_name, limit)]

    async def overdue(self, tenant_id: str) -> list[PilotStatus]:
        return [status for status in await self.statuses(tenant_id) if status.needs_attention]

    async def sponsor_route(self, pilot: Pilot) -> SponsorRoute:
        return await sponsor_route(pilot, self._conversations, self._members)

    async def statuses_and_unreachable(
        self, tenant_id: str, *, sponsors: bool
    ) -> tuple[list[PilotStatus], list[Pilot]]:
        """What `overdue` reads, from one read of the tenant: every status (the card picks the late ones, the skipped
        months, the workflow gaps and the drafts) and, when ``sponsors``, the pilots whose sponsor the bot cannot
        reach."""
        statuses = await self.statuses(tenant_id)
        unreachable = await self._unreachable([s.pilot for s in statuses]) if sponsors else []
        return statuses, unreachable

    async def _unreachable(self, pilots: list[Pilot]) -> list[Pilot]:
        """The tenant's chats and roster, one query each, against the active pilots' sponsors."""
        if not pilots:
            return []
        tenant_id = pilots[0].tenant_id
        chats = await self._conversations.personal_chats(tenant_id)
        members = {member.aad_object_id.lower(): member for member in await self._members.list_for_tenant(tenant_id)}
        out: list[Pilot] = []
        for pilot in sorted(pilots, key=lambda p: (name_key(p.name), p.id)):
            sponsor = pilot.sponsor.aad_object_id.lower()
            if pilot.stage.is_active and sponsor_reach(chats.get(sponsor), members.get(sponsor)) is Reach.NONE:
                out.append(pilot)
        return out


class Deciders:
    """The Teams user ids (``29:...``) of who may decide a pilot's gate: its sponsor and the governance admins (the
    people ``governance.services.may_change`` lets decide), so that the gate card shows them the decision forms.

    The bot knows a person's id in a tenant from their 1:1 chat with it or from a team roster; someone it has never
    seen there is left out (they can still press the card's Decide button). The sponsor comes first, then the admins
    in a fixed order; ``limit`` stops the look-ups once that many ids are found (a card can name only so many).
    """

    def __init__(
        self,
        conversations: ConversationRepository,
        members: MemberRepository,
        admins: Iterable[str],
        *,
        limit: int | None = None,
    ) -> None:
        self._conversations = conversations
        self._members = members
        self._admins = tuple(sorted({admin.lower() for admin in admins if admin}))
        self._limit = limit

    async def teams_ids(self, pilot: Pilot) -> tuple[str, ...]:
        found: list[str] = []
        for aad_object_id in (pilot.sponsor.aad_object_id.lower(), *self._admins):
            if self._limit is not None and len(found) >= self._limit:
                break
            user_id = await self._teams_id(pilot.tenant_id, aad_object_id)
            if user_id and user_id not in found:
                found.append(user_id)
        return tuple(found)

    async def _teams_id(self, tenant_id: str, aad_object_id: str) -> str:
        if not aad_object_id:
            return ""
        chat = await self._conversations.find_personal(tenant_id, aad_object_id)
        if chat is not None and chat.user_id:
            return chat.user_id
        member = await self._members.find(tenant_id, aad_object_id)
        return member.user_id if member is not None else ""

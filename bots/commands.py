"""The chat commands and the message extension's search commands: one table each (name, handler, help text, and
for chat commands aliases and scopes) from which command parsing, the help card and the app manifest's command lists
and compose extension are all derived. Each handler is a small function of the turn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from botbuilder.schema.teams import MessagingExtensionResponse

from bots.activity import SearchQuery, channel_link_of
from bots.leadership import LEADERSHIP, link_leadership, report
from bots.search import find_pilots
from bots.turn import Turn
from cards.choose import choose_pilot_card
from cards.help import help_card
from cards.portfolio import overdue_card, portfolio_card
from cards.status import status_card
from cards.text import plain
from dialogs.quarterly_audit import open_audit
from dialogs.register_pilot import show_pilot_form
from governance.errors import AmbiguousPilot
from governance.model import ConversationKind

Handler = Callable[[Turn, str], Awaitable[None]]
SearchHandler = Callable[[Turn, SearchQuery], Awaitable[MessagingExtensionResponse]]
ALL_SCOPES: Final = ("personal", "team", "groupChat")


@dataclass(frozen=True, slots=True)
class ChatCommand:
    name: str  # what people type; may be two words ("new pilot")
    description: str  # the help card's and the manifest's text
    handler: Handler
    aliases: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ALL_SCOPES  # manifest scopes: personal, team (channels), groupChat

    @property
    def title(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class SearchCommand:
    """A message-extension search command: the manifest's ``composeExtensions`` command and what answers it."""

    id: str  # Teams sends it back as the query's commandId
    title: str  # the help card's and the manifest's text
    description: str
    parameter: str  # the one search box: its name, title and hint (parameter_description)
    parameter_title: str
    parameter_description: str
    handler: SearchHandler


async def show_help(turn: Turn, argument: str) -> None:
    await turn.show(
        help_card([(c.title, c.description) for c in COMMANDS], [(s.title, s.description) for s in SEARCH_COMMANDS])
    )


async def show_pilots(turn: Turn, argument: str) -> None:
    await turn.show(portfolio_card(await turn.app.portfolio.statuses(turn.asker.tenant_id)))


async def show_overdue(turn: Turn, argument: str) -> None:
    asker = turn.asker
    # Every status: the card lists the late ones, the skipped months, and the pilots outside the flow of work and the
    # drafts below them; one read of the tenant.
    statuses, unreachable = await turn.app.portfolio.statuses_and_unreachable(
        asker.tenant_id, sponsors=asker.actor.is_admin
    )
    await turn.show(overdue_card(statuses, unreachable))


async def show_status(turn: Turn, argument: str) -> None:
    service = turn.app.pilots
    tenant_id = turn.asker.tenant_id
    if not argument:
        last = await turn.app.last_pilot.get(turn.context)
        if not last:
            await turn.say("Which pilot? Type **status** and the pilot's name.")
            return
        pilot = await service.get(str(last), tenant_id)
    else:
        try:
            pilot = await service.find(tenant_id, argument)
        except AmbiguousPilot as exc:
            options = [(p.id, p.name) for p in await service.list(tenant_id) if p.name in exc.candidates]
            await turn.show(choose_pilot_card(argument, options))
            return
    await turn.app.last_pilot.set(turn.context, pilot.id)
    await turn.show(status_card(await turn.app.portfolio.status(pilot)))


async def link_channel(turn: Turn, argument: str) -> None:
    if argument.lower() == LEADERSHIP:
        await link_leadership(turn)
        return
    if turn.asker.conversation_kind is not ConversationKind.CHANNEL:
        await turn.say("Use **link <pilot>** in the pilot's project channel, after @PilotGate.")
        return
    if not argument:
        await turn.say("Which pilot? Type **link** and the pilot's name.")
        return
    pilot = await turn.app.pilots.find(turn.asker.tenant_id, argument)
    linked = await turn.app.pilots.link_channel(pilot, channel_link_of(turn.context.activity), turn.asker.actor)
    await turn.say(
        f"This channel is now the project channel of **{plain(linked.name)}**: "
        "gate reminders and overdue check-ins will be posted here."
    )


async def set_country(turn: Turn, argument: str) -> None:
    """`country`: the organisation's default public-holiday calendar; `country DE` / `country none` (admins) set it."""
    calendar = turn.app.calendar
    tenant_id = turn.asker.tenant_id
    if not argument.strip():
        current = await calendar.default_country(tenant_id)
        shown = f"the public holidays of **{current}**" if current else "weekends only (no country set)"
        await turn.say(
            f"Check-in days and reminders skip {shown} for pilots that name no country of their own. "
            "Admins change it with **country** and a two-letter code (e.g. country US), or **country none**."
        )
        return
    settings = await calendar.set_default_country(tenant_id, argument.strip(), turn.asker.actor)
    if settings.default_country:
        await turn.say(
            f"Check-in days and reminders now skip the public holidays of **{settings.default_country}** "
            "for every pilot that names no country of its own."
        )
    else:
        await turn.say("Check-in days and reminders now skip weekends only, for pilots that name no country.")


async def new_pilot(turn: Turn, argument: str) -> None:
    await show_pilot_form(turn, name=argument)


COMMANDS: Final[tuple[ChatCommand, ...]] = (
    ChatCommand("help", "What PilotGate does and the commands it knows", show_help, aliases=("?",)),
    ChatCommand(
        "pilots", "The portfolio: every pilot with its stage, metric and gate", show_pilots, aliases=("portfolio",)
    ),
    ChatCommand("status", "status <pilot>: metric, trend, check-ins, spend and gate of one pilot", show_status),
    ChatCommand("overdue", "Pilots with a late check-in or a gate passed without a decision", show_overdue),
    ChatCommand("new pilot", "Register a pilot: sponsor, success metric, budget, gate date", new_pilot),
    ChatCommand(
        "link",
        "link <pilot>: make this channel the pilot's project channel; link leadership (admins): the monthly report "
        "comes here",
        link_channel,
        scopes=("team",),
    ),
    ChatCommand(
        "report",
        "report [YYYY-MM]: the monthly outcome report (last month by default); admins: report day N, "
        "report timezone <zone>",
        report,
    ),
    ChatCommand(
        "country",
        "country <code>: public holidays check-ins skip (admins; e.g. country US, country none)",
        set_country,
    ),
    ChatCommand("audit", "Admins: open the quarter's audit of every initiative, or show its board", open_audit),
)


SEARCH_COMMANDS: Final[tuple[SearchCommand, ...]] = (
    SearchCommand(
        id="findPilot",
        title="Find a pilot",
        description="Find a pilot by name and insert its status card into the message",
        parameter="pilotName",
        parameter_title="Pilot name",
        parameter_description="Part of the pilot's name; leave it empty for the pilots that need attention first",
        handler=find_pilots,
    ),
)


def search_command(command_id: str) -> SearchCommand | None:
    return next((command for command in SEARCH_COMMANDS if command.id == command_id), None)


def parse_command(text: str) -> tuple[ChatCommand | None, str]:
    """(the `status` command, 'Claims triage') from '  STATUS   Claims triage '; (None, text) when none matches."""
    words = text.split()
    lowered = [w.lower() for w in words]
    for command in COMMANDS:
        for spelling in (command.name, *command.aliases):
            size = len(spelling.split())
            if lowered[:size] == spelling.split():
                return command, " ".join(words[size:])
    return None, " ".join(words)

"""The portfolio (one row per pilot, paged) and the overdue list for the governance office."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from microsoft_teams.cards import Action, AdaptiveCard, CardElement, Container

from cards.elements import CARD_BUDGET, build, heading, largest_fitting, section, text
from cards.pieces import MAX_LABEL_NAME, draft_gaps_line, flags, gate_phrase, sponsor_label, stage_label
from cards.text import card_size, fmt_number, plain, plural, shorten
from cards.verbs import PILOT_STATUS, PILOTS_PAGE, execute
from governance.model import Pilot
from governance.rules import name_key
from governance.views import PilotStatus, attention_first

MAX_OVERDUE_ROWS: Final = 40  # enough to act on; largest_fitting trims further if names are long
MAX_UNREACHABLE_NAMES: Final = 30


def portfolio_card(statuses: Sequence[PilotStatus], page: int = 1, page_size: int = 25) -> AdaptiveCard:
    """Pilots that need attention first, then by name; ``page`` is 1-based and clamped to the pages there are."""
    total = len(statuses)
    # Each status's place once (needs_attention reads the check-in and gate rules: a thousand pilots feel it).
    placed = sorted(((attention_first(s), s) for s in statuses), key=lambda pair: pair[0])
    attention = sum(1 for (calm, _, _), _ in placed if not calm)
    head: list[CardElement] = [
        heading("Pilot portfolio"),
        text(f"{plural(total, 'pilot')}, {attention:,} need{'s' if attention == 1 else ''} attention", spacing="None"),
    ]
    if not statuses:
        head.append(text("No pilots yet. Type new pilot to register the first one.", subtle=True))
        return build(head)
    page_size = max(1, page_size)
    pages = math.ceil(total / page_size)
    page = min(max(1, page), pages)
    ordered = [status for _, status in placed]
    start = (page - 1) * page_size
    shown = ordered[start : start + page_size]
    actions: list[Action] = []
    if page > 1:
        actions.append(execute("Previous", PILOTS_PAGE, {"page": page - 1}))
    if page < pages:
        actions.append(execute("More", PILOTS_PAGE, {"page": page + 1}))

    def page_card(rows: list[Container], count: int) -> AdaptiveCard:
        body = head + rows[:count]
        if count < len(rows):
            body.append(
                text(f"{len(rows) - count:,} more on this page did not fit: type status and a pilot name.", subtle=True)
            )
        if pages > 1:
            body.append(
                text(f"Page {page} of {pages}: pilots {start + 1}-{start + len(shown)} of {total:,}.", subtle=True)
            )
        return build(body, actions, full_width=True)

    full = [_row(status) for status in shown]
    card = page_card(full, len(full))
    if card_size(card) <= CARD_BUDGET:
        return card
    # Long, markup-heavy names and metrics: fall back to name-and-flags rows, then to fewer rows.
    compact = [_row(status, compact=True) for status in shown]
    return largest_fitting(lambda count: page_card(compact, count), len(compact))


def _row(status: PilotStatus, *, compact: bool = False) -> Container:
    """One pilot: name, then stage, metric vs target, gate and last check-in, then its flags. Tap for status."""
    pilot = status.pilot
    items: list[CardElement] = [text(plain(shorten(pilot.name, 40) if compact else pilot.name), weight="Bolder")]
    if not compact and pilot.is_draft:
        items.append(text(plain(f"{stage_label(pilot.stage)} · {draft_gaps_line(pilot)}"), subtle=True, spacing="None"))
    elif not compact:
        view = status.primary
        metric = view.metric
        if view.latest is None:
            measure = f"{metric.name}: no reading, target {fmt_number(metric.target, metric.unit)}"
        else:
            done = "met" if view.met else fmt_number(view.progress_pct, "%")
            measure = (
                f"{metric.name}: {fmt_number(view.latest, metric.unit)} vs target "
                f"{fmt_number(metric.target, metric.unit)} ({done})"
            )
        last = status.last_checkin.period if status.last_checkin else "none"
        details = f"{stage_label(pilot.stage)} · {measure} · {gate_phrase(status)} · last check-in {last}"
        items.append(text(plain(details), subtle=True, spacing="None"))
    if flags(status):
        items.append(text(plain(", ".join(flags(status))), color="Attention", spacing="None"))
    return Container(
        items=items,
        separator=True,
        spacing="Small",
        select_action=execute("Status", PILOT_STATUS, {"pilotId": pilot.id}),
    )


def overdue_card(statuses: Sequence[PilotStatus], unreachable: Sequence[Pilot] = ()) -> AdaptiveCard:
    """Late check-ins and gates passed without a decision (most days late first); the months skipped (not late);
    sponsors the bot cannot reach; active pilots outside the flow of work (standalone or not integrated); drafts
    still waiting for their details."""
    # Days late once per status (a status needs attention when either count is above 0).
    lateness = ((max(s.checkin_overdue_days, s.gate_passed_undecided_days), s) for s in statuses)
    keyed = [((-days, name_key(s.pilot.name)), s) for days, s in lateness if days > 0]
    late = [s for _, s in sorted(keyed, key=lambda pair: pair[0])]
    head: list[CardElement] = [heading("Overdue")]
    if not late:
        head.append(text("Nothing overdue: every check-in is in and every passed gate has a decision.", color="Good"))
    else:
        head.append(text(f"{plural(len(late), 'pilot')} need{'s' if len(late) == 1 else ''} a nudge.", spacing="None"))
    tail: list[CardElement] = []
    skipped = sorted((s for s in statuses if s.checkin.skipped), key=lambda s: name_key(s.pilot.name))
    if skipped:
        lines = (
            f"{shorten(s.pilot.name, MAX_LABEL_NAME)} ({s.checkin.period}: {shorten(s.checkin.skip_reason, 80)})"
            for s in skipped[:MAX_UNREACHABLE_NAMES]
        )
        more = len(skipped) - MAX_UNREACHABLE_NAMES
        tail += [
            section("Skipped this month (not late)"),
            text(plain("; ".join(lines) + (f"; and {more:,} more" if more > 0 else ""))),
        ]
    if unreachable:
        labels = (
            f"{sponsor_label(p, p.sponsor.aad_object_id)} ({shorten(p.name, MAX_LABEL_NAME)})" for p in unreachable
        )
        names = sorted(labels, key=name_key)
        listed = ", ".join(names[:MAX_UNREACHABLE_NAMES])
        if len(names) > MAX_UNREACHABLE_NAMES:
            listed += f" and {len(names) - MAX_UNREACHABLE_NAMES:,} more"
        tail += [
            section("Sponsors PilotGate cannot reach"),
            text(plain(listed)),
            text("Ask them to install PilotGate in Teams (or unblock it) so check-ins reach them.", subtle=True),
        ]
    tail += _named_list(
        "Outside the flow of work",
        [s.pilot for s in statuses if s.pilot.stage.is_active and s.pilot.workflow_gap],
        "Standalone or not integrated where its users work: plan the integration or narrow the pilot.",
    )
    tail += _named_list(
        "Drafts waiting for details",
        [s.pilot for s in statuses if s.pilot.is_draft],
        "Their sponsors are asked weekly for the metric, dates, budget and workflow.",
    )
    rows = [_overdue_row(status) for status in late[:MAX_OVERDUE_ROWS]]

    def overdue_with(count: int) -> AdaptiveCard:
        more = len(late) - count
        note = [text(f"{more:,} more not shown.", subtle=True)] if more else []
        return build([*head, *rows[:count], *note, *tail])

    return largest_fitting(overdue_with, len(rows))


def _named_list(title: str, pilots: Sequence[Pilot], note: str) -> list[CardElement]:
    if not pilots:
        return []
    names = sorted((shorten(p.name, MAX_LABEL_NAME) for p in pilots), key=name_key)
    listed = ", ".join(names[:MAX_UNREACHABLE_NAMES])
    if len(names) > MAX_UNREACHABLE_NAMES:
        listed += f" and {len(names) - MAX_UNREACHABLE_NAMES:,} more"
    return [section(f"{title} ({len(names):,})"), text(plain(listed)), text(note, subtle=True)]


def _overdue_row(status: PilotStatus) -> Container:
    pilot = status.pilot
    problems = []
    if status.checkin_overdue_days:
        period = f" for {status.due_period}" if status.due_period else ""
        problems.append(f"check-in{period} overdue {plural(status.checkin_overdue_days, 'day')}")
    if status.gate_passed_undecided_days:
        problems.append(
            f"gate {pilot.gate_date} passed {plural(status.gate_passed_undecided_days, 'day')} ago, no decision"
        )
    return Container(
        separator=True,
        spacing="Small",
        items=[
            text(plain(pilot.name), weight="Bolder"),
            text(plain("; ".join(problems)), color="Attention", spacing="None"),
            text(plain(f"Sponsor: {sponsor_label(pilot, 'unknown')}"), subtle=True, spacing="None"),
        ],
        select_action=execute("Status", PILOT_STATUS, {"pilotId": pilot.id}),
    )

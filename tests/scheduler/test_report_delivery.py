"""The monthly report to the leadership channel through the Teams simulator: linked by an admin, sent on the report
day exactly once through the send-log, retried without duplicates when Teams fails."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from governance.leadership import report_log_key, tenant_subject
from governance.model import SendStatus
from governance.period import Period
from tests import helpers
from tests.conftest import Harness, start_harness, stop_harness
from tests.helpers import card_text, cards_of, nodes
from tests.scheduler.test_checkins import tick
from tests.teams_sim import ADMIN, OUTSIDER, TEAM, TENANT, FakeConnector, channel_message

# Monday 7 December 2026 is the 5th business day of December: the November report goes out at 09:00 UTC.
REPORT_TIME = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
NOVEMBER = Period(2026, 11)
PUBLIC_HOST = "pilotgate.contoso.com"


async def link_leadership(h: Harness, user: Any = ADMIN) -> None:
    status, _ = await h.bot.post(channel_message("link leadership", user, service_url=h.connector.service_url))
    assert status in (200, 201)


async def seed(h: Harness) -> None:
    h.clock.set(datetime(2026, 9, 1, 12, tzinfo=UTC))
    status, body = await h.api("POST", "/api/pilots", helpers.pilot_body(name="Claims triage", gateDate="2027-03-31"))
    assert status == 201, body


def report_posts(h: Harness) -> list[dict[str, Any]]:
    return [c for c in cards_of(h.connector.sent_activities(TEAM.id)) if "Monthly outcome report" in card_text(c)]


async def test_the_leadership_channel_gets_last_months_report_on_the_report_day_once(harness: Harness) -> None:
    await seed(harness)
    await link_leadership(harness)
    assert "now gets the monthly outcome report" in harness.connector.sent_activities(TEAM.id)[-1]["text"]
    before = await tick(harness, "2026-12-07T08:59:00Z")
    assert before["by_kind"].get("report") is None and report_posts(harness) == []
    sent = await tick(harness, REPORT_TIME.isoformat())
    assert sent["by_kind"] == {"report": 1}
    (card,) = report_posts(harness)
    assert "Monthly outcome report: November 2026" in card_text(card)
    assert "Claims triage" in card_text(card) or "Pilots" in card_text(card)
    again = await tick(harness, "2026-12-07T09:30:00Z")
    later = await tick(harness, "2026-12-20T09:00:00Z")
    assert again["by_kind"].get("report") is None and later["by_kind"].get("report") is None
    assert len(report_posts(harness)) == 1
    log = await harness.repos.sendlog.get(tenant_subject(TENANT.id), report_log_key(NOVEMBER))
    assert log is not None and log.status is SendStatus.SENT
    # Next month: the December report on January's 5th business day (Thursday 7 January 2027).
    assert (await tick(harness, "2027-01-07T08:59:00Z"))["by_kind"].get("report") is None
    assert (await tick(harness, "2027-01-07T09:00:00Z"))["by_kind"] == {"report": 1}
    assert "December 2026" in card_text(report_posts(harness)[-1])


async def test_overlapping_ticks_send_the_report_once(harness: Harness) -> None:
    import asyncio

    await seed(harness)
    await link_leadership(harness)
    reports = await asyncio.gather(*(tick(harness, REPORT_TIME.isoformat()) for _ in range(4)))
    assert sum(r["by_kind"].get("report", 0) for r in reports) == 1
    assert len(report_posts(harness)) == 1


async def test_a_failing_teams_is_retried_later_without_a_duplicate(harness: Harness) -> None:
    await seed(harness)
    await link_leadership(harness)
    harness.connector.fail_next(502, count=50, match=TEAM.id)
    failed = await tick(harness, REPORT_TIME.isoformat())
    assert failed["failed"] == 1 and report_posts(harness) == []
    log = await harness.repos.sendlog.get(tenant_subject(TENANT.id), report_log_key(NOVEMBER))
    assert log is not None and log.status is SendStatus.RETRY and log.next_attempt_at is not None
    harness.connector.reset()
    too_soon = await tick(harness, "2026-12-07T09:01:00Z")
    assert too_soon["by_kind"].get("report") is None
    retried = await tick(harness, log.next_attempt_at.isoformat())
    assert retried["by_kind"] == {"report": 1}
    assert (await tick(harness, "2026-12-07T10:00:00Z"))["by_kind"].get("report") is None
    assert len(report_posts(harness)) == 1


async def test_only_an_admin_links_the_leadership_channel(harness: Harness) -> None:
    await seed(harness)
    await link_leadership(harness, OUTSIDER)
    assert (
        "Only a governance admin can link the leadership channel"
        in (harness.connector.sent_activities(TEAM.id)[-1]["text"])
    )
    assert (await harness.repos.tenants.get(TENANT.id)).leadership_channel is None
    assert (await tick(harness, REPORT_TIME.isoformat()))["by_kind"].get("report") is None


async def test_a_channel_linked_after_the_report_day_waits_for_next_months(harness: Harness) -> None:
    await seed(harness)
    harness.clock.set(datetime(2026, 12, 10, 12, tzinfo=UTC))
    await link_leadership(harness)
    assert (await tick(harness, "2026-12-10T12:00:00Z"))["by_kind"].get("report") is None
    assert (await tick(harness, "2027-01-07T09:00:00Z"))["by_kind"] == {"report": 1}
    assert "December 2026" in card_text(report_posts(harness)[-1])


async def test_the_delivered_cards_link_opens_the_full_report_page(tmp_path: Path, connector: FakeConnector) -> None:
    """The link is taken from the card the leadership channel received, as a reader's browser would follow it (the
    Agents Playground does not open Action.OpenUrl from a channel post, so this is where the link is followed)."""
    h = await start_harness(tmp_path, connector, report_link_secret="r" * 32, public_hostname=PUBLIC_HOST)
    try:
        await seed(h)
        await link_leadership(h)
        h.clock.set(REPORT_TIME)  # the link is minted, and opened, on the report day
        assert (await tick(h, REPORT_TIME.isoformat()))["by_kind"] == {"report": 1}
        (card,) = report_posts(h)
        (link,) = [n["url"] for n in nodes(card) if n.get("type") == "Action.OpenUrl"]
        assert link.startswith(f"https://{PUBLIC_HOST}/reports/")
        page_url = h.url(link.removeprefix(f"https://{PUBLIC_HOST}"))
        async with h.http.get(page_url) as response:
            assert response.status == 200 and response.content_type == "text/html"
            page = await response.text()
        assert "November 2026" in page and "Claims triage" in page
        status, body = await h.api("GET", f"/api/reports/monthly?tenantId={TENANT.id}&period=2026-11")
        assert status == 200 and [p["name"] for p in body["pilots"]] == ["Claims triage"], body
        # The signed link is good for 30 days, then the same page is refused.
        h.clock.set(datetime(2027, 1, 7, 9, 1, tzinfo=UTC))
        async with h.http.get(page_url) as response:
            assert response.status == 403 and "Claims triage" not in await response.text()
    finally:
        await stop_harness(h)

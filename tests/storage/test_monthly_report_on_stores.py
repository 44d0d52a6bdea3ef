"""The monthly report through the app on each store: the seeded portfolio stored, then GET /api/reports/monthly
answers what the builder makes from the same portfolio in memory, and a signed link opens the page."""

from __future__ import annotations

from pathlib import Path

from governance.report_builder import build_monthly_report
from reports.links import report_link
from reports.monthly import report_json
from tests.conftest import start_harness, stop_harness
from tests.reports.portfolio import NOVEMBER, NOW, TENANT, seed, statuses
from tests.storage.conftest import StoreFactory
from tests.teams_sim import FakeConnector

SECRET = "k" * 32


async def test_the_monthly_report_on_this_store(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await start_harness(
        tmp_path,
        connector,
        store=await store_factory(),
        report_link_secret=SECRET,
        public_hostname="pilotgate.contoso.com",
    )
    try:
        await seed(h.repos)
        h.clock.set(NOW)
        status, body = await h.api("GET", f"/api/reports/monthly?tenantId={TENANT}&period=2026-11")
        assert status == 200
        assert body == report_json(build_monthly_report(statuses(), NOVEMBER, NOW, tenant_id=TENANT))
        link = report_link(h.settings, TENANT, NOVEMBER, NOW)
        assert link is not None
        async with h.http.get(h.url(link.removeprefix("https://pilotgate.contoso.com"))) as page:
            assert page.status == 200 and "Contract review" in await page.text()
    finally:
        await stop_harness(h)

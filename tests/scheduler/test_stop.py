"""Stopping the app in the middle of a sweep (SIGTERM on a deploy or scale-in) is not a crash: the sends on their way
to Teams finish, the rest are released, and the next sweep sends exactly those, at once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp

from bots.notifier import SenderLimits
from governance.model import SendStatus
from storage.repositories import Repositories
from storage.sqlite_store import SqliteDocumentStore
from tests.conftest import API_TOKEN, Harness, start_harness, stop_harness
from tests.fakes import FixedClock
from tests.helpers import FIRST_CHECKIN, deliveries, seed_sponsors
from tests.teams_sim import FakeConnector

ROOT = Path(__file__).resolve().parents[2]
SPONSORS = 12
# Two sends a second: the sweep claims every sponsor at once and most of them wait for their turn.
PACED = SenderLimits(per_tenant_per_s=2, base_backoff_s=0.01, max_backoff_s=0.05)


async def seed(db: Path, service_url: str, count: int = SPONSORS) -> None:
    store = SqliteDocumentStore(db)
    await store.open()
    try:
        # The gate far away: the check-in is each sponsor's only message.
        await seed_sponsors(Repositories.on(store), service_url, count, gate_date=date(2027, 6, 30))
    finally:
        await store.close()


async def statuses(db: Path, count: int = SPONSORS) -> list[SendStatus]:
    """What the send-log says of each check-in, read the way a restarted replica would."""
    store = SqliteDocumentStore(db)
    await store.open()
    try:
        sendlog = Repositories.on(store).sendlog
        return [r.status for i in range(count) for r in await sendlog.list_for(f"pilot-{i}")]
    finally:
        await store.close()


async def timed_stop(h: Harness) -> float:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await h.server.close()
    return loop.time() - started


async def tick(h: Harness) -> dict[str, Any]:
    status, report = await h.api("POST", "/api/scheduler/tick", {"now": FIRST_CHECKIN.isoformat()})
    assert status == 200, report
    return dict(report)


async def test_a_stop_during_the_apps_own_sweep_releases_what_it_had_not_sent(
    tmp_path: Path, connector: FakeConnector
) -> None:
    connector.set_response_delay(0.3)
    await seed(tmp_path / "pilotgate.db", connector.service_url)
    clock = FixedClock(FIRST_CHECKIN)
    h = await start_harness(tmp_path, connector, sender_limits=PACED, clock=clock, scheduler_interval_s=3600)
    try:
        await connector.wait_for_sent(2)  # the timer's first sweep has the second check-in on its way
        stopped_in = await timed_stop(h)
    finally:
        await stop_harness(h)
    assert stopped_in < 2
    assert sorted(await statuses(tmp_path / "pilotgate.db")) == [SendStatus.RETRY] * 10 + [SendStatus.SENT] * 2

    restarted = await start_harness(tmp_path, connector, clock=clock)
    try:
        assert (await tick(restarted))["sent"] == 10
    finally:
        await stop_harness(restarted)
    assert deliveries(connector, SPONSORS) == {1: SPONSORS}


async def test_a_stop_during_a_tick_through_the_api_releases_what_it_had_not_sent(
    tmp_path: Path, connector: FakeConnector
) -> None:
    connector.set_response_delay(0.3)
    await seed(tmp_path / "pilotgate.db", connector.service_url)
    h = await start_harness(tmp_path, connector, sender_limits=PACED)
    try:
        ticking = asyncio.create_task(tick(h))
        await connector.wait_for_sent(2)
        stopped_in = await timed_stop(h)
        report = await ticking  # the external timer still gets its answer
        assert stopped_in < 2
        assert (report["sent"], report["released"]) == (2, 10)
    finally:
        await stop_harness(h)

    restarted = await start_harness(tmp_path, connector)
    try:
        assert (await tick(restarted))["sent"] == 10
    finally:
        await stop_harness(restarted)
    assert deliveries(connector, SPONSORS) == {1: SPONSORS}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_sigterm_to_the_running_app_mid_sweep_loses_and_repeats_nothing(
    tmp_path: Path, connector: FakeConnector
) -> None:
    # 60 sponsors at Teams' 50/s: a second of sends, each answered a second later. SIGTERM lands while some are on
    # their way and the rest wait for their turn or for a worker.
    sponsors = 60
    connector.set_response_delay(1.0)
    db = tmp_path / "pilotgate.db"
    await seed(db, connector.service_url, sponsors)
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "SQLITE_PATH": str(db),
        "API_TOKEN": API_TOKEN,
        "ALLOW_CLOCK_OVERRIDE": "1",
        "SCHEDULER_INTERVAL_S": "0",
    }
    log = tmp_path / "app.log"
    with log.open("wb") as output:  # a file, not a pipe nobody reads while the app runs
        app = await asyncio.create_subprocess_exec(
            sys.executable, "app.py", cwd=ROOT, env=env, stdout=output, stderr=asyncio.subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await until_healthy(http, f"{base}/healthz")
            ticking = asyncio.create_task(
                http.post(
                    f"{base}/api/scheduler/tick",
                    json={"now": FIRST_CHECKIN.isoformat()},
                    headers={"Authorization": f"Bearer {API_TOKEN}"},
                )
            )
            await connector.wait_for_sent(10, timeout=10)
            app.send_signal(signal.SIGTERM)
            exit_code = await asyncio.wait_for(app.wait(), timeout=5)
            async with await ticking as response:
                report = await response.json()
    finally:
        if app.returncode is None:
            app.kill()
            await app.wait()
    assert exit_code == 0, log.read_text()
    assert report["sent"] + report["released"] <= 32 and report["released"] > 0, report

    assert SendStatus.PENDING not in await statuses(db, sponsors)  # nothing waits out a lease
    restarted = await start_harness(tmp_path, connector)
    try:
        assert (await tick(restarted))["sent"] == sponsors - report["sent"]
    finally:
        await stop_harness(restarted)
    assert deliveries(connector, sponsors) == {1: sponsors}


async def until_healthy(http: aiohttp.ClientSession, url: str) -> None:
    for _ in range(100):
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within 10 s")

"""Browser end-to-end tests: the real bot process, Microsoft's Agents Playground and headless Chromium.

One run per module: start ``python app.py`` (SQLite in a temporary folder, anonymous mode, scheduler loop off,
clock override on for the check-in flow) and the Playground on free ports, then let ``playground.mjs``
(playwright-core) use the Playground's own UI as a person would: the greeting, ``help``, ``new pilot`` (fill the
form, press Create pilot), ``status <pilot>`` in the personal chat, then an @mention in a team channel, then the
monthly check-in: back in the personal chat, tick the scheduler (``POST /api/scheduler/tick`` with a chosen
``now``) at the first check-in time, answer the card it sends through the Playground's connector, see the reading
on ``status <pilot>``, and tick again at the same time to see nothing more sent. Then the gate: register a second
pilot whose gate is today (a card's own actions are answered at the bot's real clock, only ticks take a chosen
``now``), ``link`` it in the channel, tick at 09:00 on its gate day and see the gate card. Its refresh names the
sponsor (the Playground's user); Playground 0.2.28 does not refresh it ("User specific view is not supported yet"),
so the read-only card shows and its Decide button brings the sponsor's decision view. Then that pilot's previous
month arrives through the REST API with a wrong figure and the sponsor corrects it from the status card ("Correct a
reading", the month, the filled form, Save correction). A third pilot's check-in arrives and its sponsor skips the
month with a reason; `status` shows it skipped. Then the monthly report: `link leadership` in the channel
(the Playground's user is an admin in this run), a tick at 09:00 on the report day, and the report card arrives
there once. Last, `audit` in the personal chat answers the quarterly audit's board, and a tick sends the sponsor an
attestation card per initiative. Each rendered card is saved to ``build/e2e-screenshots/``. The tests then check
what that run saw.

Needs Debian's chromium and ``tools/playground/node_modules``: ``make e2e-deps`` installs both, and the tests fail
(they do not skip) without them. Every process started here is stopped at the end, whatever happened.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("playground.mjs")
PLAYGROUND_DIR = ROOT / "tools" / "playground"
PLAYGROUND_CLI = PLAYGROUND_DIR / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
PLAYWRIGHT = PLAYGROUND_DIR / "node_modules" / "playwright-core" / "package.json"
SCREENSHOTS = ROOT / "build" / "e2e-screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
API_TOKEN = "e2e-token-0123456789"
PLAYGROUND_USER_AAD_ID = "00000000-0000-0000-0000-0000000000020"  # Playground 0.2.28's default user, Alex Wilber

# Bounded so that even a hung run ends in about 2.5 minutes; a normal run takes 20-25 s.
BOT_START_S = 20.0
PLAYGROUND_START_S = 25.0  # it waits up to 15 s for the bot, then starts serving
SCRIPT_TIMEOUT_S = 75.0
LOG_TAIL_CHARS = 3000


@dataclass
class Process:
    """A child process in its own session, so that stopping it also stops anything it started."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    def log(self) -> str:
        if not self.log_file.closed:
            self.log_file.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self) -> str:
        return f"--- {self.name} log ({self.log_path}), last lines ---\n{self.log()[-LOG_TAIL_CHARS:]}"

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self.log_file.close()


def start_process(name: str, args: list[str], cwd: Path, env: dict[str, str], log_path: Path) -> Process:
    log_file = log_path.open("wb")
    popen = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
        args,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Process(name, popen, log_path, log_file)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_status(port: int, path: str) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def wait_for_http(process: Process, port: int, path: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            pytest.fail(f"{process.name} exited with code {process.popen.returncode}\n{process.log_tail()}")
        if http_status(port, path) == 200:
            return
        time.sleep(0.2)
    pytest.fail(
        f"{process.name} did not answer GET {path} on port {port} within {timeout_s:.0f} s\n{process.log_tail()}"
    )


def wait_for_listening_port(process: Process, timeout_s: float) -> int:
    """The Playground picks another port silently when the asked one is busy: read it from its output."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        match = re.search(r"Listening on (\d+)", process.log())
        if match:
            return int(match.group(1))
        if process.popen.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(
        f"the Playground did not say 'Listening on <port>' within {timeout_s:.0f} s "
        f"(exit code {process.popen.poll()}); its real errors are in devTools/*.log\n{process.log_tail()}"
    )


def check_prerequisites() -> str:
    """The path of node, or a clear failure naming what is missing and how to install it."""
    node = shutil.which("node")
    problems = []
    if node is None:
        problems.append("node (Node.js 20) is not on PATH")
    if not CHROMIUM.is_file():
        problems.append(f"Debian's chromium is missing at {CHROMIUM} (apt-get update && apt-get install -y chromium)")
    if not PLAYGROUND_CLI.is_file() or not PLAYWRIGHT.is_file():
        problems.append(
            f"the Playground and playwright-core are not installed in {PLAYGROUND_DIR}/node_modules (npm ci)"
        )
    if problems:
        pytest.fail("browser tests cannot run: " + "; ".join(problems) + ". `make e2e-deps` installs them.")
    assert node is not None
    return node


@dataclass
class PlaygroundRun:
    """What one drive through the Playground saw (written by playground.mjs) and the logs to explain a failure."""

    exit_code: int
    output: str
    result: dict[str, Any]
    logs: list[str] = field(default_factory=list)

    @property
    def passed_steps(self) -> list[str]:
        return [str(s["name"]) for s in self.result.get("steps", [])]

    def explain(self) -> str:
        failure = self.result.get("failure") or {}
        lines = [
            f"playground.mjs exited with {self.exit_code}",
            f"failed step: {failure.get('step')}: {failure.get('message')}" if failure else "no failed step recorded",
            f"steps passed: {self.passed_steps}",
            f"screenshots: {SCREENSHOTS}",
            "--- playground.mjs output ---",
            self.output[-LOG_TAIL_CHARS:],
            *self.logs,
        ]
        return "\n".join(lines)

    def require_steps(self, *prefixes: str) -> None:
        for prefix in prefixes:
            if not any(name.startswith(prefix) for name in self.passed_steps):
                pytest.fail(f"step '{prefix}...' did not pass\n{self.explain()}")


@pytest.fixture(scope="module")
def playground_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlaygroundRun]:
    node = check_prerequisites()
    work = tmp_path_factory.mktemp("e2e")
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)

    bot_port = free_port()
    bot_env = {
        **os.environ,
        "PORT": str(bot_port),
        "HOST": "127.0.0.1",
        "STORAGE": "sqlite",
        "SQLITE_PATH": str(work / "pilotgate.db"),
        "API_TOKEN": API_TOKEN,
        "ALLOW_CLOCK_OVERRIDE": "1",
        "SCHEDULER_INTERVAL_S": "0",
        "MicrosoftAppId": "",  # anonymous local mode: the Playground sends no Bot Framework token
        "MicrosoftAppPassword": "",
        "ALLOWED_TENANTS": "",
        # The Playground's own user (its currentUser), so that `link leadership` is allowed; a sponsor who is also an
        # admin sees every other card as before.
        "ADMIN_USERS": PLAYGROUND_USER_AAD_ID,
        "LOG_LEVEL": "INFO",
    }
    playground_env = {**os.environ, "TEAMSAPPTESTER_BROWSER": "none"}
    scratch = work / "playground"  # the Playground writes devTools/ into its working directory
    scratch.mkdir()

    with ExitStack() as stack:
        # The working directory is the temporary folder, so a developer's .env in the repo is not read.
        bot = start_process("bot", [sys.executable, str(ROOT / "app.py")], work, bot_env, work / "bot.log")
        stack.callback(bot.stop)
        wait_for_http(bot, bot_port, "/healthz", BOT_START_S)

        playground = start_process(
            "Playground",
            [
                node,
                str(PLAYGROUND_CLI),
                "--disable-telemetry",
                "-c",
                "msteams",
                "-p",
                str(free_port()),
                "-e",
                f"http://127.0.0.1:{bot_port}/api/messages",
            ],
            scratch,
            playground_env,
            work / "playground.log",
        )
        stack.callback(playground.stop)
        playground_port = wait_for_listening_port(playground, PLAYGROUND_START_S)
        wait_for_http(playground, playground_port, "/", PLAYGROUND_START_S)

        result_file = work / "result.json"
        script_env = {
            **os.environ,
            "PLAYGROUND_URL": f"http://localhost:{playground_port}",
            "CHROMIUM_PATH": str(CHROMIUM),
            "SCREENSHOT_DIR": str(SCREENSHOTS),
            "RESULT_FILE": str(result_file),
            "BOT_URL": f"http://127.0.0.1:{bot_port}",
            "API_TOKEN": API_TOKEN,
        }
        driver = start_process("playground.mjs", [node, str(SCRIPT)], ROOT, script_env, work / "driver.log")
        stack.callback(driver.stop)
        timed_out = False
        try:
            driver.popen.wait(timeout=SCRIPT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            timed_out = True
            driver.stop()
        exit_code = driver.popen.returncode
        result: dict[str, Any] = json.loads(result_file.read_text()) if result_file.exists() else {}
        if timed_out or not result:
            failure = result.get("failure") or {"step": "(none recorded)", "message": "it wrote no result"}
            if timed_out:
                failure["message"] = f"stopped after {SCRIPT_TIMEOUT_S:.0f} s (time-out): {failure['message']}"
            result["failure"] = failure
        devtools = "\n".join(p.read_text(errors="replace")[-LOG_TAIL_CHARS:] for p in scratch.glob("devTools/*.log"))
        yield PlaygroundRun(
            exit_code=exit_code,
            output=driver.log(),
            result=result,
            logs=[bot.log_tail(), playground.log_tail(), f"--- Playground devTools log ---\n{devtools}"],
        )


def test_personal_chat_greets_helps_registers_a_pilot_and_answers_its_status(playground_run: PlaygroundRun) -> None:
    playground_run.require_steps(
        "open the Playground",
        "help answers",
        "new pilot shows",
        "fill the form and press Create pilot",
        "status <pilot> answers",
    )


def test_channel_mention_answers_with_the_status_card(playground_run: PlaygroundRun) -> None:
    playground_run.require_steps("switch to My Team - General", "@mention the bot")


def test_no_exchange_failed_and_the_run_finished(playground_run: PlaygroundRun) -> None:
    playground_run.require_steps("the Playground logged no failed exchange")
    assert playground_run.exit_code == 0, playground_run.explain()
    assert len(playground_run.result["screenshots"]) >= 6, playground_run.explain()


def test_welcome_card_is_shown_once_per_conversation(playground_run: PlaygroundRun) -> None:
    playground_run.require_steps("open the Playground")
    observations = playground_run.result["observations"]
    assert observations["personalWelcomeCards"] == 1, observations
    assert observations.get("channelWelcomeCards", 1) <= 1, observations


def test_monthly_checkin_card_is_answered_through_the_playground(playground_run: PlaygroundRun) -> None:
    """A tick at the first check-in time sends the card through the Playground's connector; the answer is stored."""
    playground_run.require_steps(
        "back in the personal chat, read the pilot start and gate dates",
        "tick the scheduler at the first check-in time",
        "the check-in card arrives in the personal chat",
        "fill in the check-in and press Submit check-in",
        "status <pilot> shows the reading 37.5 min",
    )
    observations = playground_run.result["observations"]
    # The form's default start is today; that month's check-in goes out on the next month's first business day, 09:00
    # UTC (the default time zone), and the run ticked a minute later.
    start = date.fromisoformat(observations["startDate"])
    send_day = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    while send_day.weekday() >= 5:
        send_day += timedelta(days=1)
    assert observations["tickAt"] == f"{send_day.isoformat()}T09:01:00Z", observations
    first = observations["firstTick"]
    assert first["by_kind"] == {"checkin": 1}, first
    assert (first["sent"], first["failed"], first["undeliverable"]) == (1, 0, 0), first


def test_a_second_tick_at_the_same_time_sends_nothing_more(playground_run: PlaygroundRun) -> None:
    playground_run.require_steps(
        "tick again before answering: the check-in is not sent twice",
        "tick again after the answer at the same time: nothing more is sent",
    )
    observations = playground_run.result["observations"]
    for name in ("retickBeforeAnswer", "retickAfterAnswer"):
        report = observations[name]
        assert (report["sent"], report["failed"], report["undeliverable"]) == (0, 0, 0), (name, report)
        assert report["by_kind"] == {}, (name, report)


def test_gate_card_in_the_project_channel_gives_the_sponsor_the_decision_view(playground_run: PlaygroundRun) -> None:
    """The gate card is read-only as posted; the sponsor gets Go, Narrow scope, Extend, Retire (refresh or Decide)."""
    playground_run.require_steps(
        "register a second pilot whose gate is today",
        "in My Team - General, link <pilot>",
        "tick the scheduler at 09:00 on the gate day",
        "the gate card shows in the channel; the sponsor gets the decision view",
    )
    observations = playground_run.result["observations"]
    gate = observations["gateTick"]
    assert gate["by_kind"].get("gate") == 1, gate
    assert (gate["failed"], gate["undeliverable"]) == (0, 0), gate
    # 09:00 on the gate day in the pilot's zone (UTC), or a minute after the run's own clock when that is later
    assert observations["gateTickAt"][11:] >= "09:00:00Z", observations
    assert observations["gateDecisionButtons"] == ["Go", "Narrow scope", "Extend", "Retire"], observations
    # Which way the decision view came: Playground 0.2.28 does not act on a refresh that names userIds, so Decide.
    assert isinstance(observations["gateRefreshedAutomatically"], bool), observations
    names = {Path(p).name for p in playground_run.result["screenshots"]}
    assert {"11-gate-card-channel.png", "12-gate-card-sponsor-view.png"} <= names, names


def test_leadership_channel_gets_the_monthly_report_card_on_the_report_day(playground_run: PlaygroundRun) -> None:
    """`link leadership` in the channel, a tick at 09:00 on the 5th business day: the report card arrives, once."""
    playground_run.require_steps(
        "in My Team - General, link leadership as an admin",
        "tick the scheduler at 09:00 on the report day",
        "the report card arrives in the leadership channel",
        "tick again at the report time: the report is not sent twice",
    )
    observations = playground_run.result["observations"]
    assert observations["reportTickAt"].endswith("T09:00:00Z"), observations
    assert observations["reportTick"]["by_kind"].get("report") == 1, observations["reportTick"]
    assert not observations["reportRetick"]["by_kind"].get("report"), observations["reportRetick"]
    shown = observations["reportCardText"]
    for figure in ("Pilots", "Check-ins answered", "Spend this month", "Progress to target"):
        assert figure in shown, shown
    names = {Path(p).name for p in playground_run.result["screenshots"]}
    assert "21-report-card-channel.png" in names, names


def test_the_sponsor_corrects_last_months_reading_from_the_status_card(playground_run: PlaygroundRun) -> None:
    """A wrong figure from a system of record, corrected from the status card: the form comes filled, the saved
    reading says corrected, the status card shows "38 min (corrected)", and the API has the before in the audit."""
    playground_run.require_steps(
        "last month's reading arrives through the REST API",
        "status <pilot>, Correct a reading, last month",
        "change the figure and press Save correction",
        "status <pilot> shows the value as corrected",
    )
    observations = playground_run.result["observations"]
    assert observations["correctionFormValue"] in ("48", "48.0"), observations
    reading = observations["correctedReading"]
    assert reading["corrected"] is True and reading["values"] == {"Handling time": 38}, reading
    assert reading["period"] == observations["correctedPeriod"], reading
    names = {Path(p).name for p in playground_run.result["screenshots"]}
    assert {"17-status-correct-a-reading.png", "18-correction-form.png", "20-status-corrected.png"} <= names, names


def test_the_sponsor_skips_a_month_with_a_reason_and_status_shows_it_skipped(playground_run: PlaygroundRun) -> None:
    """ "Skip this month" on the check-in card, a reason, and `status` lists the month as skipped with it; the next
    tick sends that month nothing (no reminder, no escalation)."""
    playground_run.require_steps(
        "register a third pilot through the REST API",
        "tick at its first check-in time",
        "press Skip this month, give the reason and skip",
        "status <pilot> shows the month skipped with its reason",
        "a tick after the skip sends the skipped month nothing more",
    )
    observations = playground_run.result["observations"]
    assert observations["skipTick"]["by_kind"].get("checkin", 0) >= 1, observations
    assert observations["skipRetick"]["sent"] == 0, observations
    names = {Path(p).name for p in playground_run.result["screenshots"]}
    assert {"31-skip-month-form.png", "32-checkin-skipped.png", "33-status-skipped-month.png"} <= names, names


def test_the_quarterly_audit_opens_and_the_sponsor_gets_an_attestation_card(playground_run: PlaygroundRun) -> None:
    """`audit` as an admin answers the board; a tick sends the sponsor one attestation card per initiative."""
    playground_run.require_steps(
        "back in the personal chat, audit as an admin",
        "tick the scheduler now",
        "the attestation card arrives in the personal chat",
    )
    observations = playground_run.result["observations"]
    attested = re.search(r"0 of (\d+) by their sponsors", observations["auditBoardText"])
    assert attested is not None and int(attested.group(1)) >= 2, observations["auditBoardText"]
    # One card per initiative, all of them the Playground user's (the sponsor of every pilot in this run).
    assert observations["auditTick"]["by_kind"].get("audit") == int(attested.group(1)), observations["auditTick"]
    assert "Your recommendation" in observations["attestationCardText"], observations["attestationCardText"]
    names = {Path(p).name for p in playground_run.result["screenshots"]}
    assert {"22-audit-board.png", "23-audit-attestation-card.png"} <= names, names

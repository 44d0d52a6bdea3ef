// Drives the Microsoft 365 Agents Playground's own UI in headless Chromium, as a person would.
//
// Started by tests/e2e/test_playground.py, which starts the bot and the Playground first and passes:
//   PLAYGROUND_URL   the page to open, e.g. http://localhost:56150
//   CHROMIUM_PATH    Debian's chromium (default /usr/bin/chromium)
//   SCREENSHOT_DIR   where each rendered card is saved as a PNG
//   RESULT_FILE      where the run writes what it saw (JSON), read by the pytest module
//   BOT_URL, API_TOKEN   the bot's base URL and REST token: the check-in flow ticks the scheduler through the API
// The Playground's user is a governance admin in this run (ADMIN_USERS), so that `link leadership` is allowed.
// It stops at the first step that fails, saves failure.png, prints the step and exits 1.

import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(new URL('../../tools/playground/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const env = process.env;
const PLAYGROUND_URL = required('PLAYGROUND_URL');
const SCREENSHOT_DIR = required('SCREENSHOT_DIR');
const RESULT_FILE = required('RESULT_FILE');
const BOT_URL = required('BOT_URL');
const API_TOKEN = required('API_TOKEN');
const CHROMIUM_PATH = env.CHROMIUM_PATH || '/usr/bin/chromium';

const PILOT = 'Claims triage e2e';
const GATE_PILOT = 'Intake routing e2e'; // registered with its gate today, for the gate card's decision view
const SKIP_PILOT = 'Vendor onboarding e2e'; // registered through the REST API; its sponsor skips its first month
const SKIP_REASON = 'On leave until the 20th';
const BOT_NAME = 'Test Bot'; // the Playground's default name for the bot under test
const CHANNEL = 'My Team - General';
const PERSONAL_CHAT = 'Personal Chat';
const PAGE_LOAD_MS = 30_000; // 3-9 s normally; the first Chromium start on a cold machine is slower
const REPLY_MS = 15_000; // one exchange takes 0.25-0.75 s; Teams itself gives an invoke 15 s

const result = { steps: [], observations: {}, screenshots: [], blockedRequests: [], failure: null };
let currentStep = 'start';

function required(name) {
  const value = env[name];
  if (!value) {
    console.error(`playground.mjs: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

async function step(name, body) {
  currentStep = name;
  const started = Date.now();
  await body();
  const ms = Date.now() - started;
  result.steps.push({ name, ms });
  console.log(`ok ${name} (${ms} ms)`);
}

function cardsWithHeading(page, scope, heading) {
  // The rendered Adaptive Cards whose heading is `heading`, oldest first.
  return scope.locator('.ac-adaptiveCard').filter({ has: page.getByRole('heading', { name: heading, exact: true }) });
}

function cardWithHeading(page, scope, heading) {
  return cardsWithHeading(page, scope, heading).last();
}

async function shoot(locator, name) {
  const path = join(SCREENSHOT_DIR, name);
  await locator.screenshot({ path });
  result.screenshots.push(path);
}

async function expectText(scope, text) {
  await scope.getByText(text, { exact: true }).first().waitFor({ timeout: REPLY_MS });
}

async function sendInChat(page, text) {
  const composer = page.getByRole('textbox').last();
  await composer.fill(text);
  await page.getByRole('button', { name: 'Send Message' }).last().click();
}

async function mentionInChannel(page, text) {
  // A new post in the open channel that @mentions the bot (the only way a channel post reaches it); its thread.
  const newPost = page.getByRole('group').filter({ has: page.getByRole('button', { name: 'Post', exact: true }) });
  await newPost.getByRole('textbox').click();
  await page.keyboard.type('@');
  await page.getByRole('menuitem', { name: BOT_NAME }).first().click();
  await page.keyboard.type(` ${text}`);
  await newPost.getByRole('button', { name: 'Post', exact: true }).click();
  return page.getByRole('group').filter({ hasText: text }).last();
}

const REFRESH_SETTLE_MS = 1000; // an automatic refresh is one invoke (0.25-0.75 s)

async function settledAfterRefresh(page, card) {
  // Status cards carry a refresh (pilot.status, no userIds): give the Playground the time to act on it, then check
  // the card shows no notice of the Adaptive Cards applet ("automatic refresh paused..."). Its own Refresh button is
  // the bot's. Playground 0.2.28 shows "User specific view is not supported yet" under such a card, outside it.
  await page.waitForTimeout(REFRESH_SETTLE_MS);
  const shown = await card.innerText();
  if (/automatic refresh|not supported/i.test(shown)) throw new Error(`the card shows a refresh notice: ${shown}`);
}

async function personalChat(page) {
  await step('open the Playground: the bot greets in the personal chat', async () => {
    await page.goto(PLAYGROUND_URL, { timeout: PAGE_LOAD_MS });
    const welcome = cardWithHeading(page, page, 'Welcome to PilotGate');
    await welcome.waitFor({ timeout: PAGE_LOAD_MS });
    await shoot(welcome, '01-welcome.png');
    // Both install events arrive at once; give a second greeting time to show before counting.
    await page.waitForTimeout(1000);
    result.observations.personalWelcomeCards = await cardsWithHeading(page, page, 'Welcome to PilotGate').count();
  });

  await step('help answers the command list', async () => {
    await sendInChat(page, 'help');
    const help = cardWithHeading(page, page, 'PilotGate commands');
    await help.waitFor({ timeout: REPLY_MS });
    for (const command of ['help', 'pilots', 'status', 'overdue', 'new pilot', 'link']) {
      await expectText(help, command);
    }
    await shoot(help, '02-help.png');
  });

  let form;
  await step('new pilot shows the registration form', async () => {
    await sendInChat(page, 'new pilot');
    form = cardWithHeading(page, page, 'Register a pilot');
    await form.waitFor({ timeout: REPLY_MS });
    await form.getByRole('button', { name: 'Create pilot' }).waitFor({ timeout: REPLY_MS });
  });

  await step('fill the form and press Create pilot: the created card replaces the form', async () => {
    const field = (role, name) => form.getByRole(role, { name, exact: true });
    await field('textbox', 'Pilot name').fill(PILOT);
    await field('textbox', 'Metric').fill('Handling time');
    await field('textbox', 'Unit').fill('min');
    await field('spinbutton', 'Baseline (today)').fill('42');
    await field('spinbutton', 'Target').fill('30');
    await field('combobox', 'Direction').click();
    await page.getByRole('option', { name: 'Decrease (lower is better)', exact: true }).click();
    await field('spinbutton', 'Monthly budget (optional)').fill('12000');
    await field('spinbutton', 'Intended users (optional)').fill('150');
    await page.evaluate(() => document.activeElement && document.activeElement.blur()); // no focus ring in the shot
    await shoot(form, '03-new-pilot-form.png');
    await form.getByRole('button', { name: 'Create pilot', exact: true }).click();
    const created = cardWithHeading(page, page, `Pilot registered: ${PILOT}`);
    await created.waitFor({ timeout: REPLY_MS });
    await expectText(created, 'Handling time: 42 min to 30 min (decrease)');
    await expectText(created, '12,000');
    await expectText(created, '150');
    await shoot(created, '04-pilot-created.png');
    // The invoke response replaced the form: no form is left in the chat.
    const forms = await cardsWithHeading(page, page, 'Register a pilot').count();
    if (forms !== 0) throw new Error(`the form is still shown after Create pilot (${forms} left)`);
  });

  await step('status <pilot> answers the status card with baseline 42 and target 30', async () => {
    await sendInChat(page, 'status claims triage e2e');
    const status = cardWithHeading(page, page, PILOT);
    await status.waitFor({ timeout: REPLY_MS });
    await expectText(status, '42 min');
    await expectText(status, '30 min');
    await settledAfterRefresh(page, status);
    await shoot(status, '05-status.png');
    await shoot(page, '06-personal-chat-page.png');
  });
}

async function teamChannel(page) {
  await step(`switch to ${CHANNEL}`, async () => {
    await page.getByRole('treeitem', { name: CHANNEL, exact: true }).click();
    await page.getByRole('button', { name: 'Post', exact: true }).waitFor({ timeout: REPLY_MS });
    // Opening the channel adds the bot to the team; let its greeting land before posting.
    const welcome = cardWithHeading(page, page, 'Welcome to PilotGate');
    const greeted = await welcome.waitFor({ timeout: 5000 }).then(
      () => true,
      () => false,
    );
    if (greeted) await page.waitForTimeout(1000);
    result.observations.channelWelcomeCards = await cardsWithHeading(page, page, 'Welcome to PilotGate').count();
    if (greeted) await shoot(welcome, '07-channel-welcome.png');
  });

  await step('@mention the bot with status <pilot>: the status card answers in the thread', async () => {
    const thread = await mentionInChannel(page, 'status claims triage e2e');
    const status = cardWithHeading(page, thread, PILOT);
    await status.waitFor({ timeout: REPLY_MS });
    await expectText(status, '42 min');
    await expectText(status, '30 min');
    await settledAfterRefresh(page, status);
    await shoot(status, '08-channel-status.png');
    await shoot(thread, '09-channel-thread.png');
    await shoot(page, '10-channel-page.png');
  });
}

function firstCheckinTick(startDate) {
  // The first check-in (for the start month) goes out on the first business day of the next month at 09:00 in the
  // pilot's time zone (UTC by default): tick one minute after that.
  const [year, month] = startDate.split('-').map(Number); // month is 1-12, so Date.UTC(year, month) is next month
  const day = new Date(Date.UTC(year, month, 1, 9, 1));
  while (day.getUTCDay() === 0 || day.getUTCDay() === 6) day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function monthLabel(period) {
  // '2026-11' -> 'November 2026', as the card names the month
  const first = new Date(`${period}-01T00:00:00Z`);
  return first.toLocaleString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

async function tick(now) {
  // One scheduler sweep at a chosen time, through the bot's REST API (ALLOW_CLOCK_OVERRIDE=1 in this run).
  const response = await fetch(`${BOT_URL}/api/scheduler/tick`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ now }),
    signal: AbortSignal.timeout(REPLY_MS),
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`POST /api/scheduler/tick answered ${response.status}: ${body}`);
  return JSON.parse(body);
}

async function monthlyCheckin(page) {
  let tickAt;
  let period;
  let gateDate;
  await step('back in the personal chat, read the pilot start and gate dates from the created card', async () => {
    await page.getByRole('treeitem', { name: PERSONAL_CHAT, exact: true }).click({ timeout: REPLY_MS });
    const created = cardWithHeading(page, page, `Pilot registered: ${PILOT}`);
    await created.waitFor({ timeout: REPLY_MS });
    const shown = await created.innerText();
    const start = /Start\s*(\d{4}-\d{2}-\d{2})/.exec(shown);
    const gate = /Gate\s*(\d{4}-\d{2}-\d{2})/.exec(shown);
    if (!start || !gate) throw new Error(`no start or gate date on the created card: ${shown}`);
    period = start[1].slice(0, 7);
    gateDate = gate[1];
    tickAt = firstCheckinTick(start[1]);
    Object.assign(result.observations, { startDate: start[1], checkinPeriod: period, tickAt });
  });

  await step('tick the scheduler at the first check-in time: one check-in is sent', async () => {
    const report = await tick(tickAt);
    result.observations.firstTick = report;
    if (report.sent !== 1 || (report.by_kind || {}).checkin !== 1 || report.failed || report.undeliverable) {
      throw new Error(`expected one check-in sent at ${tickAt}, the sweep answered ${JSON.stringify(report)}`);
    }
  });

  let card;
  await step('the check-in card arrives in the personal chat through the connector', async () => {
    card = cardWithHeading(page, page, `Monthly check-in: ${PILOT}`);
    await card.waitFor({ timeout: REPLY_MS });
    await expectText(card, `How did ${monthLabel(period)} go? The readings feed the gate on ${gateDate}.`);
    await card.getByRole('button', { name: 'Submit check-in', exact: true }).waitFor({ timeout: REPLY_MS });
    await card.scrollIntoViewIfNeeded();
    await shoot(card, '13-checkin-card.png');
  });

  await step('tick again before answering: the check-in is not sent twice', async () => {
    const report = await tick(tickAt);
    result.observations.retickBeforeAnswer = report;
    if (report.sent !== 0 || report.failed || report.undeliverable) {
      throw new Error(`a second tick at ${tickAt} must send nothing; it answered ${JSON.stringify(report)}`);
    }
  });

  await step('fill in the check-in and press Submit check-in: the received card replaces it', async () => {
    await card.getByRole('spinbutton', { name: /^Handling time \(min\): baseline 42 min, target 30 min/ }).fill('37.5');
    await card.getByRole('radio', { name: 'Amber', exact: true }).check();
    await card.getByRole('spinbutton', { name: /^Active users this month \(intended: 150\)/ }).fill('120');
    // Spend well inside the budget: spend projected past the total budget would (rightly) bring a cost-drift alert
    // on the next tick, and that tick must send nothing.
    await card.getByRole('spinbutton', { name: /^Spend in .* \(monthly budget: 12,000\)/ }).fill('6000');
    await card.getByRole('textbox', { name: /^Blockers/ }).fill('Waiting for the claims API key');
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await shoot(card, '14-checkin-filled.png');
    await card.getByRole('button', { name: 'Submit check-in', exact: true }).click();
    const received = cardWithHeading(page, page, `Check-in received: ${PILOT}`);
    await received.waitFor({ timeout: REPLY_MS });
    await expectText(received, 'Status: Amber');
    await expectText(received, '37.5 min (target 30 min)');
    await expectText(received, '120 of 150 intended');
    await expectText(received, '6,000 of 12,000 monthly budget');
    await shoot(received, '15-checkin-received.png');
    const forms = await cardsWithHeading(page, page, `Monthly check-in: ${PILOT}`).count();
    if (forms !== 0) throw new Error(`the check-in form is still shown after Submit check-in (${forms} left)`);
  });

  await step('status <pilot> shows the reading 37.5 min', async () => {
    await sendInChat(page, 'status claims triage e2e');
    // The last card of that name; until the answer arrives that is the status card from before the check-in.
    const status = cardWithHeading(page, page, PILOT);
    await expectText(status, '37.5 min');
    await settledAfterRefresh(page, status);
    await shoot(status, '16-status-after-checkin.png');
  });

  await step('tick again after the answer at the same time: nothing more is sent', async () => {
    const report = await tick(tickAt);
    result.observations.retickAfterAnswer = report;
    if (report.sent !== 0 || report.failed || report.undeliverable) {
      throw new Error(`a second tick at ${tickAt} must send nothing; it answered ${JSON.stringify(report)}`);
    }
    await page.waitForTimeout(500); // a stray proactive message would show by now
    const checkins = await cardsWithHeading(page, page, `Monthly check-in: ${PILOT}`).count();
    if (checkins !== 0) throw new Error(`a check-in card appeared after the second tick (${checkins})`);
  });
}

function nineAm(day, timeZone) {
  // 09:00 wall-clock time on `day` (YYYY-MM-DD) in the IANA `timeZone`, as an ISO instant in UTC.
  const [year, month, date] = day.split('-').map(Number);
  const wanted = Date.UTC(year, month - 1, date, 9);
  const wallClock = (instant) => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric',
        day: 'numeric', hour: 'numeric', minute: 'numeric' }).formatToParts(instant).map((p) => [p.type, p.value]),
    );
    return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
  };
  let instant = wanted;
  for (let i = 0; i < 2; i += 1) instant += wanted - wallClock(instant); // twice: the offset may change at 09:00
  return new Date(instant).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const DECISIONS = ['Go', 'Narrow scope', 'Extend', 'Retire'];
const AUTOMATIC_REFRESH_MS = 3000; // the applet refreshes as soon as the card renders; allow for the invoke

async function showsDecisions(card, timeout) {
  return card
    .getByRole('button', { name: 'Go', exact: true })
    .waitFor({ timeout })
    .then(
      () => true,
      () => false,
    );
}

function isoDay(daysFromToday) {
  const day = new Date();
  day.setUTCDate(day.getUTCDate() + daysFromToday);
  return day.toISOString().slice(0, 10);
}

async function registerGatePilot(page) {
  // The scheduler ticks at any chosen time, but a card's own actions (Decide) are answered at the bot's real clock:
  // the decision view needs a gate that is open today. So a second pilot started 90 days ago, its gate today (UTC).
  const gate = { gateDate: isoDay(0), timeZone: 'UTC' };
  await step('register a second pilot whose gate is today', async () => {
    await page.getByRole('treeitem', { name: PERSONAL_CHAT, exact: true }).click({ timeout: REPLY_MS });
    await sendInChat(page, 'new pilot');
    const form = cardWithHeading(page, page, 'Register a pilot');
    await form.waitFor({ timeout: REPLY_MS });
    const field = (role, name) => form.getByRole(role, { name, exact: true });
    await field('textbox', 'Pilot name').fill(GATE_PILOT);
    await field('textbox', 'Metric').fill('Handling time');
    await field('textbox', 'Unit').fill('min');
    await field('spinbutton', 'Baseline (today)').fill('42');
    await field('spinbutton', 'Target').fill('30');
    await field('combobox', 'Direction').click();
    await page.getByRole('option', { name: 'Decrease (lower is better)', exact: true }).click();
    // The Playground renders Input.Date as a date picker that also takes typed text.
    const dates = form.locator('input[placeholder="Select a date..."]'); // Start date, then Gate date
    for (const [index, day] of [[0, isoDay(-90)], [1, gate.gateDate]]) {
      await dates.nth(index).fill(day);
      await dates.nth(index).press('Tab');
    }
    await form.getByRole('button', { name: 'Create pilot', exact: true }).click();
    const created = cardWithHeading(page, page, `Pilot registered: ${GATE_PILOT}`);
    await created.waitFor({ timeout: REPLY_MS });
    await expectText(created, isoDay(-90));
  });
  return gate;
}

async function gateDay(page, { gateDate, timeZone }) {
  await step(`in ${CHANNEL}, link <pilot>: the channel becomes the pilot's project channel`, async () => {
    await page.getByRole('treeitem', { name: CHANNEL, exact: true }).click({ timeout: REPLY_MS });
    await page.getByRole('button', { name: 'Post', exact: true }).waitFor({ timeout: REPLY_MS });
    const thread = await mentionInChannel(page, `link ${GATE_PILOT}`);
    await thread.getByText(`This channel is now the project channel of ${GATE_PILOT}`, { exact: false }).waitFor({
      timeout: REPLY_MS,
    });
  });

  // Registering the pilot booked its next look at the bot's real clock: after 09:00 UTC a tick at 09:00 would be
  // in its past and see nothing due, so the tick comes a minute from now when that is later (still the gate day).
  const nine = nineAm(gateDate, timeZone);
  const soon = new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const gateTickAt = soon > nine ? soon : nine;
  result.observations.gateTickAt = gateTickAt;
  await step('tick the scheduler at 09:00 on the gate day: the gate card goes to the project channel', async () => {
    const report = await tick(gateTickAt);
    result.observations.gateTick = report;
    if ((report.by_kind || {}).gate !== 1 || report.failed || report.undeliverable) {
      throw new Error(`expected one gate card sent at ${gateTickAt}, the sweep answered ${JSON.stringify(report)}`);
    }
  });

  let card;
  await step('the gate card shows in the channel; the sponsor gets the decision view', async () => {
    card = cardWithHeading(page, page, `Gate day: ${GATE_PILOT}`);
    await card.waitFor({ timeout: REPLY_MS });
    await card.scrollIntoViewIfNeeded();
    await shoot(card, '11-gate-card-channel.png');
    // Teams refreshes the card for the userIds its refresh names (the sponsor, who is this user): if the Playground
    // does too, the decision buttons replace Decide without a click; if not, Decide asks for the same view.
    const automatic = await showsDecisions(card, AUTOMATIC_REFRESH_MS);
    result.observations.gateRefreshedAutomatically = automatic;
    // Playground 0.2.28 logs this for every card with a refresh instead of refreshing it.
    const panel = await page.locator('body').innerText();
    result.observations.userSpecificViewWarnings = (panel.match(/User specific view is not supported/g) || []).length;
    if (!automatic) {
      await card.getByText(/^Decisions are open:/).waitFor({ timeout: REPLY_MS }); // the read-only view
      const decide = card.getByRole('button', { name: 'Decide', exact: true });
      await decide.waitFor({ timeout: REPLY_MS });
      await decide.click();
      if (!(await showsDecisions(card, REPLY_MS))) throw new Error('Decide did not bring the decision buttons');
    }
    for (const name of DECISIONS) {
      await card.getByRole('button', { name, exact: true }).waitFor({ timeout: REPLY_MS });
    }
    result.observations.gateDecisionButtons = DECISIONS;
    await card.scrollIntoViewIfNeeded();
    await shoot(card, '12-gate-card-sponsor-view.png');
  });
}

function reportTime(now = new Date()) {
  // The monthly report goes out at 09:00 in the report time zone (UTC by default) on the 5th business day of the
  // month; the first such time after now (when `link leadership` put the tenant on the agenda).
  const fifthBusinessDay = (year, month) => {
    const day = new Date(Date.UTC(year, month, 1, 9));
    let count = day.getUTCDay() % 6 === 0 ? 0 : 1;
    while (count < 5) {
      day.setUTCDate(day.getUTCDate() + 1);
      if (day.getUTCDay() % 6 !== 0) count += 1;
    }
    return day;
  };
  let at = fifthBusinessDay(now.getUTCFullYear(), now.getUTCMonth());
  if (at <= now) at = fifthBusinessDay(now.getUTCFullYear(), now.getUTCMonth() + 1);
  const reported = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - 1, 1));
  return { at: at.toISOString().replace(/\.\d{3}Z$/, 'Z'), period: reported.toISOString().slice(0, 7) };
}

async function leadershipReport(page) {
  const { at, period } = reportTime();
  Object.assign(result.observations, { reportTickAt: at, reportPeriod: period });
  await step(`in ${CHANNEL}, link leadership as an admin: the channel will get the monthly report`, async () => {
    await page.getByRole('treeitem', { name: CHANNEL, exact: true }).click({ timeout: REPLY_MS });
    await page.getByRole('button', { name: 'Post', exact: true }).waitFor({ timeout: REPLY_MS });
    const thread = await mentionInChannel(page, 'link leadership');
    await thread.getByText('This channel now gets the monthly outcome report', { exact: false }).waitFor({
      timeout: REPLY_MS,
    });
  });

  await step('tick the scheduler at 09:00 on the report day: the report card goes to the leadership channel', async () => {
    const report = await tick(at);
    result.observations.reportTick = report;
    if ((report.by_kind || {}).report !== 1 || report.failed || report.undeliverable) {
      throw new Error(`expected one report sent at ${at}, the sweep answered ${JSON.stringify(report)}`);
    }
  });

  await step('the report card arrives in the leadership channel', async () => {
    const card = cardWithHeading(page, page, `Monthly outcome report: ${monthLabel(period)}`);
    await card.waitFor({ timeout: REPLY_MS });
    await expectText(card, 'Headline figures');
    await expectText(card, 'Progress to target');
    await card.scrollIntoViewIfNeeded();
    await shoot(card, '21-report-card-channel.png');
    result.observations.reportCardText = await card.innerText();
  });

  await step('tick again at the report time: the report is not sent twice', async () => {
    const report = await tick(at);
    result.observations.reportRetick = report;
    if ((report.by_kind || {}).report || report.failed || report.undeliverable) {
      throw new Error(`a second tick at ${at} must not send the report again; it answered ${JSON.stringify(report)}`);
    }
    await page.waitForTimeout(500); // a stray proactive message would show by now
    const cards = await cardsWithHeading(page, page, `Monthly outcome report: ${monthLabel(period)}`).count();
    if (cards !== 1) throw new Error(`expected one report card in the channel, found ${cards}`);
  });
}

async function api(method, path, body) {
  // The bot's REST API, as a system of record uses it.
  const response = await fetch(`${BOT_URL}${path}`, {
    method,
    headers: { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REPLY_MS),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

function lastMonth() {
  // The month before today's (UTC, the pilot's time zone), as 'YYYY-MM': the latest month that can be corrected.
  const day = new Date();
  day.setUTCDate(1);
  day.setUTCMonth(day.getUTCMonth() - 1);
  return day.toISOString().slice(0, 7);
}

async function correctLastMonth(page) {
  // The gate pilot started 90 days ago: last month's reading arrives from a system of record with a wrong figure,
  // and the sponsor corrects it from the status card.
  const period = lastMonth();
  result.observations.correctedPeriod = period;
  await step('last month\'s reading arrives through the REST API', async () => {
    const { pilots } = await api('GET', '/api/pilots');
    const pilot = pilots.find((p) => p.name === GATE_PILOT);
    if (!pilot) throw new Error(`no pilot named ${GATE_PILOT} in GET /api/pilots`);
    result.observations.correctedPilotId = pilot.id;
    await api('POST', `/api/pilots/${pilot.id}/readings`, {
      period, values: { 'Handling time': 48 }, status: 'amber',
    });
  });

  let form;
  await step('status <pilot>, Correct a reading, last month: the form comes filled with the reading', async () => {
    await page.getByRole('treeitem', { name: PERSONAL_CHAT, exact: true }).click({ timeout: REPLY_MS });
    await sendInChat(page, 'status intake routing e2e');
    const status = cardWithHeading(page, page, GATE_PILOT);
    await expectText(status, '48 min');
    await settledAfterRefresh(page, status);
    await status.getByRole('button', { name: 'Correct a reading', exact: true }).click();
    // The month picker opens in place, the latest month first and chosen.
    await status.getByRole('button', { name: 'Open the form', exact: true }).waitFor({ timeout: REPLY_MS });
    await status.scrollIntoViewIfNeeded();
    await shoot(status, '17-status-correct-a-reading.png');
    await status.getByRole('button', { name: 'Open the form', exact: true }).click();
    form = cardWithHeading(page, page, `Correct a reading: ${GATE_PILOT}`);
    await form.waitFor({ timeout: REPLY_MS });
    const metric = form.getByRole('spinbutton', { name: /^Handling time \(min\): baseline 42 min, target 30 min/ });
    const shown = await metric.inputValue();
    result.observations.correctionFormValue = shown;
    if (Number(shown) !== 48) throw new Error(`the correction form shows ${shown}, not the reading 48`);
  });

  await step('change the figure and press Save correction: the corrected reading replaces the form', async () => {
    const metric = form.getByRole('spinbutton', { name: /^Handling time \(min\): baseline 42 min, target 30 min/ });
    await metric.fill('38');
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await form.scrollIntoViewIfNeeded();
    await shoot(form, '18-correction-form.png');
    await form.getByRole('button', { name: 'Save correction', exact: true }).click();
    const saved = cardWithHeading(page, page, `Reading corrected: ${GATE_PILOT}`);
    await saved.waitFor({ timeout: REPLY_MS });
    await expectText(saved, '38 min (target 30 min)');
    await shoot(saved, '19-reading-corrected.png');
  });

  await step('status <pilot> shows the value as corrected', async () => {
    await sendInChat(page, 'status intake routing e2e');
    const status = cardWithHeading(page, page, GATE_PILOT);
    await expectText(status, '38 min (corrected)');
    await settledAfterRefresh(page, status);
    await status.scrollIntoViewIfNeeded();
    await shoot(status, '20-status-corrected.png');
    const stored = await api('GET', `/api/pilots/${result.observations.correctedPilotId}`);
    result.observations.correctedReading = stored.readings.find((r) => r.period === period);
  });
}

async function registerSkipPilot() {
  // Sponsored by the Playground's user (read from the first pilot, registered through the form), started today.
  let pilot;
  await step('register a third pilot through the REST API, sponsored by the Playground user', async () => {
    const { pilots } = await api('GET', '/api/pilots');
    const first = pilots.find((p) => p.name === PILOT);
    if (!first) throw new Error(`GET /api/pilots does not list ${PILOT}`);
    pilot = await api('POST', '/api/pilots', {
      name: SKIP_PILOT,
      tenantId: first.tenantId,
      sponsor: first.sponsor,
      metrics: [{ name: 'Onboarding time', unit: 'd', baseline: 12, target: 5, direction: 'decrease' }],
      startDate: isoDay(0),
      timezone: 'UTC',
    });
  });
  return pilot;
}

async function skipMonth(page, pilot) {
  // A card's own actions are answered at the bot's real clock: the month in progress (the pilot's first) may be
  // skipped from its card, which a tick at its check-in time sends ahead of time.
  const period = pilot.startDate.slice(0, 7);
  const month = monthLabel(period);
  let card;
  await step('tick at its first check-in time: its check-in card arrives in the personal chat', async () => {
    await page.getByRole('treeitem', { name: PERSONAL_CHAT, exact: true }).click({ timeout: REPLY_MS });
    const report = await tick(firstCheckinTick(pilot.startDate));
    result.observations.skipTick = report;
    if (!(report.by_kind || {}).checkin || report.failed || report.undeliverable) {
      throw new Error(`expected the check-in of ${SKIP_PILOT} to be sent; the sweep answered ${JSON.stringify(report)}`);
    }
    card = cardWithHeading(page, page, `Monthly check-in: ${SKIP_PILOT}`);
    await card.waitFor({ timeout: REPLY_MS });
    await card.getByRole('button', { name: 'Skip this month', exact: true }).waitFor({ timeout: REPLY_MS });
  });

  await step('press Skip this month, give the reason and skip: the card says the month is skipped', async () => {
    await card.scrollIntoViewIfNeeded();
    await card.getByRole('button', { name: 'Skip this month', exact: true }).click();
    const form = cardWithHeading(page, page, `Skip ${month}: ${SKIP_PILOT}`);
    await form.waitFor({ timeout: REPLY_MS });
    await form.getByRole('textbox', { name: /^Why is this month skipped\?/ }).fill(SKIP_REASON);
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await shoot(form, '31-skip-month-form.png');
    await form.getByRole('button', { name: `Skip ${month}`, exact: true }).click();
    const skipped = cardWithHeading(page, page, `Check-in skipped: ${SKIP_PILOT}`);
    await skipped.waitFor({ timeout: REPLY_MS });
    await skipped.getByText(SKIP_REASON, { exact: false }).first().waitFor({ timeout: REPLY_MS });
    await shoot(skipped, '32-checkin-skipped.png');
  });

  await step('status <pilot> shows the month skipped with its reason', async () => {
    await sendInChat(page, 'status vendor onboarding e2e');
    const status = cardWithHeading(page, page, SKIP_PILOT);
    const line = status.getByText(/^Skipped months:/).first();
    await line.waitFor({ timeout: REPLY_MS });
    const shown = await line.innerText();
    if (shown !== `Skipped months: ${month} (${SKIP_REASON}).`) throw new Error(`the status card says: ${shown}`);
    await settledAfterRefresh(page, status);
    await shoot(status, '33-status-skipped-month.png');
    result.observations.skippedMonth = month;
  });

  await step('a tick after the skip sends the skipped month nothing more', async () => {
    const report = await tick(firstCheckinTick(pilot.startDate));
    result.observations.skipRetick = report;
    if (report.sent !== 0 || report.failed || report.undeliverable) {
      throw new Error(`a tick after the skip must send nothing; it answered ${JSON.stringify(report)}`);
    }
  });
}

function currentQuarter(now = new Date()) {
  return `${now.getUTCFullYear()}-Q${Math.floor(now.getUTCMonth() / 3) + 1}`;
}

async function quarterlyAudit(page) {
  const quarter = currentQuarter();
  result.observations.auditQuarter = quarter;
  await step('back in the personal chat, audit as an admin: the audit board answers', async () => {
    await page.getByRole('treeitem', { name: PERSONAL_CHAT, exact: true }).click({ timeout: REPLY_MS });
    await sendInChat(page, 'audit');
    const board = cardWithHeading(page, page, `Quarterly audit ${quarter}`);
    await board.waitFor({ timeout: REPLY_MS });
    await board.getByRole('button', { name: 'Close audit', exact: true }).waitFor({ timeout: REPLY_MS });
    result.observations.auditBoardText = await board.innerText();
    await board.scrollIntoViewIfNeeded();
    await shoot(board, '22-audit-board.png');
  });

  await step('tick the scheduler now: the sponsor gets an attestation card per initiative', async () => {
    const at = new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const report = await tick(at);
    result.observations.auditTick = report;
    if (!(report.by_kind || {}).audit || report.failed || report.undeliverable) {
      throw new Error(`expected attestation cards at ${at}, the sweep answered ${JSON.stringify(report)}`);
    }
  });

  await step('the attestation card arrives in the personal chat', async () => {
    const card = cardWithHeading(page, page, `Quarterly audit ${quarter}: ${PILOT}`);
    await card.waitFor({ timeout: REPLY_MS });
    await card.getByRole('button', { name: 'Attest', exact: true }).waitFor({ timeout: REPLY_MS });
    result.observations.attestationCardText = await card.innerText();
    await card.scrollIntoViewIfNeeded();
    await shoot(card, '23-audit-attestation-card.png');
  });
}

async function playgroundLog(page) {
  // The Playground's log panel lists every exchange with its HTTP status: none may have failed.
  await step('the Playground logged no failed exchange', async () => {
    const panel = await page.locator('body').innerText();
    const exchanges = [...panel.matchAll(/(Microsoft 365 Agents Playground|User Application)\s*-+>\s*(Microsoft 365 Agents Playground|User Application)\s+(\w+)\s+(\d{3})/g)];
    result.observations.exchanges = exchanges.length;
    const failed = exchanges.filter((m) => Number(m[4]) >= 400).map((m) => `${m[1]} -> ${m[2]} ${m[3]} ${m[4]}`);
    if (exchanges.length === 0) throw new Error('the log panel shows no exchange at all');
    if (failed.length) throw new Error(`failed exchanges: ${failed.join('; ')}`);
  });
}

mkdirSync(SCREENSHOT_DIR, { recursive: true });
const browser = await chromium.launch({
  executablePath: CHROMIUM_PATH,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
let exitCode = 0;
let page;
try {
  // Tall enough that the whole new-pilot form fits, so card screenshots are not cut by the page header.
  const context = await browser.newContext({ viewport: { width: 1280, height: 2000 } });
  page = await context.newPage();
  // Offline: only the Playground and the bot are reached (fonts and scripts from a CDN would hang).
  await page.route(/^https?:\/\/(?!localhost[:/]|127\.0\.0\.1[:/])/, (route) => {
    result.blockedRequests.push(new URL(route.request().url()).host);
    return route.abort();
  });
  await personalChat(page);
  await teamChannel(page);
  await monthlyCheckin(page);
  await gateDay(page, await registerGatePilot(page));
  await correctLastMonth(page);
  await skipMonth(page, await registerSkipPilot());
  await leadershipReport(page);
  await quarterlyAudit(page);
  await playgroundLog(page);
} catch (error) {
  exitCode = 1;
  result.failure = { step: currentStep, message: String(error && error.message ? error.message : error) };
  console.error(`FAILED at step "${currentStep}": ${result.failure.message}`);
  if (page) {
    const path = join(SCREENSHOT_DIR, 'failure.png');
    await page.screenshot({ path, fullPage: true }).then(() => result.screenshots.push(path), () => {});
  }
} finally {
  await browser.close().catch(() => {});
  result.blockedRequests = [...new Set(result.blockedRequests)].sort();
  writeFileSync(RESULT_FILE, JSON.stringify(result, null, 2));
}
process.exit(exitCode);

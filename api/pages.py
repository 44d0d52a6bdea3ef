"""The public pages the Teams app manifest links to: about, privacy and terms. Static text, no user input."""

from __future__ import annotations

from aiohttp import web

_STYLE = "body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;line-height:1.5;padding:0 1em}"

_PAGES = {
    "/": (
        "PilotGate",
        "<p>PilotGate is a Microsoft Teams bot that takes AI pilots from demo to decision: every pilot gets an "
        "executive sponsor, a success metric with a baseline and a target, monthly check-ins in Teams and a "
        "90-day go/no-go gate with a recorded decision.</p>"
        '<p>See <a href="/privacy">privacy</a> and <a href="/terms">terms of use</a>.</p>',
    ),
    "/privacy": (
        "PilotGate privacy statement",
        "<p>PilotGate is run by your organization on its own infrastructure. It stores, in your organization's "
        "database: the pilots you register (names, metrics, budgets, plans, checklists); the monthly readings and "
        "gate decisions people submit, with who submitted them and when; and what it needs to reach people in "
        "Teams (Teams and Microsoft Entra ids, display names, conversation ids and service addresses).</p>"
        "<p>It does not store chat messages beyond the commands addressed to it, does not read other "
        "conversations, and sends nothing to third parties. Its logs carry error ids and technical details, not "
        "message text or personal data. Ask your PilotGate administrators to correct or remove data about "
        "you.</p>",
    ),
    "/terms": (
        "PilotGate terms of use",
        "<p>PilotGate is an internal tool of your organization for governing AI pilots. Use it for that purpose, "
        "submit readings and decisions truthfully, and follow your organization's policies for the data you "
        "enter. It is provided as is, without warranty.</p>",
    ),
}


async def _page(request: web.Request) -> web.Response:
    title, body = _PAGES[request.path]
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{title}</h1>{body}</body></html>"
    )
    return web.Response(text=html, content_type="text/html")


def page_routes() -> list[web.RouteDef]:
    return [web.get(path, _page) for path in _PAGES]

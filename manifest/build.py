"""The Teams app manifest (schema v1.30) as a pure function of the app id, the public host name and a version.

The bot's command menus come from ``bots.commands.COMMANDS`` and the message extension's search commands from
``bots.commands.SEARCH_COMMANDS``, so the manifest cannot drift from what the bot answers.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bots.commands import COMMANDS, SEARCH_COMMANDS, ChatCommand, SearchCommand

MANIFEST_VERSION = "1.30"
SCHEMA_URL = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
BOT_SCOPES: tuple[str, ...] = ("personal", "team", "groupChat")
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
ACCENT_COLOR = "#1F6F5C"

# Teams' documented limits for bot menus. The JSON schema is looser (v1.30: up to 12 commands a list, titles up to
# 128 characters, descriptions up to 4000), so the builder checks them itself.
MAX_COMMANDS_PER_LIST = 10
MAX_COMMAND_TITLE = 32
MAX_COMMAND_DESCRIPTION = 128
MAX_SEARCH_COMMANDS = 10  # commands of the one compose extension (schema v1.30)

# Teams rejects a version that is not plain MAJOR.MINOR.PATCH, but the schema does not check it.
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")

SHORT_DESCRIPTION = "Take AI pilots from demo to decision: sponsor, metric, check-ins, gate."
FULL_DESCRIPTION = (
    "PilotGate keeps AI pilots accountable and out of pilot purgatory. Every pilot gets an executive sponsor, "
    "a success metric with a baseline and a target, and monthly check-ins in a 1:1 chat where the sponsor reports "
    "metric readings, adoption, spend and blockers. At the 90-day go/no-go gate the sponsor records an explicit "
    "decision: expand, narrow, extend or retire. The pilot's project channel gets gate reminders, overdue "
    "escalations and decision summaries; leadership gets a monthly portfolio report of metric against target, "
    "decisions and spend against budget. Chat commands: help, pilots, status <pilot>, new pilot, overdue, "
    "and link <pilot> in a channel. From the message box of any chat, Find a pilot inserts a pilot's status card, "
    "which shows the latest numbers whenever it is opened."
)

_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


class ManifestError(ValueError):
    """The manifest cannot be built as asked (a Teams limit the schema does not catch)."""


def project_version(pyproject: Path = _PYPROJECT) -> str:
    """The app version: pyproject's ``[project].version``, so a release bumps one number."""
    with pyproject.open("rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    if not isinstance(version, str):
        raise ManifestError(f"{pyproject}: [project].version must be a string")
    return version


def _check_command_text(title: str, description: str) -> None:
    if len(title) > MAX_COMMAND_TITLE:
        raise ManifestError(f"command title {title!r} is longer than {MAX_COMMAND_TITLE} characters")
    if len(description) > MAX_COMMAND_DESCRIPTION:
        raise ManifestError(f"description of command {title!r} is longer than {MAX_COMMAND_DESCRIPTION} characters")


def command_lists(commands: Iterable[ChatCommand] = COMMANDS) -> list[dict[str, Any]]:
    """One command list per bot scope (Teams wants a separate list for each), in COMMANDS order."""
    commands = tuple(commands)
    for command in commands:
        _check_command_text(command.title, command.description)
        unknown = set(command.scopes) - set(BOT_SCOPES)
        if unknown:
            raise ManifestError(f"command {command.title!r} has unknown scope(s) {sorted(unknown)}")
    lists: list[dict[str, Any]] = []
    for scope in BOT_SCOPES:
        in_scope = [{"title": c.title, "description": c.description} for c in commands if scope in c.scopes]
        if len(in_scope) > MAX_COMMANDS_PER_LIST:
            raise ManifestError(f"{len(in_scope)} commands in scope {scope!r}; Teams shows at most 10")
        if in_scope:
            lists.append({"scopes": [scope], "commands": in_scope})
    return lists


def compose_extensions(app_id: str, commands: Iterable[SearchCommand] = SEARCH_COMMANDS) -> list[dict[str, Any]]:
    """The message extension: PilotGate's bot answers its search commands (Teams allows one compose extension)."""
    commands = tuple(commands)
    if not commands:
        return []
    if len(commands) > MAX_SEARCH_COMMANDS:
        raise ManifestError(f"{len(commands)} search commands; Teams allows at most {MAX_SEARCH_COMMANDS}")
    for command in commands:
        _check_command_text(command.title, command.description)
        _check_command_text(command.parameter_title, command.parameter_description)
    return [
        {
            # The same bot as the conversational one: Teams requires it for the Action.Execute and the automatic
            # refresh of the cards the search inserts (Universal Actions in message extensions).
            "botId": app_id,
            "composeExtensionType": "botBased",
            "canUpdateConfiguration": False,
            "commands": [
                {
                    "id": command.id,
                    "type": "query",
                    "title": command.title,
                    "description": command.description,
                    # Teams queries once when the search opens, before anything is typed: the pilots needing
                    # attention are listed at once.
                    "initialRun": True,
                    "fetchTask": False,
                    "context": ["compose", "commandBox"],
                    "parameters": [
                        {
                            "name": command.parameter,
                            "title": command.parameter_title,
                            "description": command.parameter_description,
                            "inputType": "text",
                        }
                    ],
                }
                for command in commands
            ],
        }
    ]


def build_manifest(app_id: str, hostname: str, version: str) -> dict[str, Any]:
    """The manifest.json document. Inputs are trusted to be validated already (config.Settings does that)."""
    if not _SEMVER.match(version):
        raise ManifestError(f"version {version!r} is not MAJOR.MINOR.PATCH")
    site = f"https://{hostname}"
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        # The bot's Entra app id doubles as the Teams app id: one id to manage, and it is stable across releases.
        "id": app_id,
        "developer": {
            "name": "PilotGate",
            "websiteUrl": f"{site}/",
            "privacyUrl": f"{site}/privacy",
            "termsOfUseUrl": f"{site}/terms",
        },
        "name": {"short": "PilotGate", "full": "PilotGate: accountable AI pilots"},
        "description": {"short": SHORT_DESCRIPTION, "full": FULL_DESCRIPTION},
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": ACCENT_COLOR,
        "bots": [
            {
                "botId": app_id,
                "scopes": list(BOT_SCOPES),
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": command_lists(),
            }
        ],
        "composeExtensions": compose_extensions(app_id),
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [hostname],
    }

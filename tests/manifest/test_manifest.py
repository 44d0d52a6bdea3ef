"""The Teams app manifest, its icons and the package zip, checked with the official schema and the package checker."""

from __future__ import annotations

import copy
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from bots.commands import COMMANDS, SEARCH_COMMANDS, ChatCommand, SearchCommand, show_help
from manifest import make_icons
from manifest.build import (
    BOT_SCOPES,
    MAX_COMMAND_DESCRIPTION,
    MAX_COMMAND_TITLE,
    MAX_COMMANDS_PER_LIST,
    ManifestError,
    build_manifest,
    command_lists,
    compose_extensions,
    project_version,
)

ROOT = Path(__file__).resolve().parents[2]
VALIDATORS = ROOT / "tools" / "validators"
MANIFEST_DIR = ROOT / "manifest"
APP_ID = "0b6f2c1e-7a3d-4e59-9c1a-2f8e5d4b3a21"
HOST = "pilotgate.contoso.com"


# --- helpers -------------------------------------------------------------------------------------------------------


def require_validators(directory: Path = VALIDATORS) -> str:
    """The node binary, or a test failure that says how to install the validators (never a skip)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the manifest tests need Node.js; run `make test`")
    if not (directory / "node_modules" / "@microsoft" / "app-manifest").is_dir():
        pytest.fail(f"{directory}/node_modules is missing: run `make test` (it runs `npm ci` in tools/validators)")
    return node


def validate(manifest: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run the official schema validator (validate_manifest.js) on a manifest dict."""
    node = require_validators()
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [node, str(VALIDATORS / "validate_manifest.js"), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode == 3:
        pytest.fail(f"manifest validator not installed: {result.stderr.strip()}; run `make test`")
    return result


def run_package(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m manifest.package` in an empty folder (so no developer .env leaks in) with only ``env`` set."""
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "-m", "manifest.package", "--out", str(tmp_path / "out" / "appPackage.zip")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env=environment,
    )


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    color_type: int
    chunks: tuple[bytes, ...]
    pixels: tuple[tuple[int, ...], ...]  # one tuple of channel values per pixel, row-major


def decode_png(data: bytes) -> Png:
    """A small 8-bit PNG decoder (all five scanline filters), enough to inspect icons without Pillow."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, idat = 8, [], b""
    header = b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append(kind)
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color_type, _compression, _filter, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and interlace == 0, "only 8-bit, non-interlaced PNGs are expected here"
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    stride = width * channels
    raw = zlib.decompress(idat)
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(line)
        previous = line
    pixels = tuple(tuple(row[x * channels : (x + 1) * channels]) for row in rows for x in range(width))
    return Png(width, height, color_type, tuple(chunks), pixels)


@pytest.fixture
def manifest() -> dict[str, Any]:
    return build_manifest(APP_ID, HOST, "1.2.3")


# --- the official schema -------------------------------------------------------------------------------------------


def test_built_manifest_passes_the_official_v1_30_schema(manifest: dict[str, Any], tmp_path: Path) -> None:
    result = validate(manifest, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK (manifestVersion 1.30" in result.stdout


def test_manifest_names_schema_v1_30(manifest: dict[str, Any]) -> None:
    assert manifest["$schema"] == "https://developer.microsoft.com/json-schemas/teams/v1.30/MicrosoftTeams.schema.json"
    assert manifest["manifestVersion"] == "1.30"


def _bad_bot_id(m: dict[str, Any]) -> None:
    m["bots"][0]["botId"] = "not-a-guid"


def _no_privacy_url(m: dict[str, Any]) -> None:
    del m["developer"]["privacyUrl"]


def _channel_scope(m: dict[str, Any]) -> None:
    m["bots"][0]["scopes"] = ["personal", "channel"]


def _two_compose_extensions(m: dict[str, Any]) -> None:
    m["composeExtensions"].append(copy.deepcopy(m["composeExtensions"][0]))


def _untitled_search_box(m: dict[str, Any]) -> None:
    del m["composeExtensions"][0]["commands"][0]["parameters"][0]["title"]


@pytest.mark.parametrize(
    ("break_it", "reported_at"),
    [
        (_bad_bot_id, "/bots/0/botId must match pattern"),
        (_no_privacy_url, "/developer must have required property 'privacyUrl'"),
        (_channel_scope, "/bots/0/scopes/1 must be equal to one of the allowed values"),
        (_two_compose_extensions, "/composeExtensions must NOT have more than 1 items"),
        (_untitled_search_box, "/composeExtensions/0/commands/0/parameters/0 must have required property 'title'"),
    ],
    ids=["bad-guid-botId", "missing-privacyUrl", "channel-scope", "two-compose-extensions", "untitled-search-box"],
)
def test_schema_rejects_a_broken_manifest(
    manifest: dict[str, Any], tmp_path: Path, break_it: Any, reported_at: str
) -> None:
    broken = copy.deepcopy(manifest)
    break_it(broken)
    result = validate(broken, tmp_path)
    # Exit 1 means the schema ran and found errors (2 would be "could not validate at all").
    assert result.returncode == 1, result.stdout + result.stderr
    assert reported_at in result.stderr


def test_missing_validators_fail_the_test_with_make_test_hint(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="run `make test`"):
        require_validators(tmp_path)


# --- content -------------------------------------------------------------------------------------------------------


def test_developer_urls_and_valid_domains_use_the_public_hostname(manifest: dict[str, Any]) -> None:
    developer = manifest["developer"]
    assert developer["name"] == "PilotGate"
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert developer[key].startswith(f"https://{HOST}/"), key
    assert manifest["validDomains"] == [HOST]


def test_bot_is_conversational_in_every_scope_with_app_id(manifest: dict[str, Any]) -> None:
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert manifest["id"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["supportsFiles"] is False
    assert bot["isNotificationOnly"] is False
    assert manifest["permissions"] == ["identity", "messageTeamMembers"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_every_manifest_command_is_a_known_chat_command(manifest: dict[str, Any]) -> None:
    known = {(c.title, c.description): c.scopes for c in COMMANDS}
    for command_list in manifest["bots"][0]["commandLists"]:
        (scope,) = command_list["scopes"]
        for command in command_list["commands"]:
            key = (command["title"], command["description"])
            assert key in known, f"{command['title']!r} is not in bots.commands.COMMANDS"
            assert scope in known[key], f"{command['title']!r} is listed for {scope!r} but not meant for it"


def test_every_chat_command_is_listed_for_each_of_its_scopes(manifest: dict[str, Any]) -> None:
    listed = {
        scope: [c["title"] for c in command_list["commands"]]
        for command_list in manifest["bots"][0]["commandLists"]
        for scope in command_list["scopes"]
    }
    for command in COMMANDS:
        for scope in command.scopes:
            assert command.title in listed.get(scope, []), f"{command.title!r} missing from the {scope!r} list"
    assert "link" not in listed["personal"]
    assert "link" not in listed["groupChat"]


def test_command_lists_respect_teams_limits(manifest: dict[str, Any]) -> None:
    command_lists_ = manifest["bots"][0]["commandLists"]
    assert len(command_lists_) <= len(BOT_SCOPES)
    for command_list in command_lists_:
        assert len(command_list["commands"]) <= MAX_COMMANDS_PER_LIST
        for command in command_list["commands"]:
            assert len(command["title"]) <= MAX_COMMAND_TITLE
            assert len(command["description"]) <= MAX_COMMAND_DESCRIPTION


@pytest.mark.parametrize(
    ("commands", "message"),
    [
        ((ChatCommand("x" * 33, "too long a title", show_help),), "longer than 32"),
        ((ChatCommand("help", "y" * 129, show_help),), "longer than 128"),
        (tuple(ChatCommand(f"c{i}", "d", show_help) for i in range(11)), "at most 10"),
        ((ChatCommand("help", "d", show_help, scopes=("channel",)),), "unknown scope"),
    ],
    ids=["title", "description", "count", "scope"],
)
def test_builder_refuses_what_teams_would_reject(commands: tuple[ChatCommand, ...], message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        command_lists(commands)


def test_the_message_extension_is_the_search_command_table_answered_by_the_bot(manifest: dict[str, Any]) -> None:
    [extension] = manifest["composeExtensions"]
    assert extension["botId"] == manifest["bots"][0]["botId"] == APP_ID  # Universal Actions need the same bot
    assert extension["composeExtensionType"] == "botBased"
    assert len(extension["commands"]) == len(SEARCH_COMMANDS)
    for listed, command in zip(extension["commands"], SEARCH_COMMANDS, strict=True):
        assert listed == {
            "id": command.id,
            "type": "query",
            "title": command.title,
            "description": command.description,
            "initialRun": True,  # the pilots needing attention are listed as soon as the search opens
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
    assert [c.title for c in SEARCH_COMMANDS] == ["Find a pilot"]


def _search(**changes: Any) -> SearchCommand:
    return replace(SEARCH_COMMANDS[0], **changes)


@pytest.mark.parametrize(
    ("commands", "message"),
    [
        ((_search(title="x" * 33),), "longer than 32"),
        ((_search(description="y" * 129),), "longer than 128"),
        ((_search(parameter_title="p" * 33),), "longer than 32"),
        ((_search(parameter_description="d" * 129),), "longer than 128"),
        (tuple(_search(id=f"s{i}") for i in range(11)), "at most 10"),
    ],
    ids=["title", "description", "parameter-title", "parameter-description", "count"],
)
def test_builder_refuses_search_commands_teams_would_reject(commands: tuple[SearchCommand, ...], message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        compose_extensions(APP_ID, commands)


def test_without_search_commands_there_is_no_compose_extension() -> None:
    assert compose_extensions(APP_ID, ()) == []


def test_version_comes_from_pyproject_and_must_be_semver() -> None:
    version = project_version()
    assert build_manifest(APP_ID, HOST, version)["version"] == version
    with pytest.raises(ManifestError, match=r"MAJOR\.MINOR\.PATCH"):
        build_manifest(APP_ID, HOST, "1.0")


def test_name_and_descriptions_fit_the_schema_limits(manifest: dict[str, Any]) -> None:
    assert manifest["name"]["short"] == "PilotGate"
    assert len(manifest["description"]["short"]) <= 80
    assert 0 < len(manifest["description"]["full"]) <= 4000
    assert "90-day" in manifest["description"]["full"]


# --- icons ---------------------------------------------------------------------------------------------------------


def test_color_icon_is_192_square_opaque_and_coloured() -> None:
    png = decode_png((MANIFEST_DIR / "color.png").read_bytes())
    assert (png.width, png.height) == (192, 192)
    assert png.color_type in (2, 6)
    if png.color_type == 6:
        assert all(p[3] == 255 for p in png.pixels), "the colour icon should have no transparency"
    colours = {p[:3] for p in png.pixels}
    assert any(len(set(c)) > 1 for c in colours), "expected a full-colour (not greyscale) icon"


def test_outline_icon_is_32_square_white_on_transparent() -> None:
    png = decode_png((MANIFEST_DIR / "outline.png").read_bytes())
    assert (png.width, png.height) == (32, 32)
    assert png.color_type == 6, "outline must be RGBA"
    assert all(p[:3] == (255, 255, 255) for p in png.pixels), "outline pixels must all be white"
    alphas = [p[3] for p in png.pixels]
    assert alphas.count(0) > 100, "outline needs a transparent background"
    assert alphas.count(255) > 100, "outline needs a visible shape"


def test_committed_icons_match_the_generator() -> None:
    for committed, generated in (("color.png", make_icons.color_icon()), ("outline.png", make_icons.outline_icon())):
        on_disk = decode_png((MANIFEST_DIR / committed).read_bytes())
        assert on_disk.pixels == decode_png(generated).pixels, f"run `python -m manifest.make_icons` ({committed})"


# --- the package ---------------------------------------------------------------------------------------------------


def test_package_zip_has_manifest_at_root_and_passes_check_package(tmp_path: Path) -> None:
    # Only the app id and host name: packaging must not need the bot's password.
    result = run_package(tmp_path, MicrosoftAppId=APP_ID, PUBLIC_HOSTNAME=HOST)
    assert result.returncode == 0, result.stderr
    zip_path = Path(result.stdout.strip())
    assert zip_path == tmp_path / "out" / "appPackage.zip"
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        packaged = json.loads(archive.read("manifest.json"))
    assert packaged["bots"][0]["botId"] == APP_ID
    assert packaged["composeExtensions"][0]["botId"] == APP_ID
    assert packaged["version"] == project_version()
    check = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, str(VALIDATORS / "check_package.py"), str(zip_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    schema = validate(packaged, tmp_path)
    assert schema.returncode == 0, schema.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PUBLIC_HOSTNAME": HOST}, "MicrosoftAppId: required"),
        ({"MicrosoftAppId": "not-a-guid", "PUBLIC_HOSTNAME": HOST}, "MicrosoftAppId: expected a GUID"),
        ({"MicrosoftAppId": APP_ID}, "PUBLIC_HOSTNAME: required"),
        ({"MicrosoftAppId": APP_ID, "PUBLIC_HOSTNAME": "https://pilotgate.contoso.com/x"}, "PUBLIC_HOSTNAME: expected"),
    ],
    ids=["no-app-id", "bad-guid", "no-hostname", "malformed-hostname"],
)
def test_package_refuses_with_one_clear_line(tmp_path: Path, env: dict[str, str], named: str) -> None:
    result = run_package(tmp_path, **env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert not (tmp_path / "out").exists()

"""Write a benchmark's results into README.md's "Benchmarks" section (created at the end if missing)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
HEADING = "## Benchmarks"


def section(intro: str, results: dict[str, str]) -> str:
    body = [HEADING, "", intro.strip(), ""]
    for name, text in results.items():
        body += [f"### {name}", "", text.strip(), ""]
    return "\n".join(body)


def merged(intro: str, results: dict[str, str], readme: Path = README) -> str:
    """The section with ``results`` in place of the subsections of the same benchmarks; the others are kept.

    A subsection belongs to the benchmark named at the end of its heading, e.g. ``... (`bot_latency`)``, so a run
    of one benchmark leaves the others' numbers alone (and a renamed heading replaces its old version).
    """
    kept = {h: b for h, b in subsections(readme).items() if _benchmark(h) not in {_benchmark(n) for n in results}}
    return section(intro, {**kept, **results})


def subsections(readme: Path = README) -> dict[str, str]:
    """The ``### `` subsections of the current Benchmarks section, heading -> text, in order."""
    found = _SECTION.search(readme.read_text(encoding="utf-8")) if readme.exists() else None
    if found is None:
        return {}
    parts = re.split(r"^### (.+)\n", found.group(0), flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def _benchmark(heading: str) -> str:
    named = re.search(r"\(`(\w+)`\)\s*$", heading)
    return named.group(1) if named else heading


_SECTION = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)


def write_section(text: str, readme: Path = README) -> None:
    """Replace the section from its heading up to the next ``## `` heading (or the end) with ``text``."""
    current = readme.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    block = text.rstrip() + "\n"
    if pattern.search(current):
        following = pattern.split(current, maxsplit=1)[1]
        updated = pattern.sub(lambda _: block + ("\n" if following else ""), current, count=1)
    else:
        updated = current.rstrip() + "\n\n" + block
    readme.write_text(updated, encoding="utf-8")

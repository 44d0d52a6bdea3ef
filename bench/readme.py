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

"""Stored bodies are parsed by orjson (storage.documents.parse_json); what orjson refuses but the standard library
wrote before (NaN, Infinity, integers beyond 64 bits) still reads as the standard library reads it."""

from __future__ import annotations

import json
import math

from storage.documents import parse_json


def test_parse_json_reads_what_the_standard_library_writes() -> None:
    doc = {"name": "Agent «café» 🚀", "n": 3, "x": 0.1, "nested": [{"a": None, "b": True}], "big": 2**70}
    assert parse_json(json.dumps(doc, separators=(",", ":"), ensure_ascii=False)) == doc
    assert parse_json(json.dumps(doc)) == doc  # ASCII-escaped, as an older version may have written it
    odd = parse_json(json.dumps({"nan": math.nan, "inf": math.inf}))
    assert math.isnan(odd["nan"]) and odd["inf"] == math.inf

"""Reading untrusted JSON with bounds, before any parser or model can throw on it.

Python's json module recurses once per nesting level (100,000 nested arrays end in RecursionError) and int() refuses
digit strings longer than 4,300 (ValueError): both used to escape as HTTP 500. Here every number is at most
``MAX_NUMBER_CHARS`` characters, NaN and Infinity are refused (so is a number like 1e999 that only a float's
infinity can hold), and nesting is at most ``MAX_DEPTH`` levels.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

MAX_DEPTH: Final = 32
MAX_NUMBER_CHARS: Final = 40


class UnreadableJson(ValueError):
    """The body is not JSON this service reads; ``message`` says why in a sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _number(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        if len(text) > MAX_NUMBER_CHARS:
            raise UnreadableJson(f"A number in the body is longer than {MAX_NUMBER_CHARS} characters.")
        number = kind(text)
        if not math.isfinite(number):  # 1e999 is short and valid JSON, but float() makes it infinity
            raise UnreadableJson("A number in the body is too large.")
        return number

    return parse


def _constant(name: str) -> Any:
    raise UnreadableJson(f"{name} is not a number JSON allows.")


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed body, or UnreadableJson naming what is wrong (never RecursionError or a bare ValueError)."""
    try:
        value = json.loads(raw, parse_int=_number(int), parse_float=_number(float), parse_constant=_constant)
    except UnreadableJson:
        raise
    except RecursionError:
        raise UnreadableJson(f"The body is nested more than {max_depth} levels deep.") from None
    except (ValueError, UnicodeDecodeError):  # JSONDecodeError is a ValueError
        raise UnreadableJson("The body is not valid JSON.") from None
    if _depth(value) > max_depth:
        raise UnreadableJson(f"The body is nested more than {max_depth} levels deep.")
    return value


def _depth(value: Any) -> int:
    """Nesting depth without recursion (a stack of (value, level))."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
    return deepest

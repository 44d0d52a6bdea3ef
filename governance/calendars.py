"""Public-holiday calendars: which days of a country are public holidays, from the ``holidays`` package.

A pilot's business days skip weekends and the public holidays of its country (``Pilot.country``, else the tenant's
``TenantSettings.default_country``; none means weekends only). ``holidays`` is a plain library with no framework in
it; everything else reads calendars through ``public_holidays`` and ``is_valid_country``. Calendars are computed
once per (country, year) and kept: a country's holidays for a year do not change while the process runs.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

import holidays

from governance.model import Pilot

if TYPE_CHECKING:  # ports imports the views, which use these calendars
    from governance.ports import TenantSettingsRepository

# A pilot's dates lie within governance.rules' EARLIEST_DATE..LATEST_DATE; the package computes any year, but no
# calendar is built for a year nobody can schedule in (a bad "now" must not fill the cache).
FIRST_YEAR = 1990
LAST_YEAR = 2110


def normalize_country(code: str | None) -> str | None:
    """``"de "`` -> ``"DE"``; empty or None -> None. Does not check the code (``is_valid_country`` does)."""
    if code is None:
        return None
    cleaned = code.strip().upper()
    return cleaned or None


@cache
def supported_countries() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes the ``holidays`` package has a calendar for."""
    return frozenset(code for code in holidays.list_supported_countries() if len(code) == 2)


def is_valid_country(code: str) -> bool:
    """An upper-case ISO 3166-1 alpha-2 code with a public-holiday calendar."""
    return len(code) == 2 and code.isascii() and code.isalpha() and code.isupper() and code in supported_countries()


@cache
def public_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays of ``country`` in ``year`` (national ones: no subdivision is known for a pilot)."""
    if not FIRST_YEAR <= year <= LAST_YEAR or not is_valid_country(country):
        return frozenset()
    return frozenset(holidays.country_holidays(country, years=year).keys())


def is_public_holiday(day: date, country: str | None) -> bool:
    return country is not None and day in public_holidays(country, day.year)


def with_tenant_country(pilot: Pilot, default_country: str | None) -> Pilot:
    """``pilot`` with its tenant's default calendar filled in (used when the pilot names no country)."""
    if pilot.tenant_country == default_country:
        return pilot
    return dataclasses.replace(pilot, tenant_country=default_country)


async def read_tenant_country(pilot: Pilot, tenants: TenantSettingsRepository | None) -> Pilot:
    """``pilot`` with its tenant's default calendar, read only when the pilot names no country of its own."""
    if pilot.country is not None or tenants is None:
        return pilot
    return with_tenant_country(pilot, (await tenants.get(pilot.tenant_id)).default_country)

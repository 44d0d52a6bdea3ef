"""Renderings of domain views into files people download: spreadsheets (tables.py), the monthly report (monthly.py,
html.py) and the signed links that open it (links.py). Pure functions: no web framework, no storage."""

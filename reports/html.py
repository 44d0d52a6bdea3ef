"""The monthly report as an HTML page: ``render_report_html(report) -> str``.

A placeholder: a plain table rendered by Jinja2 with autoescape on, so that every user-supplied text (pilot names,
sponsors, rationales) is escaped. The report-delivery lane replaces it with the printable page (inline SVG charts,
A4 print styles); the REST route (``format=html``) and the signed link (``GET /reports/{token}``) only call this
function.
"""

from __future__ import annotations

from typing import Final

from jinja2 import Environment, StrictUndefined

from governance.report import MonthlyReport
from reports.monthly import FLAG_LABELS, ROADMAP_LABELS, report_title

_TEMPLATE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}</style></head>
<body><h1>{{ title }}</h1>
<p>{{ totals.on_track }} of {{ totals.tracked }} pilots on track; {{ totals.checkins_answered }} of
{{ totals.checkins_due }} check-ins answered; {{ totals.decisions_taken }} decisions.</p>
<table><thead><tr><th>Pilot</th><th>Sponsor</th><th>Stage</th><th>Status</th><th>Metric</th>
<th>Baseline</th><th>Latest</th><th>Target</th><th>Progress</th><th>Gate</th><th>Flags</th></tr></thead><tbody>
{% for row in report.pilots %}<tr><td>{{ row.name }}</td><td>{{ row.sponsor.name }}</td><td>{{ row.stage.value }}</td>
<td>{{ row.status.value if row.status else "" }}</td><td>{{ row.metric.name }}</td><td>{{ row.metric.baseline }}</td>
<td>{{ row.metric.latest if row.metric.latest is not none else "" }}</td><td>{{ row.metric.target }}</td>
<td>{{ "%.0f%%" % (row.metric.progress * 100) if row.metric.progress is not none else "" }}</td>
<td>{{ row.gate_date.isoformat() }}</td><td>{{ flags(row) }}</td></tr>
{% endfor %}</tbody></table>
<h2>Decisions</h2><ul>{% for d in report.decisions %}<li>{{ d.decided_at.date().isoformat() }}
{{ d.pilot_name }}: {{ d.kind.value }}. {{ d.rationale }}</li>{% else %}<li>None this month.</li>{% endfor %}</ul>
<h2>Roadmap</h2><ul>{% for i in report.roadmap %}<li>{{ i.on.isoformat() }} {{ i.pilot_name }}:
{{ roadmap_label(i) }}</li>{% else %}<li>Nothing in the next 90 days.</li>{% endfor %}</ul>
</body></html>
"""

_ENVIRONMENT: Final = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
_PAGE: Final = _ENVIRONMENT.from_string(_TEMPLATE)


def render_report_html(report: MonthlyReport) -> str:
    return _PAGE.render(
        report=report,
        totals=report.totals,
        title=report_title(report),
        flags=lambda row: ", ".join(FLAG_LABELS[flag] for flag in row.flags),
        roadmap_label=lambda item: ROADMAP_LABELS[item.kind],
    )

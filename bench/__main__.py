"""`python -m bench` runs every benchmark; `python -m bench bot_latency` (or `checkin_sender`, `portfolio_reads`,
`monthly_report`) runs one.

Options: `--quick` (small data and few turns, a smoke run; never writes README.md), `--no-readme` (print
only), `--sqlite-only`, `--no-analysis` (latency only: no attribution, botbuilder overhead or what-if runs),
`--strict` (exit 1 when a goal is missed). `make bench` starts the Cosmos DB test server and sets
COSMOS_TEST_ENDPOINT; without it the Cosmos runs are skipped with a note.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys

from bench import bot_latency, checkin_sender, monthly_report, portfolio_reads
from bench.readme import merged, write_section

BENCHMARKS = ("bot_latency", "checkin_sender", "portfolio_reads", "monthly_report")

INTRO = """\
Not timed tests: numbers from `make bench` (starts the Cosmos DB test server, then runs `python -m bench`; one
benchmark: `python -m bench bot_latency`, `checkin_sender`, `portfolio_reads` or `monthly_report`; a smoke run:
`python -m bench --quick --no-readme`). A run rewrites the subsections of the benchmarks it ran and keeps the
others."""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("benchmarks", nargs="*", metavar="benchmark", help=f"default: all ({', '.join(BENCHMARKS)})")
    parser.add_argument("--quick", action="store_true", help="small data, few turns; never writes README.md")
    parser.add_argument("--no-readme", action="store_true", help="do not write README.md")
    parser.add_argument("--sqlite-only", action="store_true", help="skip the Cosmos DB runs")
    parser.add_argument("--no-analysis", action="store_true", help="latency only")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    unknown = [b for b in args.benchmarks if b not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; known: {', '.join(BENCHMARKS)}")
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.WARNING)
    # The bot logs nothing useful per turn at INFO; keep the console for results.
    logging.getLogger("pilotgate").setLevel(logging.WARNING)
    logging.getLogger("msrest").setLevel(logging.WARNING)
    selected = args.benchmarks or list(BENCHMARKS)
    results: dict[str, str] = {}
    missed = False
    if "bot_latency" in selected:
        options = bot_latency.Options.quick() if args.quick else bot_latency.Options()
        if args.sqlite_only:
            options = dataclasses.replace(options, stores=("sqlite",))
        if args.no_analysis:
            options = dataclasses.replace(options, analyse=False)
        report = bot_latency.main(options)
        text = bot_latency.render(report)
        print("\n" + text + "\n", flush=True)
        results["Bot round trip: `status <pilot>` and a card submit (`bot_latency`)"] = text
        missed = missed or bool(report.goal_misses())
    if "checkin_sender" in selected:
        sender = checkin_sender.main(checkin_sender.Options.quick() if args.quick else checkin_sender.Options())
        text = checkin_sender.render(sender)
        print("\n" + text + "\n", flush=True)
        results[checkin_sender.HEADING] = text
        missed = missed or bool(sender.goal_misses())
    if "portfolio_reads" in selected:
        options_p = portfolio_reads.Options.quick() if args.quick else portfolio_reads.Options()
        if args.sqlite_only:
            options_p = dataclasses.replace(options_p, stores=("sqlite",))
        portfolio = portfolio_reads.main(options_p)
        text = portfolio_reads.render(portfolio)
        print("\n" + text + "\n", flush=True)
        results[portfolio_reads.HEADING] = text
        missed = missed or bool(portfolio.goal_misses())
    if "monthly_report" in selected:
        outcome = monthly_report.main(monthly_report.Options.quick() if args.quick else monthly_report.Options())
        text = monthly_report.render(outcome)
        print("\n" + text + "\n", flush=True)
        results[monthly_report.HEADING] = text
        missed = missed or bool(outcome.goal_misses())
    if not args.no_readme and not args.quick:
        write_section(merged(INTRO, results))
        print("README.md: Benchmarks section updated", flush=True)
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

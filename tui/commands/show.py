"""``nodefix show``: one row's source, status and debug steps."""

from __future__ import annotations

import argparse

from tui.commands._target import add_id_argument, add_target_arguments
from workspace.vocabulary import flag_word

HELP = "show one row: source fields, status, debug steps and runs"
ORDER = 31


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_id_argument(parser)
    parser.add_argument("--step", type=int, metavar="K", help="only debug step K")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from tracer_adapter.crash_site import step_crash_site
    from tui.commands._target import open_target

    with open_target(args) as ws:
        source = ws.source(args.row_id)
        status, reason, note = ws.status(args.row_id)
        steps = [ws.step(args.row_id, args.step)] if args.step is not None else ws.steps(args.row_id)
        claimed_by = ws.claimed_by(args.row_id)
        runs = ws.runs(args.row_id, args.step)
        crash_sites = {step.index: step_crash_site(ws, step) for step in steps}
    if args.json:
        print(
            json.dumps(
                {
                    "source": asdict(source),
                    "status": status,
                    "reject_reason": reason,
                    "note": note,
                    "claimed_by": claimed_by,
                    "steps": [asdict(s) for s in steps],
                    "runs": [run.to_json() for run in runs],
                    "crash_sites": {k: asdict(c) for k, c in crash_sites.items() if c is not None},
                },
                indent=1,
            )
        )
        return 0
    print(f"id: {source.id}  (row {source.index})")
    print(f"competition: {source.competition_id}")
    print(f"status: {status}" + (f" ({reason})" if reason else "") + (f" - {note}" if note else ""))
    if claimed_by:
        print(f"claimed by: {claimed_by}")
    print(f"exec_time: {source.exec_time}")
    _section("plan", source.plan)
    _section("analysis", source.analysis)
    for step in steps:
        print(f"\n===== debug step {step.index} =====")
        print(
            f"bug_confirmed: {flag_word(step.bug_confirmed)}  fixable: {flag_word(step.fixable)}  "
            f"bug_fixed: {flag_word(step.bug_fixed)}"
        )
        verdict = step.verification.verdict if step.verification else None
        print(f"verification: {verdict.kind} ({verdict.detail})" if verdict else "verification: -")
        print(f"annotator: {step.annotator or '-'}  time spent: {step.time_spent:.0f}s")
        site = crash_sites[step.index]
        if site is not None:
            print("\n".join(site.lines()))
        for name in ("code", "observed_output", "revised_analysis", "revised_plan", "cwm_analysis", "fixed_code"):
            _section(name, getattr(step, name))
    if runs:
        print("\n===== runs =====")
    for run in runs:
        grade = " graded" if run.grade is not None else ""
        starved = f" ({run.verdict.starved})" if run.verdict.starved else ""
        print(f"#{run.id} step {run.step} {run.purpose}: {run.kind} - {run.verdict.detail}{starved}{grade}")
    return 0


def _section(title: str, text: str) -> None:
    print(f"--- {title} ---")
    print(text.rstrip("\n") if text.strip() else "(empty)")

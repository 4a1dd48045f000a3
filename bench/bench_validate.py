#!/usr/bin/env python3
"""``validate`` on the 10,000-row synthetic dataset, every row fixed, verified and done.

    python bench/bench_validate.py [--rows 10000]

Builds the file with ``shared/bench/make_large_dataset.py``, annotates every
row (a replication run record, a trace of its code that the analysis quotes, a
fix, the texts, a verifying run record of that fix, done), exports it,
then measures side by side in one process: parsing every fix the old way
(``ast.parse``, one after another; this was almost all of validate's 7.8 s),
the new way (``compile``, each distinct fix once, over worker processes), and
the whole ``validate`` (every rule, against the source and the workspace).
The machine may be shared: compare the figures with each other, not with a target alone.
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MAKE_DATASET = Path(__file__).resolve().parents[2] / "shared" / "bench" / "make_large_dataset.py"
TARGET = 3.0  # seconds for the whole validate, on an idle machine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--make-dataset", type=Path, default=MAKE_DATASET)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nodefix-bench-validate-") as tmp:
        path = Path(tmp) / "large.parquet"
        subprocess.run(
            [sys.executable, str(args.make_dataset), str(path), "--rows", str(args.rows)],
            check=True,
            capture_output=True,
        )
        out = _annotated_export(path)
        return _measure(path, out)


def _annotated_export(path: Path) -> Path:
    from tracer_adapter.verbatim import check_analysis
    from workspace.export import export_deliverable
    from workspace.run_rules import code_sha256
    from workspace.store import open_workspace

    started = time.perf_counter()
    with open_workspace(path) as ws:
        trace = ws.path / "traces" / "bench.trace"  # one small trace, stored as a trace of each row's code
        trace.parent.mkdir(parents=True, exist_ok=True)
        quoted = (
            '<|frame_sep|><|line_sep|>{"train": "<DataFrame>"}<|action_sep|>train = pd.read_csv("./input/train.csv")'
        )
        trace.write_text(
            f"<|frame_sep|><|call_sep|>{{}}<|action_sep|>import pandas as pd\n{quoted}\n", encoding="utf-8"
        )
        for row_id in ws.dataset.ids:
            source = ws.source(row_id)
            fix = source.code.replace("./input/", "./data/")
            failed = {"kind": "error", "detail": "FileNotFoundError", "error": None, "match": "same"}
            ws.add_run(row_id, 0, "replicate", {"verdict": failed, "code_sha256": code_sha256(source.code)})
            ws.add_trace(
                row_id,
                0,
                code_sha256=code_sha256(source.code),
                trace_path=trace,
                meta_path=trace.with_suffix(".json"),
                index_path=Path(f"{trace}.idx"),
                meta={},
            )
            ws.update_step(
                row_id,
                0,
                fixable=True,
                revised_analysis=f"The script fails because {source.analysis[:200]}",
                revised_plan=source.plan[:300],
                cwm_analysis=f"The trace shows the failing read:\n{quoted}",
                fixed_code=fix,
            )
            verdict = {"kind": "clean", "detail": "exited 0", "error": None, "match": "different"}
            record = {"verdict": verdict, "output_tail": "", "run_dir": "/nonexistent", "code_sha256": code_sha256(fix)}
            ws.add_run(row_id, 0, "fix", record)
            ws.set_status(row_id, "done", check_quotes=check_analysis)
        out = path.with_name("deliverable.parquet")
        export_deliverable(ws, out)
    print(f"  annotated, verified and exported {len(ws.dataset)} done rows in {time.perf_counter() - started:.1f} s")
    return out


def _measure(path: Path, out: Path) -> int:
    import pyarrow.parquet as pq

    from tracer_adapter.verbatim import check_analysis
    from workspace.syntax import syntax_problems
    from workspace.validate import validate_deliverable

    fixes = pq.read_table(out, columns=["fixed_code"])["fixed_code"].to_pylist()
    print(f"== {len(fixes)} rows (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = _timed(lambda: [ast.parse(code) for code in fixes])
    serial = _timed(lambda: [compile(code, "<fix>", "exec", dont_inherit=True) for code in fixes])
    parallel = _timed(lambda: syntax_problems(fixes))
    violations: list = []
    whole = _timed(lambda: violations.extend(validate_deliverable(out, path, check_quotes=check_analysis)))
    print(f"  parse every fix, ast.parse one by one (before)   {before:6.2f} s")
    print(f"  parse every fix, compile one by one              {serial:6.2f} s  ({before / serial:.1f}x faster)")
    print(f"  parse every distinct fix, compile in parallel    {parallel:6.2f} s  ({before / parallel:.1f}x faster)")
    verdict = "OK" if whole < TARGET else "MISSED (see the load average)"
    print(f"  whole validate (every rule, source + workspace)  {whole:6.2f} s  target < {TARGET:.0f} s: {verdict}")
    print(f"  ({len(violations)} violations)")
    return 0 if not violations else 1


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())

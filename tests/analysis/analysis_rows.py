"""The demo rows the trace-to-analysis tests draw on."""

from __future__ import annotations

from demo.catalogue import ROWS

# rows whose traced run raises from a line that runs (a SyntaxError never runs a line)
CRASHING = [row for row in ROWS if row.rerun_verdict == "error" and row.rerun_exception != "SyntaxError"]
TWO_STEPS = next(row for row in ROWS if row.name == "leaf-two-bugs")

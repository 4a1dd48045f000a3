"""Sandboxed runs of untrusted scripts: backends, watchdog timers, verdicts, batches, grading."""

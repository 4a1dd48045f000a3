"""The fixed words of an annotation, in a module light enough for argument parsers to import."""

from __future__ import annotations

STATUSES = ("untouched", "in_progress", "rejected", "done", "blocked")
REJECT_REASONS = ("incomplete", "no_code", "not_buggy", "time_limit", "other")
RUN_PURPOSES = ("original", "fix", "replicate")
TEXT_FIELDS = ("code", "observed_output", "revised_analysis", "revised_plan", "cwm_analysis", "fixed_code")
FLAG_FIELDS = ("bug_confirmed", "fixable", "bug_fixed")  # decisions: logged for undo


def flag_word(value: bool | int | None) -> str:
    """A yes/no/undecided flag as people read it."""
    return "undecided" if value is None else ("yes" if value else "no")

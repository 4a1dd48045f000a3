"""The fixed words of an annotation, in a module light enough for argument parsers to import."""

from __future__ import annotations

STATUSES = ("untouched", "in_progress", "rejected", "done", "blocked")
REJECT_REASONS = ("incomplete", "no_code", "not_buggy", "time_limit", "other")
RUN_PURPOSES = ("original", "fix", "replicate")
TEXT_FIELDS = ("revised_analysis", "revised_plan", "cwm_analysis", "fixed_code")  # what an annotator writes
STEP_SOURCE_FIELDS = ("code", "observed_output")  # a step's bug: the dataset's, or its previous step's fix and run
SOURCE_FIELDS_NOT_EDITED = (
    "a step's code and observed_output are not edited (step 0's are the dataset's, a later step's are the "
    "previous step's fix and what its run printed): write the change in fixed_code"
)
FLAG_FIELDS = ("bug_confirmed", "fixable", "bug_fixed")  # decisions: logged for undo


def flag_word(value: bool | int | None) -> str:
    """A yes/no/undecided flag as people read it."""
    return "undecided" if value is None else ("yes" if value else "no")

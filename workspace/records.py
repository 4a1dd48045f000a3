"""Runs and traces as the store gives them back: typed records, each parsed from its stored JSON in one place.

A run is stored as the JSON of ``runner.spec.RunResult.to_record`` plus the
store's own columns (id, step, purpose, when, dropped) and its latest grade;
a trace as its files and the metadata written beside it. Records stored by
older versions lack some fields; those take their defaults here.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from functools import cache
from pathlib import Path
from typing import Any


@dataclass
class ErrorInfo:
    """An exception read from a traceback, in AIDE's plain shape or IPython's cell shape."""

    exc_type: str  # "KeyError"
    message: str  # "'target'"
    lineno: int | None = None  # line of the script where it failed (innermost frame of the script)
    line_text: str | None = None  # that line's source, stripped
    function: str | None = None  # innermost function of the script in the traceback ("<module>" at top level)
    frames: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, function), outermost first
    cause: str | None = None  # "ValueError: ..." of a traceback quoted in the message (the error inside)

    @classmethod
    def from_json(cls, data: dict) -> ErrorInfo:
        known = _known_fields(cls, data, "frames")
        known["frames"] = [tuple(frame) for frame in data.get("frames") or []]
        return cls(**known)


@dataclass
class Verdict:
    """How a run ended, in the terms the annotation task uses."""

    kind: str  # error | clean | no_submission | time_limit | killed | environment | cancelled
    detail: str  # one line for people: "KeyError: 'target' at line 12"
    error: ErrorInfo | None = None
    match: str | None = None  # same | different | time_limit | no_recorded: against the row's recorded _term_out
    starved: str | None = None  # "starved: cpu X s of wall Y s" for a time_limit that got little CPU

    @classmethod
    def from_json(cls, data: dict | None) -> Verdict:
        data = data or {}
        error = data.get("error")
        return cls(
            kind=data.get("kind") or "unknown",
            detail=data.get("detail") or "",
            error=ErrorInfo.from_json(error) if isinstance(error, dict) else None,
            match=data.get("match"),
            starved=data.get("starved"),
        )


@dataclass(frozen=True)
class RunRecord:
    """One stored run of a step's code or of its fix."""

    id: int
    step: int
    purpose: str  # original | replicate | fix
    verdict: Verdict
    code_sha256: str | None = None  # of the code the run started, hashed on the host before the run
    created_at: float = 0.0
    dropped: bool = False  # its step was dropped (A): kept in the row's history only
    grade: dict | None = None  # the latest grade of this run's code, if any
    duration: float = 0.0
    started_at: float = 0.0
    exit_code: int | None = None
    signal: int | None = None
    timed_out: bool = False
    cancelled: bool = False
    submission_written: bool = False
    output_tail: str = ""
    output_as_recorded: str = ""
    run_dir: str = ""
    log_path: str = ""
    spec_backend: str = ""
    command: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    resources: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.verdict.kind

    @property
    def match(self) -> str | None:
        return self.verdict.match

    @property
    def output(self) -> str:
        """The output the run printed, in the recorded form when the runner made one."""
        return self.output_as_recorded or self.output_tail

    @classmethod
    def from_json(cls, data: dict, **columns: Any) -> RunRecord:
        """A record from its stored JSON; ``columns`` (the store's id, step, purpose, ...) win over the JSON's."""
        merged = {**data, **columns}
        known = _known_fields(cls, merged, "verdict")
        known["verdict"] = Verdict.from_json(merged.get("verdict"))
        return cls(**known)

    def to_json(self) -> dict:
        return asdict(self)


def verification_from_json(text: str, k: int) -> RunRecord:
    """A step's verifying run from its JSON; step k's "fix" run when the JSON (stored before records carried
    them) does not say. ValueError (naming the field) if it is not a run record: not a JSON object, a field
    without a default missing, or a field whose value does not have its annotated type."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError("a run record is a JSON object")
    data = {"step": k, "purpose": "fix", **data}
    _check_fields(RunRecord, data, "")
    return RunRecord.from_json(data)


def _check_fields(cls: type, data: dict, where: str) -> None:
    """ValueError if ``data`` lacks a field of ``cls`` that has no default, or holds one of another type."""
    for name, required, fits, words in _field_rules(cls):
        if name not in data:
            if required:
                raise ValueError(f"{where + name!r} is missing")
            continue
        value = data[name]
        if not fits(value, where + name):
            raise ValueError(f"{where + name!r} is {_short(value)}, expected {words}")


# (a JSON value, where it is) -> whether it has the type; a nested object of the wrong shape raises ValueError
_Rule = Callable[[Any, str], bool]


@cache
def _field_rules(cls: type) -> tuple[tuple[str, bool, _Rule, str], ...]:
    """(name, required, rule, the type in words) of each field of a record dataclass, made once from its
    annotations, so that a new field is checked as soon as it is declared."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (
            f.name,
            f.default is MISSING and f.default_factory is MISSING,
            _rule(hints[f.name], f"{cls.__name__}.{f.name}"),
            _type_words(hints[f.name]),
        )
        for f in fields(cls)
    )


def _rule(hint: Any, field_name: str) -> _Rule:
    """The check of a JSON value against an annotation (JSON has exact types: an int also stands for a float,
    and a tuple comes as a list)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        nullable = type(None) in args
        arms = [_rule(arm, field_name) for arm in args if arm is not type(None)]
        if nullable and len(arms) == 1:
            only = arms[0]
            return lambda value, where: value is None or only(value, where)
        return lambda value, where: (nullable and value is None) or any(arm(value, where) for arm in arms)
    if hint is bool:
        return lambda value, where: value is True or value is False
    if hint is int:
        return lambda value, where: type(value) is int
    if hint is float:
        return lambda value, where: type(value) is float or type(value) is int
    if hint is str:
        return lambda value, where: type(value) is str
    if hint is dict or origin is dict:
        return lambda value, where: type(value) is dict
    if origin is list:
        item = _rule(args[0], field_name)
        return lambda value, where: type(value) is list and all(item(v, where) for v in value)
    if origin is tuple:
        items = [_rule(arg, field_name) for arg in args]
        return lambda value, where: (
            type(value) is list
            and len(value) == len(items)
            and all(rule(v, where) for rule, v in zip(items, value, strict=True))
        )
    if isinstance(hint, type) and is_dataclass(hint):
        record = hint
        return lambda value, where: type(value) is dict and _object_fits(record, value, where)
    raise TypeError(f"no JSON rule for {field_name}'s annotation {hint!r}")  # a new kind of field: add its rule


def _object_fits(cls: type, data: dict, where: str) -> bool:
    _check_fields(cls, data, f"{where}.")  # raises, naming the field inside, when it does not
    return True


def _type_words(hint: Any) -> str:
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        return " or ".join(_type_words(arm) for arm in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if isinstance(hint, type) and is_dataclass(hint):
        return "an object"
    origin = typing.get_origin(hint)
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string", dict: "an object"}.get(
        origin or hint, "a list"
    )


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class TraceMeta:
    """The metadata stored with a trace (also written as the ``.meta.json`` beside it)."""

    tracer: str  # builtin | client
    entry: str | None = None  # the function traced from; None: the whole script
    frames: int | None = None
    lines: int | None = None
    bytes: int | None = None
    first_exception_line: int | None = None
    cut: bool | None = None  # frames cut or tracing stopped early; None: the client's tool does not say
    incomplete: str | None = None  # why the trace stops before the script did ("killed at the time limit ...")
    run_verdict: Verdict = field(default_factory=lambda: Verdict("unknown", ""))  # how the traced run ended
    run_dir: str = ""
    tracer_meta: dict = field(default_factory=dict)  # the built-in tracer's own counters; {} for the client's

    @classmethod
    def from_json(cls, data: dict) -> TraceMeta:
        run = data.get("run") or {}
        known = _known_fields(cls, data, "run_verdict", "run_dir", "tracer_meta")
        known.setdefault("tracer", "builtin")
        return cls(
            **known,
            run_verdict=Verdict.from_json(run.get("verdict")),
            run_dir=run.get("run_dir") or "",
            tracer_meta=data.get("tracer_meta") or {},
        )


@dataclass(frozen=True)
class TraceRecord:
    """One stored trace of a step's code (or of its fix, told apart by ``code_sha256``)."""

    id: int
    code_sha256: str
    trace_path: Path
    meta_path: Path
    index_path: Path
    meta: TraceMeta
    created_at: float


def _known_fields(cls: type, data: dict, *parsed_apart: str) -> dict:
    """The items of ``data`` that are fields of ``cls``, less those the caller parses itself."""
    names = {f.name for f in fields(cls)} - set(parsed_apart)
    return {key: value for key, value in data.items() if key in names}

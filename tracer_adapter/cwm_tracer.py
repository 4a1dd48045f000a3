"""Run a script as ``__main__`` and write its CWM execution trace, within budgets.

    python cwm_tracer.py SCRIPT --out TRACE --meta META.json [--entry FUNC]
        [--max-frames N] [--max-bytes N] [--max-seconds S] [--max-value-chars N] [-- ARGS...]

One stdlib-only file (Python 3.8+) that is copied into the sandbox and run with
the sandbox's own interpreter. The script runs exactly as ``python SCRIPT ARGS``
would: it is ``sys.modules["__main__"]`` (so its functions pickle), ``__file__``,
``sys.argv`` and ``sys.path[0]`` are a plain run's, an uncaught exception is
printed by ``sys.excepthook`` with a traceback that starts at the script, and
the exit code is the plain run's.

What is traced
--------------
* Entry: the function whose ``def`` line carries ``# << START_OF_TRACE``, or the
  function named by ``--entry`` (``name`` or ``Class.name``); its first call is
  traced until it returns or raises. If the script ends without calling it and
  it is a top-level function that takes no arguments, it is called once then
  (as the client's tracer calls the marked function of its examples); an
  exception from that call is reported as the script's own (traceback, exit
  code 1). With neither marker nor ``--entry``, the module itself is the
  entry: its frame's call event shows ``{}`` and line 1 of the file, and its
  return event ends the trace. A decorated entry's call event shows its first
  decorator line (the line Python reports for the call, as any settrace tracer).
* Only frames whose code comes from SCRIPT are recorded; everything else is
  stepped over. Only the main thread is traced; a forked child stops tracing.
* Frames of a module or class body show their variables without modules,
  functions, classes and ``__dunder__`` names (those are the script's globals).
* A source line without a final newline (the file's last line) is written with
  one, so every frame starts a text line as the format requires.
* Imports run ahead, untraced: at a line that starts with import statements,
  the modules are imported from inside the trace function, where Python runs
  code at full speed, just before the line runs (see ``ImportAhead``). The
  same modules load once, in the same order; a failure, a warning's line and
  the traceback read as in a plain run.

Values and budgets
------------------
* A value is rendered as ``repr`` would, cut at ``--max-value-chars``. Builtin
  containers, strings and bytes are walked lazily and the walk stops at the
  budget, so a list of 10**7 items costs as much as a short one. Other objects'
  own ``__repr__`` is called, then cut. A cut value ends with
  ``...<cut N chars>`` (N chars dropped, when the full text was produced) or
  ``...<cut, TYPE of N items|chars|bytes>`` (when the walk stopped early).
  A ``__repr__`` that raises renders as ``<unrepresentable TYPE: ErrorName>``;
  an int too long for the budget renders as ``<int of N bits>``.
* Caching: immutable atoms (int, str, float, ...) are rendered once per frame
  and binding. Objects with their own ``__repr__`` (DataFrames, models, ...)
  keep their rendering while nothing that could change them ran: any call
  event (Python code anywhere, the script's or a library's) or a traced line
  that ran an instruction able to change an object in place from C (see
  ``ChangingLines``) makes them rendered again, so every value is what
  ``repr`` returns at that event (an object changed by another thread, or by
  another value's ``__repr__``, excepted; settings a ``__repr__`` changes are
  read again). A stale rendering of a numpy array, DataFrame or Series is
  reused while its content key (its data, shape, dtypes, index, names and the
  print/display options; see ``ContentKey``) is what it was when it was
  rendered; so is a numpy scalar's while it is the same object and the print
  options are the same, and a scikit-learn estimator's while its parameters,
  its class's defaults and scikit-learn's settings are the same objects.
  These renderings are shared by all frames (``SharedRenderings``): a
  function called for every row renders the DataFrame it reads once, not at
  every call. Builtin containers are walked again at every event; a cut list
  or tuple of numbers reuses its shown text while its shown first items are
  the very same objects (numbers are immutable, so this is exact).
* ``--max-frames`` / ``--max-bytes``: the first half of either budget is
  written as it comes, the rest keeps the LAST frames (a ring buffer), so the
  final return or exception is always there. The cut is marked in the trace by
  one line of its own, ``<|frame_sep|>[cwm_tracer: N frames cut here (frames
  A..B of T); cap: max_frames]`` (the first part ends on a whole text line).
  The file may exceed ``--max-bytes`` by one frame and the notes.
* ``--max-seconds``: tracing stops (the script runs on untraced to its end) and
  the trace ends with ``<|frame_sep|>[cwm_tracer: tracing stopped ...]``.
* META (JSON) says what was traced and what was cut (entry, Python version,
  frames seen/kept/dropped, first and last kept frame numbers, caps fired,
  values cut, bytes, times, whether the script raised, its exit code). It is
  written at start with ``"complete": false``, about once a second with the
  frames so far, and again at the end.
* Killed runs: what was traced is flushed to the file about once a second (a
  thread), so a SIGKILL loses at most the last second of frames (and, past
  the first half of a budget, the kept last frames). On SIGTERM (the
  watchdog's first signal at the time limit) that thread writes the kept
  frames, the line ``<|frame_sep|>[cwm_tracer: killed by SIGTERM after N
  frames ...]`` and a META with ``"killed": "SIGTERM"``, then the process dies
  of the signal as it would untraced. The same thread ends tracing at
  ``--max-seconds`` while the script sits in a long library call.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import dis
import importlib.machinery
import json
import os
import select
import shutil
import signal
import sys
import threading
import time
import tokenize
import types
import zlib
from _weakref import ref as weak_ref  # what weakref.ref is; loaded already (weakref itself is not)
from collections import defaultdict, deque
from itertools import islice
from json.encoder import encode_basestring_ascii as json_string  # C-accelerated where available
from operator import is_

TYPE_CHECKING = False
if TYPE_CHECKING:  # not imported at run time: the traced script starts as it would untraced
    from typing import Any, Callable

    _Walker = Callable[["ValueRenderer", Any], None]

MARKER = "# << START_OF_TRACE"
FRAME_SEP = "<|frame_sep|>"
CALL_SEP = "<|call_sep|>"
LINE_SEP = "<|line_sep|>"
RETURN_SEP = "<|return_sep|>"
EXCEPTION_SEP = "<|exception_sep|>"
ACTION_SEP = "<|action_sep|>"
ARG_SEP = "<|arg_sep|>"
TRACE_TOKENS = (FRAME_SEP, CALL_SEP, LINE_SEP, RETURN_SEP, EXCEPTION_SEP, ACTION_SEP, ARG_SEP)
NOTE_PREFIX = "[cwm_tracer: "  # how the tracer's own notes in a trace (frames cut, tracing stopped) begin

DEFAULTS = {"max_frames": 20000, "max_bytes": 20000000, "max_seconds": 60.0, "max_value_chars": 200}
CO_NEWLOCALS = 0x0002
FORMAT_VERSION = 1

# Types whose repr never changes for the same object: safe to cache by identity.
ATOMS = frozenset((int, float, complex, bool, str, bytes, type(None), type(Ellipsis), range))
SKIPPED_IN_MODULE = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)
_SHORT_ATOMS = frozenset((int, float, bool, type(None)))  # repr is short unless an int is huge
# How a frame's cached rendering of a variable stays valid while the variable holds the same object:
_ATOM = "atom"  # always (immutable)
_SKIP = "skip"  # always (a module, function or class in a namespace frame: not shown)
_WATCHED = "watched"  # until a line that names the object runs (objects with their own __repr__)
_CONTAINER = "container"  # never: builtin containers are walked again at every event
_NUMBERS_CUT = "numbers cut"  # a cut list or tuple of numbers: while its shown first items are the same


class _Full(Exception):
    """The value's rendering reached its budget."""


# -- values ---------------------------------------------------------------------------------


def _safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception as error:  # a broken __repr__ must not break the script
        return "<unrepresentable %s: %s>" % (type(value).__name__, type(error).__name__)


def _cut_repr_of_text(text, limit: int) -> str:
    """The first ``limit``+ chars of ``repr(text)`` (str or bytes) without rendering all of it."""
    single = b"'" if isinstance(text, bytes) else "'"
    double = b'"' if isinstance(text, bytes) else '"'
    # repr picks double quotes only if the text holds ' and no "; decide on the whole text
    # (a C-speed scan), then force that choice on the prefix with one extra character.
    uses_double = single in text and double not in text
    return repr(text[: limit + 1] + (single if uses_double else double))[:-2]


class ValueRenderer:
    """``repr`` with a length budget that stops walking builtin containers at the budget."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.cut_count = 0
        self._parts: list = []
        self._left = 0
        self._active: set = set()
        self._hints: dict = {}
        # after render() cut a list or tuple of numbers: (number of its first items that made
        # the shown text, that text), so an unchanged run of items can be reused
        self.cut_run: tuple | None = None
        # after render(): whether it may have run Python code (a __repr__ other than a builtin
        # type's, a container subclass's iteration), which may have changed any setting
        self.ran_code = False

    def render(self, value: Any) -> str:
        self.cut_run = None
        self.ran_code = False
        if not self.max_chars:
            return self._repr(value)
        kind = type(value)
        cap = self.max_chars
        if kind in ATOMS:
            # short enough to render whole: cheap, exact (huge ints and long texts take the walk)
            if kind is int:
                if value.bit_length() <= 3 * cap:
                    text = repr(value)
                    return text if len(text) <= cap else self._cut_known(text)
            elif kind is str or kind is bytes:
                if len(value) <= cap:
                    text = repr(value)
                    return text if len(text) <= cap else self._cut_known(text)
            else:
                text = repr(value)
                return text if len(text) <= cap else self._cut_known(text)
        walker = _WALKERS.get(kind)
        if walker is None and kind not in ATOMS:
            walker = _walker_for_subclass(kind)
            if walker is None:
                text = self._repr(value)
                return text if len(text) <= cap else self._cut_known(text)
            self.ran_code = True  # a subclass's own iteration and indexing
        if walker in _SLICEABLE:
            found = _flat_prefix(value, walker, cap + 1, self._hints)
            if found is not None:
                text, count = found
                if len(text) <= cap:
                    return text
                self.cut_count += 1
                if walker is not ValueRenderer._dict:
                    self.cut_run = (count, text[:cap])
                return text[:cap] + "...<cut, %s>" % _size_of(value)
        self._parts = []
        self._left = self.max_chars
        self._active = set()
        try:
            self._walk(value)
        except _Full:
            self.cut_count += 1
            return "".join(self._parts)[: self.max_chars] + "...<cut, %s>" % _size_of(value)
        except Exception:  # the value changed under the walk (another thread) or is too deep
            text = self._repr(value)
            return text if len(text) <= self.max_chars else self._cut_known(text)
        return "".join(self._parts)

    def _repr(self, value: Any) -> str:
        kind = type(value)
        if kind not in ATOMS and not library_repr(kind):
            self.ran_code = True
        return _safe_repr(value)

    def _cut_known(self, text: str) -> str:
        self.cut_count += 1
        return text[: self.max_chars] + "...<cut %d chars>" % (len(text) - self.max_chars)

    def _emit(self, text: str) -> None:
        self._parts.append(text)
        self._left -= len(text)
        if self._left < 0:
            raise _Full

    def _walk(self, value: Any) -> None:
        kind = type(value)
        if kind is str or kind is bytes:
            if len(value) > self._left:
                self._emit(_cut_repr_of_text(value, self._left))
            else:
                self._emit(repr(value))
            return
        if kind is int:
            # decimal digits of a huge int cost quadratic time (and may raise): ~0.3 digits per bit
            if value.bit_length() > 4 * self._left + 64:
                self.cut_count += 1
                self._emit("<int of %d bits>" % value.bit_length())
                return
            self._emit(repr(value))
            return
        walker = _WALKERS.get(kind)
        if walker is None:
            walker = _walker_for_subclass(kind)
            if walker is None:
                self._emit(self._repr(value))
                return
            self.ran_code = True
        if walker in _SLICEABLE:
            found = _flat_prefix(value, walker, self._left, self._hints)
            if found is not None:
                self._emit(found[0])
                return
        key = id(value)
        if key in self._active:
            if walker is ValueRenderer._defaultdict:  # its repr guards only the dict part
                self._emit("defaultdict(")
                self._walk(value.default_factory)
                self._emit(", {...})")
                return
            self._emit(_RECURSION_TEXT.get(walker, "[...]"))
            return
        self._active.add(key)
        walker(self, value)
        self._active.discard(key)

    def _items(self, values, opening: str, closing: str) -> None:
        self._emit(opening)
        first = True
        for item in values:
            if not first:
                self._emit(", ")
            first = False
            self._walk(item)
        self._emit(closing)

    def _list(self, value) -> None:
        self._items(value, "[", "]")

    def _tuple(self, value) -> None:
        if len(value) == 1:
            self._emit("(")
            self._walk(value[0])
            self._emit(",)")
        else:
            self._items(value, "(", ")")

    def _set(self, value) -> None:
        if value:
            self._items(value, "{", "}")
        else:
            self._emit("set()")

    def _frozenset(self, value) -> None:
        if value:
            self._items(value, "frozenset({", "})")
        else:
            self._emit("frozenset()")

    def _dict(self, value) -> None:
        self._emit("{")
        first = True
        for key, item in value.items():
            if not first:
                self._emit(", ")
            first = False
            self._walk(key)
            self._emit(": ")
            self._walk(item)
        self._emit("}")

    def _deque(self, value) -> None:
        self._items(value, "deque([", "]")
        self._emit(")" if value.maxlen is None else ", maxlen=%d)" % value.maxlen)

    def _defaultdict(self, value) -> None:
        self._emit("defaultdict(")
        self._walk(value.default_factory)
        self._emit(", ")
        self._dict(value)
        self._emit(")")


_WALKERS: dict[type, _Walker] = {
    list: ValueRenderer._list,
    tuple: ValueRenderer._tuple,
    dict: ValueRenderer._dict,
    set: ValueRenderer._set,
    frozenset: ValueRenderer._frozenset,
    deque: ValueRenderer._deque,
    defaultdict: ValueRenderer._defaultdict,
}
_RECURSION_TEXT: dict[_Walker, str] = {
    ValueRenderer._list: "[...]",
    ValueRenderer._tuple: "(...)",
    ValueRenderer._dict: "{...}",
    ValueRenderer._set: "set(...)",
    ValueRenderer._frozenset: "frozenset(...)",
    ValueRenderer._deque: "[...]",
}
_SLICEABLE = (ValueRenderer._list, ValueRenderer._tuple, ValueRenderer._dict)
# Element types whose repr is short and never recurses: a run of them is rendered by one C-level repr.
_FLAT_ITEMS = frozenset((int, float, bool, type(None)))


def _flat_prefix(value, walker, left: int, hints: dict) -> tuple | None:
    """(text, m): the repr of a list, tuple or dict of numbers, or of enough (m) of its first items
    to exceed ``left``.

    ``repr(value[:m])`` is exactly a prefix of ``repr(value)`` plus a closing
    bracket when the items are numbers, so long runs cost one C call instead
    of a Python loop. None when the items are of other types. ``hints`` keeps,
    per container id, how many items were enough last time (a guess, checked).
    """
    enough = left // 3 + 1  # an item and its separator take at least 3 chars
    key = id(value)
    count = min(enough, hints.get(key, left // 8 + 1))  # most numbers take more: try fewer first
    while True:
        try:
            if walker is ValueRenderer._dict:
                head = dict(islice(value.items(), count)) if len(value) > count else value
                if not set(map(type, head)) <= _FLAT_ITEMS or not set(map(type, head.values())) <= _FLAT_ITEMS:
                    return None
                text = dict.__repr__(head)
            else:
                head = value[:count]
                if not set(map(type, head)) <= _FLAT_ITEMS:
                    return None
                text = list.__repr__(head) if walker is ValueRenderer._list else tuple.__repr__(head)
        except Exception:  # a huge int refusing str(), a container changed by another thread
            return None
        if len(value) <= count:
            return text, len(value)
        text = text[:-1]  # more items follow: the closing bracket is not part of the prefix
        if len(text) > left or count >= enough:
            if len(hints) > 4096:
                hints.clear()
            hints[key] = min(enough, text.count(", ", 0, left) + 2)
            return text, count
        count = enough


_BASE_REPRS: dict[object, type] = {
    list.__repr__: list,
    tuple.__repr__: tuple,
    dict.__repr__: dict,
    set.__repr__: set,
    frozenset.__repr__: frozenset,
}


_LIBRARIES = frozenset(("numpy", "pandas", "sklearn"))  # whose __repr__ reads its object and the library's settings
_library_reprs: dict = {}  # type -> whether its __repr__ is one of theirs


def library_repr(kind: type) -> bool:
    """Whether ``kind``'s ``__repr__`` is numpy's, pandas' or scikit-learn's: it changes nothing, and reads no
    name of the script (only its object and the library's settings, which a call to the library changes)."""
    found = _library_reprs.get(kind)
    if found is None:
        method = getattr(kind, "__repr__", None)
        module = getattr(method, "__module__", None) or getattr(kind, "__module__", None) or ""
        found = _library_reprs[kind] = str(module).partition(".")[0] in _LIBRARIES
    return found


def _walker_for_subclass(kind: type) -> _Walker | None:
    """The walker of a builtin container subclass that keeps its base's ``__repr__`` and every method the walker
    calls (the base's repr reads the items directly: an ``__iter__`` or ``items`` of its own does not count)."""
    base = _BASE_REPRS.get(getattr(kind, "__repr__", None))
    # set and frozenset subclasses print their own type name, so only list/tuple/dict qualify
    if base not in (list, tuple, dict):
        return None
    if any(getattr(kind, name, None) is not getattr(base, name) for name in _WALKED_METHODS[base]):
        return None
    return _WALKERS[base]


_WALKED_METHODS = {
    list: ("__iter__", "__getitem__", "__len__"),
    tuple: ("__iter__", "__getitem__", "__len__"),
    dict: ("__iter__", "__getitem__", "__len__", "items", "keys", "values"),
}


def _size_of(value: Any) -> str:
    kind = type(value)
    if kind is int:
        return "int of %d bits" % value.bit_length()
    unit = "chars" if kind is str else "bytes" if kind is bytes else "items"
    try:
        return "%s of %d %s" % (kind.__name__, len(value), unit)
    except Exception:
        return kind.__name__


class _NoKey(Exception):
    """The value is not one whose repr a content key determines."""


class ContentKey:
    """A cheap fingerprint of an object's content that determines its repr exactly, for a few known types.

    Exact ``numpy.ndarray``, ``pandas.DataFrame`` and ``pandas.Series`` (found by
    their exact type, never imported here): while ``of(value)`` is the same as
    when the value was last rendered, ``repr`` returns the same text, so a
    rendering made stale by a call or a changing line can be reused without
    calling ``repr``. ``of`` returns None (render again) for anything else:
    subclasses, structured or object arrays holding mutable items, extension
    arrays other than strings, MultiIndex and DatetimeIndex, option values
    that are callables, and data too large to be worth hashing. A key is
    ``(parts, kept)``: ``parts`` are compared; ``kept`` holds the objects whose
    ids are in ``parts`` so that no id is reused while the key lives.

    A scikit-learn estimator whose class keeps ``BaseEstimator``'s ``__repr__``
    and parameter lookup is keyed by the identities of its parameters (which must
    be immutable atoms), of its class's ``__init__`` and its defaults, and of
    scikit-learn's settings: those are all its repr reads, and fitting it changes none.
    A numpy number or bool (an exact numpy type: immutable) is keyed by its
    identity and the print options.

    Numbers are keyed by their bytes (the first ``COPY_BYTES`` of an object)
    or the CRC-32 of their bytes (beyond: every change within 4 bytes is
    detected, any other is missed with odds 2**-32); the items of object
    arrays by their ids, exactly.

    Settings (numpy's print options, pandas' options) are keyed by their repr,
    made again only when one may have changed: while every option (and every
    nested dict of pandas' options) is the very same object under the same
    name as at the last reading, the options, all immutable atoms, are the same.
    """

    # the repr of a large array is a cheap summary: hashing more than this costs more than it saves
    ARRAY_BYTES = 1 << 20
    FRAME_BYTES = 64 << 20  # a DataFrame's repr costs about 10 ms, as much as a CRC of 64 MiB
    COPY_BYTES = 1 << 20  # of an object's numbers, kept as they are (memory) rather than as a CRC
    OBJECT_ITEMS = 100000
    _ITEMS = frozenset((str, int, float, complex, bool, bytes, type(None)))  # immutable: an id fixes the repr

    def __init__(self) -> None:
        # exact type -> ((method making its parts, bytes it may hash) or None, the type's __repr__ when looked up)
        self._methods: dict = {}
        self._items = self._ITEMS
        # numpy's ndarray, pandas' RangeIndex and Index: set when the first DataFrame or Series is met
        self._ndarray: type | None = None
        self._range_index: type | None = None
        self._plain_index: type | None = None
        self._budget = self._copy_left = 0
        self._display: object = _NoKey  # the pandas settings as read since forget(): a part, None, or unread
        # numpy's print options at the last reading: their names, values and part (None: a formatter function)
        self._printed: tuple = ((), (), None)
        # pandas' options at the last walk: the root dict, the nested dicts, their sizes, every entry's dict, name
        # and value, and the part they made
        self._walked: tuple = (None, [], [], [], [], [], None)

    def forget(self) -> None:
        """Code may have run (a new event, a ``__repr__``): read global settings again."""
        self._display = _NoKey

    def of(self, value: object) -> tuple | None:
        """The key of ``value`` now, or None."""
        kind = type(value)
        known = self._methods.get(kind)
        if known is None:
            known = self._methods[kind] = (self._method_for(kind), kind.__repr__)
        elif known[1] is not kind.__repr__:  # the class's __repr__ was replaced: what it prints is unknown
            known = self._methods[kind] = (None, kind.__repr__)
        found = known[0]
        if found is None:
            return None
        method, self._budget = found
        self._copy_left = self.COPY_BYTES
        parts: list = []
        kept: list = []
        try:
            method(value, parts, kept)
        except Exception:  # _NoKey, or any surprise from a library version: render again
            return None
        return tuple(parts), kept

    def _method_for(self, kind: type):
        numpy = sys.modules.get("numpy")
        if numpy is not None and kind is getattr(numpy, "ndarray", None):
            return self._bare_array, self.ARRAY_BYTES
        if numpy is not None and kind.__module__ == "numpy" and issubclass(kind, (numpy.number, numpy.bool_)):
            return self._scalar, 0
        pandas = sys.modules.get("pandas")
        if pandas is not None and kind in (getattr(pandas, "DataFrame", None), getattr(pandas, "Series", None)):
            self._items = self._ITEMS | {type(pandas.NA), type(pandas.NaT)}
            self._ndarray = sys.modules["numpy"].ndarray
            self._range_index, self._plain_index = pandas.RangeIndex, pandas.Index
            return (self._frame if kind is pandas.DataFrame else self._series), self.FRAME_BYTES
        return self._estimator_method(kind)

    # -- scikit-learn -----------------------------------------------------------------------

    def _estimator_method(self, kind: Any):  # a class whose attributes are looked up by name
        base = getattr(sys.modules.get("sklearn.base"), "BaseEstimator", None)
        settings = getattr(sys.modules.get("sklearn._config"), "get_config", None)
        if base is None or settings is None or not issubclass(kind, base):
            return None
        init = kind.__init__
        if (
            kind.__repr__ is not base.__repr__
            or kind.get_params is not base.get_params
            or getattr(kind._get_param_names, "__func__", None) is not base._get_param_names.__func__
            or not isinstance(init, types.FunctionType)
            or kind.__getattribute__ is not object.__getattribute__
        ):
            return None  # a repr or parameter lookup of its own: what it reads is unknown
        try:
            names = tuple(kind._get_param_names())
        except Exception:
            return None
        if any(hasattr(type(getattr(kind, name, None)), "__get__") for name in names):
            return None  # a parameter behind a property: reading it runs code
        items = self._ITEMS

        def estimator(value, parts: list, kept: list) -> None:
            if type(value).__init__ is not init:
                raise _NoKey  # the class was changed since
            fields = value.__dict__
            keyword_defaults = init.__kwdefaults__ or {}
            config = settings()
            # a KeyError (a property, a missing parameter): no key
            values = [*map(fields.__getitem__, names), *(init.__defaults__ or ()), *keyword_defaults.values()]
            values += config.values()
            if not set(map(type, values)) <= items:
                raise _NoKey  # a mutable parameter, default or setting could change unseen
            # how many of each: the names and keys; which ones: their ids (0, 0.0 and False differ)
            parts.append((kind, init, tuple(keyword_defaults), tuple(config), tuple(map(id, values))))
            kept.append(values)

        return estimator, 0

    # -- numpy ------------------------------------------------------------------------------

    def _bare_array(self, array, parts: list, kept: list) -> None:
        self._print_options(parts)
        self._array(array, parts, kept)

    def _scalar(self, scalar, parts: list, kept: list) -> None:
        """A numpy number or bool: immutable, so its repr is fixed by its identity and the print options."""
        self._print_options(parts)
        parts.append(id(scalar))
        kept.append(scalar)

    def _print_options(self, parts: list) -> None:
        options = sys.modules["numpy"].get_printoptions()  # precision, threshold, ... and formatter, which must be None
        names, values, part = self._printed
        now = tuple(options.values())
        if not _same(now, values) or tuple(options) != names:
            part = repr(options) if set(map(type, now)) <= self._ITEMS else None
            self._printed = (tuple(options), now, part)
        if part is None:
            raise _NoKey  # a formatter function: what it prints may change without the key
        parts.append(part)

    def _array(self, array, parts: list, kept: list) -> None:
        dtype = array.dtype
        kind = dtype.kind
        if kind == "O":
            if array.size > self.OBJECT_ITEMS:
                raise _NoKey
            flat = array.ravel()  # logical order; a copy if not contiguous
            items = flat.tolist()
            if not set(map(type, items)) <= self._items:
                raise _NoKey
            kept.append(items)
            parts.append((array.shape, flat.tobytes()))  # the items' addresses
            return
        if kind not in "biufcmMSU" or dtype.fields is not None:
            raise _NoKey  # structured, void, and new-style dtypes (numpy 2's StringDType)
        size = array.nbytes
        self._budget -= size
        if self._budget < 0:
            raise _NoKey
        if size <= self._copy_left:  # a copy compares about 4 times faster than a CRC, and exactly
            self._copy_left -= size
            data = array.tobytes()  # in C order whatever the strides (the shape is in the key)
        else:
            data = zlib.crc32(array.ravel().view(sys.modules["numpy"].uint8))
        parts.append((array.shape, dtype.str, dtype.type, data))  # the type: int64 and longlong share '<i8'

    # -- pandas -----------------------------------------------------------------------------

    def _frame(self, frame, parts: list, kept: list) -> None:
        self._pandas_display(parts)
        self._index(frame.columns, parts, kept)
        self._index(frame.index, parts, kept)
        manager = frame._mgr
        if type(manager).__name__ != "BlockManager":
            raise _NoKey
        for block in manager.blocks:
            where = block.mgr_locs.indexer  # which columns the block holds: a slice or an array
            parts.append(where if type(where) is slice else where.tobytes())
            self._values(block.values, parts, kept)

    def _series(self, series, parts: list, kept: list) -> None:
        self._pandas_display(parts)
        self._index(series.index, parts, kept)
        self._name(series.name, parts)
        self._values(series._values, parts, kept)

    def _index(self, index, parts: list, kept: list) -> None:
        kind = type(index)
        self._name(index.name, parts)
        if kind is self._range_index:
            parts.append((kind, index.start, index.stop, index.step))
        elif kind is self._plain_index:
            parts.append(kind)
            self._values(index._values, parts, kept)
        else:
            raise _NoKey  # MultiIndex, DatetimeIndex (its freq is shown), CategoricalIndex, ...

    def _values(self, values, parts: list, kept: list) -> None:
        """A column's or an index's values: a numpy array, or a pandas array of strings."""
        kind = type(values)
        if kind is self._ndarray:
            self._array(values, parts, kept)
            return
        if not kind.__module__.startswith("pandas.") or kind.__name__ not in _STRING_ARRAYS:
            raise _NoKey
        parts.append((kind, values.dtype))  # StringDtype: its storage and missing value
        arrow = getattr(values, "_pa_array", None)
        if arrow is not None:  # a pyarrow ChunkedArray: immutable, pandas replaces it to change values
            parts.append(id(arrow))
            kept.append(arrow)
        else:
            self._array(values._ndarray, parts, kept)  # str and missing values in an object array

    def _name(self, name, parts: list) -> None:
        if type(name) not in self._items:
            raise _NoKey
        parts.append(repr(name))  # exact where == is not: 0.0 == -0.0, 1 == True

    def _pandas_display(self, parts: list) -> None:
        """What else a pandas repr depends on: every option, and the terminal's size (pandas asks for it)."""
        if self._display is _NoKey:
            self._display = None  # stays None if reading them fails
            options = self._pandas_options()
            if options is not None:
                console = hasattr(sys.modules.get("__main__"), "__file__")  # pandas' test for a console
                self._display = (options, shutil.get_terminal_size(), console)
        if self._display is None:
            raise _NoKey
        parts.append(self._display)

    def _pandas_options(self) -> str | None:
        """The repr of pandas' nested option dicts, or None if an option is not an immutable atom."""
        config = sys.modules["pandas._config.config"]._global_config
        root, sections, sizes, owners, names, values, options = self._walked
        try:
            # every entry of the last walk still there and the same object, and none added: the same options
            if (
                root is config
                and list(map(len, sections)) == sizes
                and all(map(is_, map(dict.__getitem__, owners, names), values))
            ):
                return options
        except KeyError:  # one removed (and another added)
            pass
        sections, owners, names, values = [config], [], [], []
        atoms = True
        for section in sections:  # grows as nested dicts are found
            for name, value in section.items():
                owners.append(section)
                names.append(name)
                values.append(value)
                if type(value) is dict:
                    if all(found is not value for found in sections):  # each once, even in a cycle
                        sections.append(value)
                elif type(value) not in self._ITEMS:
                    atoms = False  # a formatter function: what it prints may change without the key
        options = repr(config) if atoms else None
        self._walked = (config, sections, list(map(len, sections)), owners, names, values, options)
        return options


def _same(values: tuple, last: tuple) -> bool:
    """The very same objects, in the same order."""
    return len(values) == len(last) and all(map(is_, values, last))


_STRING_ARRAYS = frozenset(("ArrowStringArray", "ArrowStringArrayNumpySemantics", "StringArray"))


# -- source ---------------------------------------------------------------------------------


def read_source(path: str) -> str:
    """The script's text decoded as ``python`` decodes it (PEP 263 cookie, BOM, newlines)."""
    with tokenize.open(path) as handle:
        return handle.read()


def source_lines(text: str) -> list:
    """Line n of the script (1-based) at index n, each ending with one newline."""
    return [""] + [line + "\n" for line in text.split("\n")]


def marked_functions(tree: ast.AST, lines: list) -> list:
    """(name, first line of its code object) of every def whose line carries MARKER."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and MARKER in lines[node.lineno]:
            found.append((node.name, _first_line(node)))
    return found


def named_functions(tree: ast.AST, name: str) -> list:
    """(name, first line) of the functions called ``name`` (or ``Class.name``) in the tree."""
    wanted = name.split(".")
    found = []

    def visit(node: ast.AST, scope: list) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                path = scope + [child.name]
                if not isinstance(child, ast.ClassDef) and path[-len(wanted) :] == wanted:
                    found.append((child.name, _first_line(child)))
                visit(child, path)
            else:
                visit(child, scope)

    visit(tree, [])
    return found


def _first_line(node) -> int:
    """co_firstlineno of a def: its first decorator's line, else the def line."""
    return min([node.lineno] + [d.lineno for d in node.decorator_list])


class ChangingLines:
    """Per code object and line: the offset of the line's last instruction that may change an object in place.

    Those are calls (a C function or method such as ``list.append`` or a numpy
    ufunc with ``out=``), stores and deletes through a subscript, slice or
    attribute, subscripts (``__getitem__`` may insert, as ``defaultdict``'s does),
    in-place operators (``a += 1`` on an array) and ``with`` (``__enter__`` and
    ``__exit__``). Python code run by any other instruction (a property, a
    dunder method, a generator) raises a call event of its own. After a line
    event at offset ``lasti`` only instructions at or after ``lasti`` on that
    line can run before the next line event (a backward jump always raises a
    new line event), so the line may have changed objects if that offset is
    at or after ``lasti``.
    """

    _CHANGING = ("CALL", "SUBSCR", "SLICE", "STORE_ATTR", "DELETE_ATTR", "INPLACE_", "WITH")
    # Rebinding a global, a closure's variable or a name of a module or class body changes no object, but a
    # __repr__ of the script's may read that name: such lines make stale only renderings without a content key.
    _REBINDING = ("STORE_GLOBAL", "DELETE_GLOBAL", "STORE_DEREF", "DELETE_DEREF")
    _NAMESPACE_REBINDING = ("STORE_NAME", "DELETE_NAME")  # in a module or class body, where names are attributes

    def __init__(self) -> None:
        self._by_code: dict = {}

    def last_offset(self, code: types.CodeType, lineno: int) -> int:
        return self._tables(code)[0].get(lineno, -1)

    def last_rebinding(self, code: types.CodeType, lineno: int) -> int:
        """The offset of the line's last instruction that rebinds a name some other code may read, or -1."""
        return self._tables(code)[1].get(lineno, -1)

    def _tables(self, code: types.CodeType) -> tuple:
        tables = self._by_code.get(code)
        if tables is None:
            tables = self._by_code[code] = self._scan(code)
        return tables

    def _scan(self, code: types.CodeType) -> tuple:
        changing: dict = {}
        rebinding: dict = {}
        line = code.co_firstlineno
        rebinds = self._REBINDING + (self._NAMESPACE_REBINDING if not code.co_flags & CO_NEWLOCALS else ())
        for ins in dis.get_instructions(code):
            number = getattr(ins, "line_number", None) if sys.version_info >= (3, 13) else ins.starts_line
            if number is not None:
                line = number
            name = ins.opname
            if any(part in name for part in self._CHANGING) or (
                name == "BINARY_OP" and (ins.argrepr.endswith("=") or ins.argrepr == "[]")
            ):
                changing[line] = ins.offset
            elif name in rebinds:
                rebinding[line] = ins.offset
        return changing, rebinding


# The frames that run imports ahead, compiled under importlib's own file name so that Python
# treats them as importlib's:
# * ``trace`` is the local trace function of the script's frames. A module imported from it sees,
#   past importlib's frames (which ``warnings`` skips), the script's frame, as in a plain run: a
#   warning with ``stacklevel=2`` from a module body names the script's import line, not the tracer.
# * CPython cuts a chunk of importlib frames that ends in ``_call_with_frames_removed`` from the
#   traceback of a failed import, so a kept failure is raised with the traceback of a plain run.
_IMPORTLIB_FRAMES = """
def trace(state, frame, event, arg):
    imports = state.event(frame, event, arg)
    if imports is None:
        return None
    if imports:
        for name, fromlist, level in imports:
            try:
                __import__(name, frame.f_globals, None, fromlist, level)
            except BaseException as error:
                state.tracer.imports.keep_failure(name, fromlist, error)
                break
        state.tracer.called = True
    return MethodType(trace, state)

class KeptFailure:
    def __init__(self, error, traceback, names):
        self.error = error
        self.traceback = traceback
        self.names = names
        self.thread = get_ident()

    def find_spec(self, name, path=None, target=None):
        if get_ident() != self.thread or self not in sys.meta_path or name not in self.names:
            return None
        sys.meta_path.remove(self)
        _call_with_frames_removed(self)

def _call_with_frames_removed(finder):
    raise finder.error.with_traceback(finder.traceback)
"""
_importlib_namespace: dict = {"sys": sys, "get_ident": threading.get_ident, "MethodType": types.MethodType}
exec(compile(_IMPORTLIB_FRAMES, "<frozen importlib._bootstrap>", "exec"), _importlib_namespace)
_trace = _importlib_namespace["trace"]
_KeptFailure = _importlib_namespace["KeptFailure"]


class ImportAhead:
    """Runs the imports a script line is about to make from inside the trace function, where Python
    runs code untraced, so library modules load at full speed.

    Under ``sys.settrace`` every instruction of every module body pays for the
    tracing, though no library frame is recorded: ``import pandas`` and two
    scikit-learn imports take 1.2 s in a plain run and 1.7 s traced. At a line
    event whose line starts with import statements (``import a``, ``import a,
    b``, ``from a import b``: the instructions ``LOAD_CONST level, LOAD_CONST
    fromlist, IMPORT_NAME``, which nothing can skip), ``_trace`` calls
    ``__import__`` with the arguments ``IMPORT_NAME`` is about to pass; the
    line's own import then finds the modules loaded. The same modules run once,
    in the same order, at the same point, and the trace is the same.

    A module that raises while it loads is not run again: the line's own import
    raises the same exception object at its first lookup (a finder put first on
    ``sys.meta_path`` for that one lookup), with the traceback a plain run
    prints. A failure in the names ``from a import b`` asks of a loaded module
    (a module ``__getattr__`` that raises) is left to the line, which runs
    them again, traced.

    Imports that could run the script's own code (which must be traced) are
    left to run traced: when ``__import__`` is not the builtin one, when
    ``sys.meta_path`` or ``sys.path_hooks`` holds something the script defined,
    relative imports, and the script's own module name.
    """

    _STORES = frozenset(("STORE_NAME", "STORE_FAST", "STORE_GLOBAL", "STORE_DEREF"))

    def __init__(self, filename: str) -> None:
        self.own_name = os.path.splitext(os.path.basename(filename))[0]
        self.builtin_import = builtins.__import__
        self._by_code: dict = {}  # code -> (its table, the table's last offset or -1)
        self.pending: Any = None  # the KeptFailure on sys.meta_path until the line's import meets it

    def ahead(self, frame) -> tuple:
        """The imports the line at the frame's offset starts with, to run now: (name, fromlist, level)s."""
        self.clear_pending()
        imports = self.table(frame.f_code).get(frame.f_lasti)
        if imports is None or not self._safe(frame):
            return ()
        ahead = []
        for name, fromlist, level in imports:
            if level or name.partition(".")[0] == self.own_name:
                break
            if fromlist is not None or name not in sys.modules:  # else loaded: the line's import costs nothing
                ahead.append((name, fromlist, level))
        return tuple(ahead)

    def keep_failure(self, name: str, fromlist: tuple | None, error: BaseException) -> None:
        """The import of ``name`` (``from name import fromlist``) ahead raised ``error``: the line's own import of
        a module that failed to load (``name``, a package on its path, or a submodule ``from`` asks for) raises it."""
        parts = name.split(".")
        wanted = [".".join(parts[:i]) for i in range(1, len(parts) + 1)] + [f"{name}.{n}" for n in fromlist or ()]
        names = frozenset(module for module in wanted if module not in sys.modules)
        if not names:
            return  # it failed in a module's __getattr__ for a name ``from`` asks for: the line runs it again
        traceback = error.__traceback__  # from the frame that ran the import: the rest is a plain run's
        try:
            sys.meta_path.insert(0, _KeptFailure(error, traceback.tb_next if traceback is not None else None, names))
        except Exception:  # the script replaced sys.meta_path: the line's import runs the module again
            return
        self.pending = sys.meta_path[0]

    def last_start(self, code: types.CodeType) -> int:
        """The offset of the code's last line that starts with an import, or -1."""
        return self._scanned(code)[1]

    def clear_pending(self) -> None:
        """Take the kept failure off ``sys.meta_path`` if the line's import did not reach it."""
        if self.pending is not None:
            if self.pending in sys.meta_path:
                sys.meta_path.remove(self.pending)
            self.pending = None

    def table(self, code: types.CodeType) -> dict:
        """Offset -> the (name, fromlist, level) of the import statements that start there, in order."""
        return self._scanned(code)[0]

    def _scanned(self, code: types.CodeType) -> tuple:
        found = self._by_code.get(code)
        if found is None:
            table = self._scan(code)
            found = self._by_code[code] = (table, max(table, default=-1))
        return found

    def _scan(self, code: types.CodeType) -> dict:
        table: dict = {}
        ops: list = []  # the instructions without EXTENDED_ARG prefixes
        starts: list = []  # where each starts: its offset, or its first prefix's
        prefix = None
        for ins in dis.get_instructions(code):
            if ins.opname == "EXTENDED_ARG":
                prefix = ins.offset if prefix is None else prefix
                continue
            ops.append(ins)
            starts.append(ins.offset if prefix is None else prefix)
            prefix = None
        index = 0
        while index < len(ops):
            found = self._import_at(ops, index)
            if found is None:
                index += 1
                continue
            start, imports = starts[index], [found]
            index += 3
            # ``import a, b``: a plain store, then the next import statement on the same line
            while index < len(ops) and ops[index].opname in self._STORES:
                found = self._import_at(ops, index + 1)
                if found is None or ops[index + 1].starts_line not in (None, False):  # False from 3.13
                    break
                imports.append(found)
                index += 4
            table[start] = tuple(imports)
        return table

    @staticmethod
    def _import_at(ops: list, index: int) -> tuple | None:
        if index + 2 >= len(ops):
            return None
        level, fromlist, name = ops[index : index + 3]
        if (
            name.opname != "IMPORT_NAME"
            or level.opname != "LOAD_CONST"
            or fromlist.opname != "LOAD_CONST"
            or type(level.argval) is not int
            or not (fromlist.argval is None or type(fromlist.argval) is tuple)
        ):
            return None
        return name.argval, fromlist.argval, level.argval

    def _safe(self, frame) -> bool:
        if frame.f_builtins.get("__import__") is not self.builtin_import:
            return False
        try:
            hooks = [*sys.meta_path, *sys.path_hooks]
        except TypeError:  # the script put something odd there: leave its imports to it
            return False
        return not any(map(_defined_by_script, hooks))


def _defined_by_script(thing: object) -> bool:
    module = getattr(thing, "__module__", None)  # a function, a class or an instance of one
    return module == "__main__" or getattr(type(thing), "__module__", None) == "__main__"


# -- the trace ------------------------------------------------------------------------------


class TraceWriter:
    """Frames to a file: the first half of the budgets as they come, then a ring of the last."""

    def __init__(self, path: str, max_frames: int, max_bytes: int) -> None:
        self.fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self.pid = os.getpid()
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self.head_frames_limit = max(1, max_frames // 2) if max_frames else 0
        self.head_bytes_limit = max(1, max_bytes // 2) if max_bytes else 0
        self.buffer: list = [FRAME_SEP]
        self.buffered = len(FRAME_SEP)
        self.bytes_written = 0
        self.head_count = 0
        self.head_bytes = len(FRAME_SEP)
        self.in_head = True
        self.last_ended_line = True  # the last frame ended with a newline
        self.tail: deque = deque()
        self.tail_bytes = 0
        self.tail_frames_limit = 0
        self.tail_bytes_limit = 0
        self.total = 0
        self.caps_fired: list = []
        self.lock = threading.Lock()  # between the flushes of the script's thread and the watchman's

    def add(self, text: str, size: int, ends_line: bool) -> None:
        """One frame (without its closing separator); ``size`` is its UTF-8 length."""
        self.total += 1
        self.last_ended_line = ends_line
        text += FRAME_SEP
        size += len(FRAME_SEP)
        if self.in_head:
            self.head_count += 1
            self.head_bytes += size
            self._write(text, size)
            if ends_line and self._head_full():
                self._flush()  # if the run is killed later, the file still holds the first frames
                self.in_head = False
                # the ring always keeps at least the last frame
                self.tail_frames_limit = max(1, self.max_frames - self.head_count) if self.max_frames else 0
                self.tail_bytes_limit = max(1, self.max_bytes - self.head_bytes) if self.max_bytes else 0
            return
        tail = self.tail
        tail.append((text, size))
        self.tail_bytes += size
        while len(tail) > 1:
            if self.tail_frames_limit and len(tail) > self.tail_frames_limit:
                self._note_cap("max_frames")
            elif self.tail_bytes_limit and self.tail_bytes > self.tail_bytes_limit:
                self._note_cap("max_bytes")
            else:
                break
            self.tail_bytes -= tail.popleft()[1]

    def _head_full(self) -> bool:
        return bool(
            (self.head_frames_limit and self.head_count >= self.head_frames_limit)
            or (self.head_bytes_limit and self.head_bytes >= self.head_bytes_limit)
        )

    def _note_cap(self, cap: str) -> None:
        if cap not in self.caps_fired:
            self.caps_fired.append(cap)

    @property
    def dropped(self) -> int:
        return self.total - self.head_count - len(self.tail)

    def _write(self, text: str, size: int) -> None:
        self.buffer.append(text)
        self.buffered += size
        if self.buffered > 1 << 20:
            self._flush()

    def _flush(self) -> None:
        # The script's thread appends to the same list meanwhile: take and delete only what was joined.
        with self.lock:
            count = len(self.buffer)
            data = "".join(self.buffer[:count]).encode("utf-8", "surrogateescape")
            del self.buffer[:count]
            self.buffered = 0
            if self.fd is not None and os.getpid() == self.pid:
                view = memoryview(data)
                while view:
                    view = view[os.write(self.fd, view) :]
                self.bytes_written += len(data)

    def flush_head(self) -> None:
        """Write the frames buffered so far (the watchman's tick); the kept last frames wait for ``finish``."""
        if self.buffer:
            self._flush()

    def finish(self, closing_note: str | None) -> None:
        """Write the gap note and the kept tail, then ``closing_note`` as the last frame (once)."""
        if self.fd is None:
            return
        if self.dropped:
            first_tail = self.total - len(self.tail) + 1
            self._write(
                NOTE_PREFIX
                + "%d frames cut here (frames %d..%d of %d); cap: %s]\n%s"
                % (
                    self.dropped,
                    self.head_count + 1,
                    first_tail - 1,
                    self.total,
                    ", ".join(self.caps_fired),
                    FRAME_SEP,
                ),
                0,
            )
        for text, size in list(self.tail):  # a copy: the script's thread may still be in add()
            self._write(text, size)
        if closing_note:
            self._write(closing_note + FRAME_SEP, 0)
        self._flush()
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)

    def forget_in_child(self) -> None:
        """After a fork: the child must never write what the parent buffered."""
        self.fd = None
        self.buffer = []
        self.tail = deque()


class SharedRenderings:
    """The last rendering of each live object with its own ``__repr__``, for every frame.

    A frame's own cache starts empty, so a function called for every row (a
    ``map`` or ``apply`` callback with a DataFrame in its closure, a helper
    taking the frame) would render the same object again at every call. A
    rendering here is reused on the rules of a frame's cache: while nothing
    ran that could change the object (its stamp), or while its content key is
    the same. Objects are held by weak references (an entry goes when its
    object dies), and at most ``SIZE`` entries are kept (their content keys
    hold copies of data).
    """

    SIZE = 64

    def __init__(self) -> None:
        self._by_id: dict = {}  # id -> (weak reference, text, stamp, content key)

    def get(self, value: object) -> tuple | None:
        """(text, stamp, content key) of the object's last rendering, or None."""
        found = self._by_id.get(id(value))
        if found is None or found[0]() is not value:
            return None
        return found[1:]

    def put(self, value: object, text: str, stamp: int, content: tuple | None) -> None:
        key = id(value)
        found = self._by_id.pop(key, None)  # popped and put back: the dict's order is the order of use
        if found is not None and found[0]() is value:
            reference = found[0]
        else:
            try:
                reference = weak_ref(value, self._dropper(key))
            except TypeError:  # an object without weak references: not shared
                return
            if len(self._by_id) >= self.SIZE:
                del self._by_id[next(iter(self._by_id))]  # the least recently used
        self._by_id[key] = (reference, text, stamp, content)

    def _dropper(self, key: int):
        def drop(dead: object) -> None:  # the object died: its id may be given to another
            self._by_id.pop(key, None)

        return drop


class FrameState:
    """One traced frame: its rendering cache and the line it last started."""

    __slots__ = ("tracer", "cache", "lasti", "lineno", "is_namespace", "code")

    def __init__(self, tracer: "Tracer", frame: types.FrameType) -> None:
        self.tracer = tracer
        self.code = frame.f_code
        self.cache: dict = {}  # name -> (object, rendered '"name": "value"' or None to skip, stamp)
        self.lasti = -1
        self.lineno = 0
        self.is_namespace = not (self.code.co_flags & CO_NEWLOCALS)  # module or class body

    def event(self, frame, event, arg) -> tuple | None:
        """One event of the frame, for ``_trace``: the imports to run ahead, or None to stop tracing it."""
        tracer = self.tracer
        if not tracer.active:
            return None
        try:
            if event == "line":
                return tracer.on_line(self, frame)
            if event == "return":
                tracer.on_return(self, frame, arg)
            elif event == "exception":
                tracer.on_exception(self, frame, arg)
        except Exception as error:  # the tracer must never change what the script does
            tracer.fail(error)
            return None
        return ()


class ModuleBeforeEntry:
    """The script's module body before the entry runs: not recorded, but its imports run ahead."""

    __slots__ = ("tracer",)

    def __init__(self, tracer: "Tracer") -> None:
        self.tracer = tracer

    def event(self, frame, event, arg) -> tuple | None:
        tracer = self.tracer
        if not tracer.active:
            return None
        if event != "line":
            return ()
        try:
            imports = tracer.imports
            ahead = imports.ahead(frame)
            if not ahead and frame.f_lasti > imports.last_start(frame.f_code):
                frame.f_trace = None  # no import statement ahead (a loop back to one runs it traced)
                return None
            return ahead
        except Exception as error:
            tracer.fail(error)
            return None


class Tracer:
    def __init__(
        self,
        filename: str,
        lines: list,
        entry: tuple,
        writer: TraceWriter,
        max_value_chars: int,
        max_seconds: float,
        content_keys: bool = True,
    ) -> None:
        self.filename = filename
        self.lines = lines
        self.extra_bytes = [len(line.encode("utf-8", "surrogateescape")) - len(line) for line in lines]
        self.entry_name, self.entry_lines = entry  # entry_lines None: the module is the entry
        self.writer = writer
        self.renderer = ValueRenderer(max_value_chars)
        self.max_seconds = max_seconds
        self.changing_lines = ChangingLines()
        self.imports = ImportAhead(filename)
        self.content_key = ContentKey() if content_keys else None  # None: watched objects are rendered again
        self.shared = SharedRenderings()
        self.active = True
        self.started = False
        self.entry_frame = None
        self.ended = False
        self.start_time = 0.0
        self.deadline = float("inf")
        self.stopped_by_time = False
        self.error: str | None = None
        self.stamp = 0  # one per event; orders renderings against the lines that may change objects
        self.changed = 0  # renderings of objects with their own __repr__ made before this stamp may be stale
        self.rebound = 0  # those without a content key made before this stamp may be stale (a name they read)
        self.called = False  # a call event since the last event's locals: every rendering before it may be stale
        self.name_json: dict = {}
        # False until an object with its own __repr__ was rendered: until then no cached
        # rendering depends on which lines ran, and lines need not be scanned
        self.watching = False

    # -- events ---------------------------------------------------------------------------

    def global_trace(self):
        """The function for ``sys.settrace``: it sees every Python call anywhere, so it does the least it can."""
        filename = self.filename
        on_call = self.on_call

        def trace_call(frame, event, arg):
            self.called = True  # whatever runs in the new frame may change any object
            if frame.f_code.co_filename != filename:
                return None
            return on_call(frame, event, arg)

        return trace_call

    def on_call(self, frame, event, arg):
        if not self.active:
            return None
        try:
            if not self.started:
                if not self._is_entry(frame.f_code):
                    if frame.f_code.co_name == "<module>":  # not recorded, but its imports run ahead
                        return types.MethodType(_trace, ModuleBeforeEntry(self))
                    return None
                self.started = True
                self.entry_frame = frame
                self.start_time = time.perf_counter()
                if self.max_seconds:
                    self.deadline = self.start_time + self.max_seconds
            elif self._out_of_time():
                return None
            state = FrameState(self, frame)
            lineno = frame.f_lineno or frame.f_code.co_firstlineno  # a module's call event has line 0
            self._emit(CALL_SEP + self._locals(state, frame) + ACTION_SEP, lineno, True)
            return types.MethodType(_trace, state)
        except Exception as error:
            self.fail(error)
            return None

    def on_line(self, state: FrameState, frame) -> tuple:
        """Record the line event; the imports the line starts with, to run ahead."""
        if self._out_of_time():
            return ()
        self._touch_previous(state)
        state.lineno = lineno = frame.f_lineno
        state.lasti = frame.f_lasti
        self._emit(LINE_SEP + self._locals(state, frame) + ACTION_SEP, lineno, True)
        return self.imports.ahead(frame)

    def on_return(self, state: FrameState, frame, value) -> None:
        self._touch_previous(state)
        self._emit(RETURN_SEP + ACTION_SEP, frame.f_lineno, False, value)
        if frame is self.entry_frame:
            self.end()

    def on_exception(self, state: FrameState, frame, triple) -> None:
        self._touch_previous(state)
        self._emit(EXCEPTION_SEP + ACTION_SEP, frame.f_lineno, False, triple)

    def _emit(self, head: str, lineno: int, ends_line: bool, value: object = None) -> None:
        source = self.lines[lineno] if 0 < lineno < len(self.lines) else "\n"
        text = head + source
        if not ends_line:
            text += ARG_SEP + json_string(self._render(value))
        extra = self.extra_bytes[lineno] if 0 < lineno < len(self.lines) else 0
        self.writer.add(text, len(text) + extra, ends_line)

    def _render(self, value: object) -> str:
        """``value``'s text. A render that ran Python code (a ``__repr__`` of its own) may have changed anything,
        as a call may: the settings are read again now, and every rendering made before is stale at the next event."""
        text = self.renderer.render(value)
        if self.renderer.ran_code:
            self.called = True
            if self.content_key is not None:
                self.content_key.forget()
        return text

    # -- locals ---------------------------------------------------------------------------

    def _locals(self, state: FrameState, frame) -> str:
        self.stamp = stamp = self.stamp + 1
        if self.called:
            self.called = False
            self.changed = stamp
        content_key = self.content_key
        if content_key is not None:
            content_key.forget()
        cache = state.cache
        parts: list[str] = []
        append = parts.append
        values = frame.f_locals
        for name, value in values.items():
            entry = cache.get(name)
            now = None  # the content key of a watched value, when it was needed to test its rendering
            if entry is not None and entry[0] is value:
                mode = entry[3]
                if mode is _ATOM:
                    append(entry[1])
                    continue
                if mode is _SKIP:
                    continue
                if mode is _WATCHED:
                    if self._fresh(entry[2], entry[4], value):
                        append(entry[1])
                        continue
                    # something may have changed it: reuse the text if its content key is the same
                    if entry[4] is not None and content_key is not None:
                        now = content_key.of(value)
                        if now is not None and now[0] == entry[4][0]:
                            cache[name] = (value, entry[1], stamp, _WATCHED, entry[4])
                            append(entry[1])
                            continue
                if mode is _NUMBERS_CUT:
                    count = entry[4]
                    if len(value) >= count and all(map(is_, value[:count], entry[5])):
                        # the same first numbers: the same shown text; only the length may differ
                        self.renderer.cut_count += 1
                        append('%s...<cut, %s>"' % (entry[6], _size_of(value)))
                        continue
            kind = type(value)  # never value.__class__, which may be the script's property
            if state.is_namespace and (issubclass(kind, SKIPPED_IN_MODULE) or (name[:2] == "__" and name[-2:] == "__")):
                cache[name] = (value, None, stamp, _SKIP)
                continue
            if kind in _SHORT_ATOMS and (kind is not int or value.bit_length() < 1024):
                mode = _ATOM
                text = repr(value)
                if len(text) > self.renderer.max_chars > 0:
                    text = self.renderer.render(value)
            else:
                if kind in ATOMS:
                    mode = _ATOM
                elif kind in _WALKERS or _walker_for_subclass(kind) is not None:
                    mode = _CONTAINER
                else:
                    mode = _WATCHED
                    self.watching = True
                if mode is _WATCHED:
                    text, content = self._render_watched(value, now)
                else:
                    text = self._render(value)
            key = self.name_json.get(name)
            if key is None:
                key = self.name_json[name] = json_string(name) + ": "
            pair = key + json_string(text)
            run = self.renderer.cut_run
            if mode is _CONTAINER and run is not None:
                cache[name] = (
                    value,
                    pair,
                    stamp,
                    _NUMBERS_CUT,
                    run[0],
                    tuple(value[: run[0]]),
                    key + json_string(run[1])[:-1],
                )
            elif mode is _WATCHED:
                cache[name] = (value, pair, stamp, mode, content)
            else:
                cache[name] = (value, pair, stamp, mode)
            append(pair)
        if len(cache) > len(values):
            # a deleted variable: drop its cached object so the cache does not keep it alive
            for name in [name for name in cache if name not in values]:
                del cache[name]
        return "{" + ", ".join(parts) + "}"

    def _render_watched(self, value: object, now: tuple | None) -> tuple:
        """(text, content key) of an object with its own ``__repr__``: another frame's rendering while
        valid, else a new one. ``now``: its content key at this event, if already made."""
        content_key = self.content_key
        found = self.shared.get(value)
        if found is not None:
            text, stamp, content = found
            if self._fresh(stamp, content, value):
                return text, content
            if content is not None and content_key is not None:
                now = now if now is not None else content_key.of(value)
                if now is not None and now[0] == content[0]:
                    self.shared.put(value, text, self.stamp, content)
                    return text, content
        content = now if now is not None or content_key is None else content_key.of(value)
        text = self._render(value)
        self.shared.put(value, text, self.stamp, content)
        return text, content

    def _fresh(self, stamp: int, content: tuple | None, value: object) -> bool:
        """Whether a rendering of ``value`` made at ``stamp`` (with that content key) still holds: nothing that
        could change objects ran since, and no name was rebound that its ``__repr__`` might read."""
        return stamp >= self.changed and (stamp >= self.rebound or content is not None or library_repr(type(value)))

    def _touch_previous(self, state: FrameState) -> None:
        """Note when the part of the frame's previous line that ran may have changed an object in place."""
        if self.watching and state.lasti >= 0:
            if self.changing_lines.last_offset(state.code, state.lineno) >= state.lasti:
                self.changed = self.stamp + 1
            elif self.changing_lines.last_rebinding(state.code, state.lineno) >= state.lasti:
                self.rebound = self.stamp + 1

    # -- control --------------------------------------------------------------------------

    def _is_entry(self, code: types.CodeType) -> bool:
        if self.entry_lines is None:
            return code.co_name == "<module>"
        return code.co_name == self.entry_name and code.co_firstlineno in self.entry_lines

    def _out_of_time(self) -> bool:
        if time.perf_counter() < self.deadline or not self.writer.last_ended_line:
            return False
        self.stopped_by_time = True
        self.stop()
        return True

    def end(self) -> None:
        """The entry returned: stop tracing for good."""
        self.ended = True
        self.stop()

    def stop(self) -> None:
        self.active = False
        self.imports.clear_pending()
        self.entry_frame = None  # let the script's frames and values go
        sys.settrace(None)
        frame: types.FrameType | None = sys._getframe()
        while frame is not None:
            frame.f_trace = None
            frame = frame.f_back

    def fail(self, error: BaseException) -> None:
        self.error = "%s: %s" % (type(error).__name__, error)
        self.stop()

    def forget_in_child(self) -> None:
        self.active = False
        sys.settrace(None)
        self.writer.forget_in_child()


class Watchman:
    """A thread beside the script: flushes the trace about once a second, ends tracing at the time cap
    even while the script is inside a library call, and on SIGTERM writes the trace and META out.

    Python runs signal handlers only between bytecodes of the main thread, which
    may sit in a C call for minutes; the signal's byte on the wakeup fd reaches
    this thread at once.
    """

    INTERVAL = 1.0

    def __init__(self, tracer: "Tracer", writer: TraceWriter, meta: dict, meta_path: str) -> None:
        self.tracer = tracer
        self.writer = writer
        self.meta = meta
        self.meta_path = meta_path
        self.killed = threading.Event()  # set once the trace and META of a killed run are written
        self.done = False
        self.read_fd, self.write_fd = os.pipe()
        self.frames_reported = -1
        self.thread: threading.Thread | None = None
        self.mask_before_fork: set = set()

    def start(self) -> None:
        os.set_blocking(self.write_fd, False)
        signal.set_wakeup_fd(self.write_fd)
        signal.signal(signal.SIGTERM, self.on_sigterm)
        self.thread = threading.Thread(target=self._watch, name="cwm_tracer", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """The script ended: no more ticks (the main thread writes the end itself)."""
        self.done = True
        if os.getpid() == self.writer.pid:
            os.write(self.write_fd, b"\0")  # wake the thread now rather than at its next tick
            if self.thread is not None:
                self.thread.join(5)

    def _watch(self) -> None:
        while not self.done:
            ready, _, _ = select.select([self.read_fd], [], [], self.INTERVAL)
            if self.done:
                return
            if ready and signal.SIGTERM in os.read(self.read_fd, 512):
                self._write_killed()
                return
            self._tick()

    def _tick(self) -> None:
        tracer = self.tracer
        if tracer.active and tracer.started and time.perf_counter() >= tracer.deadline and self.writer.last_ended_line:
            tracer.stopped_by_time = True
            tracer.active = False  # the script's thread stops itself at its next event
        self.writer.flush_head()
        if self.writer.total != self.frames_reported:
            self.frames_reported = self.writer.total
            self.meta["frames_so_far"] = self.writer.total
            _write_json(self.meta_path, self.meta)

    def _write_killed(self) -> None:
        self.tracer.active = False
        writer = self.writer
        writer.finish(
            "[cwm_tracer: killed by SIGTERM after %d frames; every frame traced until then is kept]" % writer.total
        )
        kept_tail = len(writer.tail)
        self.meta.update(
            {
                "complete": False,
                "killed": "SIGTERM",
                "frames_total": writer.total,
                "frames_written": writer.head_count + kept_tail,
                "frames_dropped": writer.dropped,
                "caps_fired": writer.caps_fired,
                "bytes": writer.bytes_written,
            }
        )
        _write_json(self.meta_path, self.meta)
        self.killed.set()

    def on_sigterm(self, signum, frame) -> None:
        """The Python-level handler: once the trace is out, die of SIGTERM as the untraced script would."""
        if os.getpid() == self.writer.pid:
            self.killed.wait(5)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    def before_fork(self) -> None:
        """SIGTERM waits while forking: the child shares the wakeup pipe until ``forget_in_child``,
        and a SIGTERM for the child caught before then would read to this watchman as its own."""
        self.mask_before_fork = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

    def after_fork_in_parent(self) -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, self.mask_before_fork)

    def forget_in_child(self) -> None:
        """After a fork: the child has no watchman thread, and SIGTERM must end it as usual."""
        self.done = True
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        except ValueError:  # forked from another thread: signal settings stay with the main thread
            pass
        signal.pthread_sigmask(signal.SIG_SETMASK, self.mask_before_fork)


# -- running the script ---------------------------------------------------------------------


def _settings_from(args: argparse.Namespace) -> dict:
    return {name: getattr(args, name) for name in DEFAULTS}


def _parse(argv: list) -> tuple:
    script_args: list = []
    if "--" in argv:
        split = argv.index("--")
        argv, script_args = argv[:split], argv[split + 1 :]
    parser = argparse.ArgumentParser(prog="cwm_tracer.py", description=__doc__.split("\n")[0])
    parser.add_argument("script")
    parser.add_argument("--out", required=True, help="the trace file to write")
    parser.add_argument("--meta", required=True, help="the JSON metadata file to write")
    parser.add_argument("--entry", default=None, help="function to trace (default: the marked one, else the module)")
    parser.add_argument("--max-frames", type=int, default=DEFAULTS["max_frames"], help="0 = no cap")
    parser.add_argument("--max-bytes", type=int, default=DEFAULTS["max_bytes"], help="0 = no cap")
    parser.add_argument("--max-seconds", type=float, default=DEFAULTS["max_seconds"], help="0 = no cap")
    parser.add_argument("--max-value-chars", type=int, default=DEFAULTS["max_value_chars"], help="0 = no cap")
    args = parser.parse_args(argv)
    for name in DEFAULTS:
        if getattr(args, name) < 0:
            parser.error("--%s must be 0 (no cap) or more" % name.replace("_", "-"))
    return args, script_args


def _choose_entry(tree, lines: list, requested: str | None) -> tuple:
    """(name, set of first lines) of the entry function; lines None for the module."""
    if requested:
        found = named_functions(tree, requested) if tree is not None else []
        if not found:
            raise LookupError("no function named %r in the script" % requested)
        return found[0][0], {line for _, line in found}, "option"
    marked = marked_functions(tree, lines) if tree is not None else []
    if marked:
        return marked[0][0], {marked[0][1]}, "marker"
    return "<module>", None, "module"


def _callable_entry(namespace: dict, name: str, first_lines) -> types.FunctionType | None:
    """The entry function if the script defined it at top level and it takes no arguments.

    A marked function the script never called (the client's examples) is
    called once after the script ends, as the client's tracer does.
    """
    function = namespace.get(name)
    if first_lines is None or not isinstance(function, types.FunctionType):
        return None
    code = function.__code__
    if code.co_firstlineno not in first_lines:
        return None
    required = (
        code.co_argcount
        + code.co_kwonlyargcount
        - len(function.__defaults__ or ())
        - len(function.__kwdefaults__ or {})
    )
    return function if required == 0 else None


def _write_json(path: str, data: dict) -> None:
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.replace(temporary, path)


def _script_traceback(tb, filename: str):
    """The traceback from the script's first frame on, as a plain run prints it."""
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    return tb


def main(argv: list) -> int:
    args, script_args = _parse(argv)
    script = args.script
    args.meta = os.path.abspath(args.meta)  # the script may change the working folder
    # ``python SCRIPT`` names the file by its absolute path from 3.9 on, as given before.
    filename = os.path.abspath(script) if sys.version_info >= (3, 9) else script
    settings = _settings_from(args)
    meta = {
        "tracer": "cwm_tracer",
        "format_version": FORMAT_VERSION,
        "complete": False,
        "script": filename,
        "python": sys.version.split()[0],
        "settings": settings,
    }
    _write_json(args.meta, meta)
    try:
        text = read_source(script)
    except OSError as error:
        sys.stderr.write("cwm_tracer: cannot open %s: %s\n" % (script, error))
        return 2
    except SyntaxError as error:  # undecodable text: python reports it as a SyntaxError too
        error.__suppress_context__ = True
        sys.excepthook(type(error), error.with_traceback(None), None)
        return 1
    lines = source_lines(text)
    try:
        tree = ast.parse(text, filename)
    except (SyntaxError, ValueError):
        tree = None
    try:
        entry_name, entry_lines, entry_source = _choose_entry(tree, lines, args.entry)
    except LookupError as error:
        meta["error"] = str(error)
        _write_json(args.meta, meta)
        sys.stderr.write("cwm_tracer: %s: %s\n" % (script, error))
        return 2
    meta.update(
        {"entry": entry_name, "entry_source": entry_source, "entry_lines": sorted(entry_lines) if entry_lines else [1]}
    )

    writer = TraceWriter(args.out, args.max_frames, args.max_bytes)
    tracer = Tracer(filename, lines, (entry_name, entry_lines), writer, args.max_value_chars, args.max_seconds)
    module = types.ModuleType("__main__")
    module.__dict__.update(
        {
            "__file__": filename,
            "__cached__": None,
            "__builtins__": builtins,
            "__spec__": None,
            "__loader__": importlib.machinery.SourceFileLoader("__main__", filename),
            "__package__": None,
        }
    )
    sys.modules["__main__"] = module
    # the tracer's own frames are no longer __main__'s: a warning whose stacklevel reaches past the script
    # lands on them and is filtered as in a plain run (where it reaches no frame), not shown as __main__'s
    globals()["__name__"] = "cwm_tracer"
    sys.argv = [script] + script_args
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    watchman = Watchman(tracer, writer, meta, args.meta)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=tracer.forget_in_child)
        os.register_at_fork(
            before=watchman.before_fork,
            after_in_parent=watchman.after_fork_in_parent,
            after_in_child=watchman.forget_in_child,
        )
    watchman.start()

    started = time.perf_counter()
    outcome: BaseException | None = None
    try:
        code = compile(text, filename, "exec")
        sys.settrace(tracer.global_trace())
        try:
            exec(code, module.__dict__)
            uncalled = None if tracer.started else _callable_entry(module.__dict__, entry_name, entry_lines)
            if uncalled is not None:
                meta["entry_called_by_tracer"] = True
                uncalled()
        finally:
            sys.settrace(None)
    except BaseException as error:  # noqa: B036 - the script's own outcome, reported like python does
        outcome = error
    watchman.stop()
    if os.getpid() != writer.pid:  # a forked child that ran on to the end: the parent reports
        return _exit_like_python(outcome, filename)
    if watchman.killed.is_set():  # the script outlived its SIGTERM: the trace and META were written then
        return _exit_like_python(outcome, filename)

    tracing_seconds = (time.perf_counter() - tracer.start_time) if tracer.started else 0.0
    closing = None
    if tracer.stopped_by_time:
        closing = NOTE_PREFIX + "tracing stopped after %.1f s (max_seconds=%g); the script ran on untraced]" % (
            tracing_seconds,
            args.max_seconds,
        )
        writer._note_cap("max_seconds")
    elif tracer.error:
        closing = NOTE_PREFIX + "tracing stopped by an internal error: %s]" % tracer.error
    writer.finish(closing)
    kept_tail = len(writer.tail)
    meta.update(
        {
            "complete": True,
            "entry_reached": tracer.started,
            "entry_finished": tracer.ended,
            "frames_total": writer.total,
            "frames_written": writer.head_count + kept_tail,
            "frames_dropped": writer.dropped,
            "first_kept": [1, writer.head_count] if writer.head_count else None,
            "last_kept": [writer.total - kept_tail + 1, writer.total] if kept_tail else None,
            "caps_fired": writer.caps_fired,
            "stopped_by_time": tracer.stopped_by_time,
            "values_cut": tracer.renderer.cut_count,
            "tracer_error": tracer.error,
            "bytes": writer.bytes_written,
            "wall_seconds": round(time.perf_counter() - started, 3),
            "tracing_seconds": round(tracing_seconds, 3),
            "raised": outcome is not None and not isinstance(outcome, SystemExit),
            "exception": None
            if outcome is None or isinstance(outcome, SystemExit)
            else "%s: %s" % (type(outcome).__name__, outcome),
            "exit_code": _exit_code(outcome),
        }
    )
    _write_json(args.meta, meta)
    return _exit_like_python(outcome, filename)


def _exit_code(outcome: BaseException | None) -> int:
    if outcome is None:
        return 0
    if isinstance(outcome, SystemExit):
        code = outcome.code
        return 0 if code is None else code if isinstance(code, int) else 1
    return 130 if isinstance(outcome, KeyboardInterrupt) else 1


def _exit_like_python(outcome: BaseException | None, filename: str) -> int:
    if outcome is None:
        return 0
    if isinstance(outcome, SystemExit):
        raise outcome  # python prints a non-int code and picks the status itself
    tb = _script_traceback(outcome.__traceback__, filename)
    sys.excepthook(type(outcome), outcome.with_traceback(tb), tb)
    return _exit_code(outcome)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

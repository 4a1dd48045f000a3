"""Read the last exception out of a script's output, in either shape the recorded outputs use.

Two shapes exist in the wild (see ANNOTATION_TASK.md):

* AIDE's plain Python tracebacks, where the script is ``runfile.py``
  (``File "runfile.py", line 12, in <module>``; our own runs print the
  absolute path of ``runfile.py``), including SyntaxError's frame without a
  function and Python 3.11+ caret lines;
* IPython's tracebacks, as aira-dojo's Jupyter interpreter records them
  (``Cell In[1], line 12``, ``----> 12 source`` arrows, a line of dashes,
  library frames as ``File /path/x.py:3761, in f(...)``), with or without ANSI
  colours, and AIDE's IPython mode (``File runfile.py:12, in main()``). Older
  IPython headers (``Input In [1], in <cell line: 3>()`` and
  ``<ipython-input-1-...> in <module>``) are read too.

aira-dojo stores the traceback as a list of strings without newlines between
them; the dataset joins such lists with "", so headers can be glued to the
next line and are split apart before parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from runner.spec import SCRIPT_NAME
from workspace.records import ErrorInfo

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")

# Text that starts a new line even when a joined list glued it to the previous one.
_GLUED = re.compile(
    r"(?<=Traceback \(most recent call last\))(?=[^\n:])"
    r"|(?<=[^\n])(?=Execution time: |TimeoutError: Execution exceeded the time limit)"
)

_PLAIN_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?\s*$')
_CELL_FRAME = re.compile(r"^\s*Cell (?P<file>In ?\[\d*\]), line (?P<line>\d+)(?:, in (?P<func>.+))?\s*$")
_INPUT_FRAME = re.compile(r"^\s*Input (?P<file>In ?\[\d*\]), in (?P<func>.+?)\s*$")
_OLD_CELL_FRAME = re.compile(r"^\s*(?P<file><ipython-input-[^>]*>) in (?P<func>.+?)\s*$")
_IPY_FILE_FRAME = re.compile(r"^\s*File (?P<file>\S.*?):(?P<line>\d+)(?:, in (?P<func>.+))?\s*$")
_OLD_FILE_FRAME = re.compile(r"^\s*(?P<file>\S+\.py) in (?P<func>.+?)\s*$")
# (pattern, function when the header names none, may start a traceback on its own).
# A plain frame without a function is a SyntaxError's, while IPython leaves
# "in <module>" out of top-level frames. IPython's library-file headers look
# like ordinary output ("File data.csv:12"), so they only start a traceback
# right after its "Traceback (most recent call last)" header line.
_FRAME_PATTERNS = (
    (_PLAIN_FRAME, None, True),
    (_CELL_FRAME, "<module>", True),
    (_INPUT_FRAME, "<module>", True),
    (_OLD_CELL_FRAME, "<module>", True),
    (_IPY_FILE_FRAME, "<module>", False),
    (_OLD_FILE_FRAME, "<module>", False),
)
_HEADER = "Traceback (most recent call last)"
# Python's own lines between the tracebacks of chained exceptions: the one after them is the real one.
_CHAINED = ("During handling of the above exception", "The above exception was the direct cause")

_ARROW = re.compile(r"^\s*-*-> ?(?P<line>\d+)(?: (?P<text>.*))?$")
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?::(?: (?P<message>.*))?)?\s*$")
_TIMEOUT = re.compile(r"^TimeoutError: (?P<message>Execution exceeded the time limit.*?)\s*$")


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour and cursor codes."""
    return _ANSI.sub("", text)


def parse_error(output: str, code: str | None = None) -> ErrorInfo | None:
    """The last exception in ``output``, or None if it shows no traceback.

    ``lineno``, ``line_text`` and ``function`` describe the innermost frame
    of the script (library frames are skipped); with ``code`` the line is
    read from the row's code rather than from the traceback.
    """
    lines = _normalise(output).split("\n")
    found: _Block | None = None
    block: _Block | None = None
    after_header = False
    chained = False  # a chained-exception line came after ``found``
    message_follows = False  # ``found`` named its exception with an empty first line: the message is below
    for line in lines:
        timeout = _TIMEOUT.match(line)
        if timeout:
            # the interpreters' own time-limit line, after an interrupted run's traceback
            found, block = _Block(exc_type="TimeoutError", message=timeout.group("message")), None
            continue
        frame, starts_alone = _frame(line)
        if frame is not None and (block is not None or starts_alone or after_header):
            block = block or _Block()
            block.frames.append(frame)
            continue
        if line.strip():
            after_header = _HEADER in line
            chained = chained or line.startswith(_CHAINED)
            if message_follows and found is not None and block is None and not after_header:
                found.message, message_follows = line.strip(), False
        if block is None:
            continue
        if _read_frame_body(block, line):
            continue
        exception = _EXCEPTION.match(line)
        if exception:
            block.exc_type = exception.group("type")
            block.message = (exception.group("message") or "").strip()
            if found is not None and not chained and found.has_script_frame() and not block.has_script_frame():
                # a traceback quoted inside the message of the script's own exception (scikit-learn's
                # "All the 5 fits failed ... Traceback ..."): the script's exception stays, this is its cause
                found.cause = f"{block.exc_type}: {block.message}" if block.message else block.exc_type
            else:
                found, chained, message_follows = block, False, not block.message
            block = None
    return None if found is None else found.to_error_info(code)


@dataclass
class _Frame:
    file: str
    lineno: int | None
    function: str | None
    plain: bool  # Python's own shape: the source follows on the next indented line
    source: str | None = None  # the frame's line as the traceback printed it


@dataclass
class _Block:
    frames: list[_Frame] = field(default_factory=list)
    exc_type: str = ""
    message: str = ""
    cause: str | None = None

    def has_script_frame(self) -> bool:
        return any(_is_script(f.file) for f in self.frames)

    def to_error_info(self, code: str | None) -> ErrorInfo:
        info = ErrorInfo(
            exc_type=self.exc_type,
            message=self.message,
            frames=[(f.file, f.lineno or 0, f.function or "") for f in self.frames],
            cause=self.cause,
        )
        script_frames = [f for f in self.frames if _is_script(f.file)]
        if script_frames:
            innermost = script_frames[-1]
            info.function = innermost.function
            info.lineno, info.line_text = _locate(innermost, code)
        return info


def _normalise(output: str) -> str:
    text = strip_ansi(output).replace("\r\n", "\n").replace("\r", "\n")
    return _GLUED.sub("\n", text)


def _frame(line: str) -> tuple[_Frame | None, bool]:
    """The frame a header line names, and whether that header may start a traceback on its own."""
    for pattern, unnamed, starts_alone in _FRAME_PATTERNS:
        match = pattern.match(line)
        if match:
            groups = match.groupdict()
            lineno = int(groups["line"]) if groups.get("line") else None
            function = unnamed if groups.get("func") is None else _function_name(groups["func"])
            return _Frame(groups["file"], lineno, function, pattern is _PLAIN_FRAME), starts_alone
    return None, False


def _read_frame_body(block: _Block, line: str) -> bool:
    """Read a line inside a traceback; False only for the line that names the exception.

    Arrow lines (IPython) and the first indented line after a plain header
    give the frame's printed source; context, caret and other lines are skipped.
    """
    frame = block.frames[-1]
    arrow = _ARROW.match(line)
    if arrow:
        if frame.lineno is None or frame.lineno == int(arrow.group("line")):
            frame.lineno = int(arrow.group("line"))
            frame.source = (arrow.group("text") or "").strip()
        return True
    if not line.strip() or line[0].isspace():
        if frame.plain and frame.source is None and line.strip() and not set(line.strip()) <= set("^~"):
            frame.source = line.strip()
        return True
    return not _EXCEPTION.match(line)


def _function_name(raw: str) -> str:
    """``"main()"`` -> ``"main"``, ``"Model.fit(self, X)"`` -> ``"fit"``, ``"<cell line: 3>()"`` -> ``"<module>"``."""
    name = raw.strip()
    if name.startswith("<cell line"):
        return "<module>"
    if name.startswith("<"):
        return name
    return name.split("(", 1)[0].rsplit(".", 1)[-1]


def _is_script(file: str) -> bool:
    if file.startswith(("In[", "In [", "<ipython-input")):
        return True
    return file.replace("\\", "/").rsplit("/", 1)[-1] == SCRIPT_NAME


def _locate(frame: _Frame, code: str | None) -> tuple[int | None, str | None]:
    """The frame's line number and source, mapped onto ``code`` when it is given.

    If the printed source is not at that line of ``code`` but appears there
    exactly once, that place wins: the recorded output may come from a
    slightly shifted copy of the code.
    """
    lineno, printed = frame.lineno, frame.source or None
    if code is None:
        return lineno, printed
    code_lines = code.splitlines()
    at_line = code_lines[lineno - 1].strip() if lineno and 0 < lineno <= len(code_lines) else None
    if printed and at_line != printed:
        places = [i for i, text in enumerate(code_lines, 1) if text.strip() == printed]
        if len(places) == 1:
            return places[0], printed
    return lineno, at_line if at_line is not None else printed

"""Metadata pane: the row as the agent left it, with the recorded traceback highlighted."""

from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from runner.tracebacks import strip_ansi
from tui.keys import key_for
from tui.widgets.pane import Pane
from workspace.records import ErrorInfo

_MAX_OUTPUT_CHARS = 30_000  # the tail of a huge recorded output is the part that matters
_TRACEBACK_STARTS = ("Traceback (most recent call last)", "-----")


def _names_line(line: str, lineno: int) -> bool:
    """True for the traceback line that points at the script's failing line, in either shape."""
    return (
        re.search(rf'File "(?:[^"]*/)?runfile\.py", line {lineno}\b', line) is not None
        or re.search(rf"Cell In\[\d+\], line {lineno}\b", line) is not None
        or line.lstrip().startswith(f"----> {lineno} ")
    )


def description_text(path: Path | None) -> str:
    """The description.md to show, or one line saying why there is none."""
    if path is None:
        return "*No competition description: set `ui.mlebench_checkout` in the config to show description.md.*"
    if not path.is_file():
        return f"*No description.md at `{path}`.*"
    return path.read_text(encoding="utf-8", errors="replace")


class MetadataPane(Pane):
    PANE_ID = "metadata"
    TITLE = "metadata"
    HELP = (
        "The row as the agent recorded it: competition, plan, its own analysis, exec_time and "
        "the recorded output. The traceback is highlighted; {code.failing_line} puts the code editor on "
        "the failing line. Up, down and the page keys scroll."
    )
    COMPONENT_CLASSES = {"metadata--heading", "metadata--traceback", "metadata--failing-line"}

    DEFAULT_CSS = """
    MetadataPane .metadata--heading { text-style: bold; }
    MetadataPane .metadata--traceback { color: $error; }
    MetadataPane .metadata--failing-line { text-style: bold reverse; }
    MetadataPane #metadata-scroll { height: 1fr; }
    MetadataPane Static { width: 1fr; }
    MetadataPane Markdown { margin: 0; padding: 0; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="metadata-scroll"):
            yield Static(id="metadata-facts")
            yield Static(id="metadata-output")
            yield Markdown(id="metadata-description")

    def show(
        self,
        *,
        competition_id: str,
        exec_time: float | None,
        plan: str,
        analysis: str,
        output: str,
        error: ErrorInfo | None,
        description: Path | None,
    ) -> None:
        heading = self.get_component_rich_style("metadata--heading")
        facts = Text()
        for title, value in (
            ("competition", competition_id),
            ("exec_time", "unknown" if exec_time is None else f"{exec_time:.1f} s"),
            ("plan", plan),
            ("analysis", analysis),
        ):
            facts.append(f"{title}: ", style=heading)
            facts.append(f"{value.strip()}\n")
        failing = "none found" if error is None else f"{error.exc_type}: {error.message}"
        if error is not None and error.lineno:
            failing += f" at line {error.lineno} ({key_for(self, 'code.failing_line')}: go there)"
        facts.append("error: ", style=heading)
        facts.append(failing + "\n")
        facts.append("recorded output:", style=heading)
        self.query_one("#metadata-facts", Static).update(facts)
        self.query_one("#metadata-output", Static).update(self._output_text(output, error))
        markdown = self.query_one("#metadata-description", Markdown)
        markdown.update(description_text(description))

    def on_focus(self) -> None:
        # The scroll inside takes the arrows and page keys (it types nothing, so single-letter keys stay live).
        self.query_one("#metadata-scroll").focus()

    def _output_text(self, output: str, error: ErrorInfo | None) -> Text:
        plain = strip_ansi(output)
        text = Text()
        if len(plain) > _MAX_OUTPUT_CHARS:
            text.append(f"[first {len(plain) - _MAX_OUTPUT_CHARS} characters not shown]\n")
            plain = plain[-_MAX_OUTPUT_CHARS:]
        traceback_style = self.get_component_rich_style("metadata--traceback")
        failing_style = self.get_component_rich_style("metadata--failing-line")
        failing_lineno = error.lineno if error is not None else None
        in_traceback = False
        for line in plain.splitlines():
            if line.startswith(_TRACEBACK_STARTS):
                in_traceback = True
            style = traceback_style if in_traceback else ""
            if failing_lineno and _names_line(line, failing_lineno):
                style = failing_style
            text.append(line + "\n", style=style)
        return text

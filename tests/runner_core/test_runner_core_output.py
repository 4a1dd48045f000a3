"""The output capture: every byte to the log, whole characters to the listener, a bounded tail."""

from __future__ import annotations

import pytest

from runner.output_capture import TAIL_BYTES, OutputCapture

pytestmark = pytest.mark.timeout(30)


def test_a_character_split_across_chunks_reaches_the_listener_whole(tmp_path):
    seen: list[str] = []
    capture = OutputCapture(tmp_path / "output.log", seen.append)
    for chunk in (b"caf", b"\xc3", b"\xa9 ", b"\xe2\x82", b"\xac\r", b"\xff"):
        capture.feed(chunk)
    capture.close()
    assert seen == ["caf", "é ", "€\r", "\ufffd"]
    assert (tmp_path / "output.log").read_bytes() == b"caf\xc3\xa9 \xe2\x82\xac\r\xff"


def test_the_tail_keeps_only_the_last_64_kib(tmp_path):
    capture = OutputCapture(tmp_path / "output.log")
    lines = [f"line {i:07d}\n".encode() for i in range(100_000)]
    for line in lines:
        capture.feed(line)
    capture.close()
    everything = b"".join(lines)
    assert capture.tail.encode() == everything[-TAIL_BYTES:]
    assert (tmp_path / "output.log").stat().st_size == len(everything)

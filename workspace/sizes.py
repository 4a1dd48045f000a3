"""Sizes as people write them in settings: "16G", "512M", "1048576", or "80%" of this machine's memory."""

from __future__ import annotations

import re

import psutil

from workspace.errors import InputError

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_memory_limit(text: str, key: str = "run.memory_limit") -> int:
    """Bytes from "80%" (of this machine's memory), "16G", "512M", "1048576"; ``key`` names the setting in errors."""
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    percent = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", value)
    if percent:
        share = float(percent.group(1))
        if not 0 < share <= 100:
            raise InputError(f"{key}: {text!r} must be a share between 0% and 100%")
        return int(psutil.virtual_memory().total * share / 100)
    sized = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)", value)
    if not sized or float(sized.group(1)) <= 0:
        raise InputError(f"{key}: {text!r} is not a size like 16G, 512M or 80%")
    return int(float(sized.group(1)) * _UNITS[sized.group(2)])

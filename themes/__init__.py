"""The app's ``.tcss`` themes, one file per theme."""

from pathlib import Path

THEMES_DIR = Path(__file__).parent


def available_themes() -> list[str]:
    return sorted(p.stem for p in THEMES_DIR.glob("*.tcss"))

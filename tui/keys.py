"""The key a binding has now, by binding id, for help texts and messages ([ui.keys] may have remapped it)."""

from __future__ import annotations

import re

from textual.dom import DOMNode

from tui.bindings import ALL_BINDINGS


def key_for(node: DOMNode, binding_id: str) -> str:
    """How the app shows the key of ``binding_id`` on ``node``'s screen, as remapped; its default key if not live."""
    for active in node.screen.active_bindings.values():
        if active.binding.id == binding_id:
            return node.app.get_key_display(active.binding)
    binding = next(b for b in ALL_BINDINGS if b.id == binding_id)
    return binding.key_display or binding.key.split(",")[0]


BINDING_ID = re.compile(r"\{([a-z_]+\.[a-z_]+)\}")


def with_keys(node: DOMNode, text: str) -> str:
    """``text`` with each ``{binding.id}`` replaced by the key it has now (help texts name no fixed letter)."""
    return BINDING_ID.sub(lambda found: key_for(node, found.group(1)), text)

"""The command palette's provider: every action of the screen under it, as "group: verb"."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.bindings import palette_name


class ActionsProvider(Provider):
    def _commands(self) -> list[tuple[str, str, str, object]]:
        screen = self.screen
        seen: set[str] = set()
        found = []
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.id or binding.id in seen or binding.id == "app.palette" or not active.enabled:
                continue
            seen.add(binding.id)
            key = self.app.get_key_display(binding)
            found.append((palette_name(binding), f"{binding.description} ({key})", binding.action, active.node))
        return sorted(found)

    def _runner(self, action: str, node: object):
        return partial(self.app.call_later, self.app.run_action, action, node)

    async def discover(self) -> Hits:
        for name, help_text, action, node in self._commands():
            yield DiscoveryHit(name, self._runner(action, node), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action, node in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), self._runner(action, node), help=help_text)

"""Load untrusted YAML (items, schemes): safe types only, bounded size, no anchors or aliases.

``yaml.safe_load`` already refuses arbitrary Python objects, but aliases let a few hundred bytes
describe a structure with billions of nodes ("billion laughs" for YAML); nothing in our formats
needs them, so any alias is refused before it is resolved.
"""

from __future__ import annotations

from typing import Any

import yaml

from item_bank_sync.items.errors import ItemRejected

MAX_YAML_BYTES = 1024 * 1024


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.YAMLError(f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not accepted")
        return super().compose_node(parent, index)


def load_yaml(data: bytes, source: str, max_bytes: int = MAX_YAML_BYTES) -> Any:
    """Parse one YAML document; raise ItemRejected(source, "yaml", reason) on any problem."""
    if len(data) > max_bytes:
        raise ItemRejected(source, "file", f"is {len(data)} bytes, more than the {max_bytes} allowed")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ItemRejected(source, "file", f"is not UTF-8 (byte {exc.start})") from None
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ItemRejected(source, "yaml", f"malformed YAML: {exc}") from None

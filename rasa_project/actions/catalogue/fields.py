"""Typed readers for YAML values: each returns a checked value or raises a CatalogueError
that names the file and the field path ("kfz.yml: services[2].fee.amount_cents: ...")."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import yaml

from .model import CatalogueError, Text

T = TypeVar("T")

_IDENT = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PHONE = re.compile(r"\+?[0-9][0-9 /()-]*[0-9]")
_SIP_URI = re.compile(
    r"sips?:[A-Za-z0-9._~%!$&'*+=-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::[0-9]{1,5})?"
    r"(?:;[A-Za-z0-9._-]+(?:=[A-Za-z0-9._-]+)?)*"
)
_QUEUE = re.compile(r"[a-z][a-z0-9_-]*")
_SENTENCE_END = (".", "!", "?")


def describe(value: object) -> str:
    """A YAML value as an error message shows it: strings and numbers quoted as written."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


@dataclass(frozen=True)
class Node:
    """A YAML value with the file and field path it came from."""

    file: str
    path: str
    value: Any

    def error(self, message: str) -> CatalogueError:
        """A CatalogueError about this field."""
        where = f"{self.file}: {self.path}" if self.path else self.file
        return CatalogueError(f"{where}: {message}")

    def key(self, name: str, value: Any) -> Node:
        """The child node of a mapping key."""
        return Node(self.file, f"{self.path}.{name}" if self.path else name, value)

    def item(self, index: int, value: Any) -> Node:
        """The child node of a list item."""
        return Node(self.file, f"{self.path}[{index}]", value)


def fields(node: Node, required: Iterable[str], optional: Iterable[str] = ()) -> dict[str, Node]:
    """The keys of a mapping as nodes; unknown keys and missing required keys are errors.
    An optional key with a null value counts as absent."""
    if not isinstance(node.value, dict):
        raise node.error(f"expected a mapping, got {describe(node.value)}")
    required = tuple(required)
    allowed = (*required, *optional)
    for name in node.value:
        if name not in allowed:
            expected = ", ".join(sorted(allowed))
            raise node.key(str(name), None).error(f"unknown key; expected one of {expected}")
    for name in required:
        if name not in node.value or node.value[name] is None:
            raise node.key(name, None).error("missing required field")
    return {name: node.key(name, value) for name, value in node.value.items() if value is not None}


def items(node: Node, read: Callable[[Node], T], *, allow_empty: bool = False) -> tuple[T, ...]:
    """The items of a list, each read by `read`."""
    if not isinstance(node.value, list):
        raise node.error(f"expected a list, got {describe(node.value)}")
    if not node.value and not allow_empty:
        raise node.error("expected at least one entry, got an empty list")
    return tuple(read(node.item(i, value)) for i, value in enumerate(node.value))


def string(node: Node) -> str:
    """A non-empty string without surrounding blanks."""
    if not isinstance(node.value, str):
        raise node.error(f"expected text, got {describe(node.value)}")
    value = " ".join(node.value.split())
    if not value:
        raise node.error("expected text, got an empty string")
    return value


def _one_text(node: Node, sentence: bool) -> str:
    value = string(node)
    if sentence and not value.endswith(_SENTENCE_END):
        raise node.error(f"expected a sentence ending with '.', '!' or '?', got {value!r}")
    return value


def text(node: Node, *, sentence: bool = False) -> Text:
    """German text, or a mapping {de: ..., en: ...}; sentences must end with . ! or ?."""
    if isinstance(node.value, dict):
        parts = fields(node, ("de",), ("en",))
        english = _one_text(parts["en"], sentence) if "en" in parts else None
        return Text(_one_text(parts["de"], sentence), english)
    return Text(_one_text(node, sentence))


def sentence(node: Node) -> Text:
    """A Text that must be whole sentences (spoken on their own)."""
    return text(node, sentence=True)


def ident(node: Node) -> str:
    """A snake_case id such as 'kfz_zulassung'."""
    value = string(node)
    if not _IDENT.fullmatch(value):
        raise node.error(f"expected a snake_case id such as 'kfz_zulassung', got {value!r}")
    return value


def choice(node: Node, options: Iterable[str]) -> str:
    """One of the allowed words."""
    options = tuple(options)
    if node.value not in options:
        raise node.error(f"expected one of {', '.join(options)}, got {describe(node.value)}")
    return str(node.value)


def whole_number(node: Node, what: str, *, minimum: int = 0) -> int:
    """An integer >= minimum (YAML true/false are not numbers)."""
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int):
        raise node.error(f"expected a whole number of {what}, got {describe(value)}")
    if value < minimum:
        raise node.error(f"expected at least {minimum} {what}, got {value}")
    return value


def cents(node: Node) -> int:
    """An amount in euro cents, e.g. 3700 for 37 Euro."""
    return whole_number(node, "cents")


def true_flag(node: Node) -> bool:
    """A flag that can only be written as `true` (leave the key out otherwise)."""
    if node.value is not True:
        raise node.error(f"expected true (leave the key out otherwise), got {describe(node.value)}")
    return True


def postcode(node: Node) -> str:
    """A German postcode: five digits (an unquoted 51373 is accepted)."""
    value = node.value
    if isinstance(value, int) and not isinstance(value, bool) and 10000 <= value <= 99999:
        return str(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]{5}", value.strip()):
        return value.strip()
    raise node.error(f"expected a postcode of five digits such as '51373', got {describe(value)}")


def phone(node: Node) -> str:
    """A phone number of digits, blanks, '/', '-', '(' and ')' with at least six digits."""
    value = string(node) if isinstance(node.value, str) else None
    if value is None or not _PHONE.fullmatch(value) or sum(c.isdigit() for c in value) < 6:
        raise node.error(
            f"expected a phone number such as '0214 406-0', got {describe(node.value)}"
        )
    return value


def email(node: Node) -> str:
    """An e-mail address."""
    value = string(node) if isinstance(node.value, str) else None
    if value is None or not _EMAIL.fullmatch(value):
        raise node.error(f"expected an e-mail address, got {describe(node.value)}")
    return value


def url(node: Node) -> str:
    """An http(s) address with a host name."""
    value = node.value if isinstance(node.value, str) else ""
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or "." not in (parts.hostname or "")
        or any(ch.isspace() for ch in value)
    ):
        raise node.error(f"expected an https:// address, got {describe(node.value)}")
    return value


def transfer_target(node: Node) -> str:
    """A SIP URI ('sip:buergerbuero@pbx.example') or a queue name ('buergerbuero')."""
    value = node.value
    if isinstance(value, str) and (_SIP_URI.fullmatch(value) or _QUEUE.fullmatch(value)):
        return value
    raise node.error(
        "expected a SIP URI such as 'sip:buergerbuero@pbx.leverkusen.local' or a queue name, "
        f"got {describe(value)}"
    )


def _repeated_key(node: Any, seen: set[int]) -> Any:
    """The first key node written twice in one mapping of the composed YAML, else None.
    (PyYAML's loader silently keeps the last of two equal keys.)"""
    if id(node) in seen:
        return None  # an alias of a node already checked
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: set[tuple[str, str]] = set()
        for key_node, value_node in node.value:
            key = (key_node.tag, str(key_node.value))
            if key in keys:
                return key_node
            keys.add(key)
            found = _repeated_key(value_node, seen)
            if found is not None:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found = _repeated_key(item, seen)
            if found is not None:
                return found
    return None


def parse_yaml(name: str, source: str) -> Any:
    """The YAML document in `source`; syntax errors and repeated keys name the file and line."""
    try:
        repeated = _repeated_key(yaml.compose(source, Loader=yaml.SafeLoader), set())
        if repeated is not None:
            line = repeated.start_mark.line + 1
            raise CatalogueError(
                f"{name}: line {line}: invalid YAML: key {repeated.value!r} is written twice"
            )
        return yaml.safe_load(source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise CatalogueError(f"{name}: {line}invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{name}: invalid YAML: {exc}") from None

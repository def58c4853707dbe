"""Reading ``.tf`` files with python-hcl2 into plain blocks and attributes with line numbers.

python-hcl2's dict output has no line numbers, so this walks its rule tree instead: blocks and
attributes come from the tree (with the line lark recorded), and each attribute's value is the
tree's own serialization of its expression. That serialization keeps HCL source form: quoted
strings stay quoted (``'"main"'``), bare expressions are wrapped (``'${sym_secrets.this.id}'``),
lists and objects become Python lists and dicts of the same. ``expressions.py`` reads that form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2.rules.base import AttributeRule, BlockRule
from hcl2.utils import SerializationOptions
from lark.exceptions import UnexpectedInput

#: Heredocs become ordinary quoted strings, comments are dropped: values only.
_VALUE_OPTIONS = SerializationOptions(with_comments=False, preserve_heredocs=False)


class HclSyntaxError(Exception):
    """A file python-hcl2 could not parse."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")


@dataclass(frozen=True)
class RawAttribute:
    """``name = value`` with the value in python-hcl2's serialized form."""

    name: str
    value: Any
    line: int | None


@dataclass
class RawBody:
    """The inside of a block. ``duplicates`` holds attributes written twice (the later ones)."""

    attributes: dict[str, RawAttribute] = field(default_factory=dict)
    blocks: list[RawBlock] = field(default_factory=list)
    duplicates: list[RawAttribute] = field(default_factory=list)

    def blocks_named(self, type_: str) -> list[RawBlock]:
        return [block for block in self.blocks if block.type == type_]


@dataclass
class RawBlock:
    """``type "label" "label" { body }`` as written in ``file`` at ``line``."""

    type: str
    labels: tuple[str, ...]
    body: RawBody
    file: str
    line: int | None


def _line(node: object) -> int | None:
    meta = getattr(node, "_meta", None)
    line = getattr(meta, "line", None)
    return line if isinstance(line, int) else None


def _label(node: Any) -> str:
    text = str(node.serialize())
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def _body(node: Any, file: str) -> RawBody:
    body = RawBody()
    for child in node.children:
        if isinstance(child, BlockRule):
            labels = [_label(label) for label in child.labels]
            body.blocks.append(
                RawBlock(labels[0], tuple(labels[1:]), _body(child.body, file), file, _line(child))
            )
        elif isinstance(child, AttributeRule):
            name = str(child.identifier.serialize(_VALUE_OPTIONS))
            attribute = RawAttribute(name, child.expression.serialize(_VALUE_OPTIONS), _line(child))
            if name in body.attributes:
                body.duplicates.append(attribute)
            else:
                body.attributes[name] = attribute
    return body


def parse_text(text: str, file: str) -> RawBody:
    """Parse HCL ``text`` (named ``file`` in messages) into its top-level body."""
    try:
        tree = hcl2.parses(text, discard_comments=True)
    except UnexpectedInput as error:
        first_line = str(error).splitlines()[0] if str(error) else "syntax error"
        raise HclSyntaxError(file, getattr(error, "line", None), first_line) from error
    except Exception as error:  # python-hcl2 raises bare RuntimeErrors for some inputs
        raise HclSyntaxError(file, None, f"python-hcl2 could not read it: {error}") from error
    return _body(tree.body, file)


def parse_file(path: Path, display: str) -> RawBody:
    """Parse the ``.tf`` file at ``path``; ``display`` is how messages name it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise HclSyntaxError(display, None, f"cannot read the file: {error}") from error
    return parse_text(text, display)

"""The subset of HCL expressions a ``sym_*`` configuration uses, parsed into a small tree.

Input is python-hcl2's serialized value form (see ``hcl.py``). Supported: literals, quoted
templates with ``${...}`` interpolation, lists, objects, traversals (``sym_target.x.id``,
``local.m["k"]``, ``x[0]``) and function calls. Anything else (operators, conditionals, ``for``
expressions, ``%{`` directives, splats) becomes ``Unsupported``, which evaluates to an unknown
value: fine where jitflow does not need it, a clear error where it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Literal:
    value: str | int | float | bool | None


@dataclass(frozen=True)
class Template:
    """A quoted string with interpolations; ``parts`` alternate text and expressions."""

    parts: tuple[str | Expr, ...]
    text: str


@dataclass(frozen=True)
class Index:
    """``[expr]`` after a traversal root (``.0`` is parsed as ``Index(Literal(0))``)."""

    key: Expr


@dataclass(frozen=True)
class Traversal:
    """``root.attr.attr[index]``; ``text`` is the source, for messages."""

    root: str
    steps: tuple[str | Index, ...]
    text: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    text: str


@dataclass(frozen=True)
class ListExpr:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class ObjectExpr:
    items: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True)
class Unsupported:
    text: str
    reason: str


Expr = Literal | Template | Traversal | Call | ListExpr | ObjectExpr | Unsupported

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_IDENT_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_IDENT_CHARS = _IDENT_START + "0123456789-"


class _NotSupported(Exception):
    """Raised inside the parser when the expression leaves the supported subset."""


def to_expr(value: Any) -> Expr:
    """Turn one serialized python-hcl2 value into an expression tree."""
    if value is None or isinstance(value, bool | int | float):
        return Literal(value)
    if isinstance(value, list):
        return ListExpr(tuple(to_expr(item) for item in value))
    if isinstance(value, dict):
        return _object(value)
    if isinstance(value, str):
        return _string(value)
    return Unsupported(repr(value), f"unexpected value of type {type(value).__name__}")


def _object(value: dict[str, Any]) -> Expr:
    items: list[tuple[str, Expr]] = []
    for raw_key, raw_item in value.items():
        if raw_key.startswith("__") and raw_key.endswith("__"):
            continue  # python-hcl2 markers such as __is_block__
        key_expr = _string(raw_key) if raw_key.startswith('"') else Literal(raw_key)
        if not isinstance(key_expr, Literal) or not isinstance(key_expr.value, str):
            return Unsupported(str(value), f"computed object key {raw_key}")
        items.append((key_expr.value, to_expr(raw_item)))
    return ObjectExpr(tuple(items))


def _string(value: str) -> Expr:
    try:
        if value.startswith('"'):
            parser = _Parser(value)
            parser.expect('"')
            expr = parser.template()
        elif value.startswith("${") and value.endswith("}"):
            parser = _Parser(value[2:-1])
            expr = parser.expression()
        else:
            return Unsupported(value, "not an HCL expression python-hcl2 produces")
        parser.skip_space()
        if not parser.at_end():
            raise _NotSupported(f"unexpected {parser.rest()[:20]!r}")
    except _NotSupported as error:
        return Unsupported(_source(value), str(error))
    return expr


def _source(value: str) -> str:
    """How an expression looked in the .tf file, for messages (``${x}`` -> ``x``)."""
    return value[2:-1] if value.startswith("${") and value.endswith("}") else value


class _Parser:
    """Recursive descent over the text of one expression or quoted template."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def rest(self) -> str:
        return self.text[self.pos :]

    def peek(self, count: int = 1) -> str:
        return self.text[self.pos : self.pos + count]

    def expect(self, token: str) -> None:
        if self.peek(len(token)) != token:
            found = self.peek(10) or "end of expression"
            raise _NotSupported(f"expected {token!r}, found {found!r}")
        self.pos += len(token)

    def skip_space(self) -> None:
        while not self.at_end() and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def expression(self) -> Expr:
        self.skip_space()
        char = self.peek()
        if char == '"':
            self.pos += 1
            return self.template()
        if char == "[":
            return self.list_expr()
        if char == "{":
            return self.object_expr()
        if char == "(":
            self.pos += 1
            inner = self.expression()
            self.skip_space()
            self.expect(")")
            return inner
        if char.isdigit() or (char == "-" and self.peek(2)[-1:].isdigit()):
            return self.number()
        if char and char in _IDENT_START:
            return self.name_expression()
        raise _NotSupported(f"unexpected {self.rest()[:20]!r}")

    def number(self) -> Literal:
        start = self.pos
        if self.peek() == "-":
            self.pos += 1
        while not self.at_end() and (self.text[self.pos].isdigit() or self.text[self.pos] in ".eE"):
            self.pos += 1
        text = self.text[start : self.pos]
        try:
            return Literal(int(text))
        except ValueError:
            try:
                return Literal(float(text))
            except ValueError as error:
                raise _NotSupported(f"malformed number {text!r}") from error

    def identifier(self) -> str:
        start = self.pos
        if self.peek() not in _IDENT_START or self.at_end():
            raise _NotSupported(f"expected a name, found {self.rest()[:20]!r}")
        while not self.at_end() and self.text[self.pos] in _IDENT_CHARS:
            self.pos += 1
        return self.text[start : self.pos]

    def name_expression(self) -> Expr:
        start = self.pos
        name = self.identifier()
        if name in ("true", "false"):
            return Literal(name == "true")
        if name == "null":
            return Literal(None)
        if name == "for":
            raise _NotSupported("for expressions")
        self.skip_space()
        if self.peek() == "(":
            return self.call(name, start)
        steps: list[str | Index] = []
        while True:
            if self.peek() == "." and self.peek(2) != ".*":
                self.pos += 1
                if self.peek().isdigit():
                    digits_start = self.pos
                    while self.peek().isdigit():
                        self.pos += 1
                    steps.append(Index(Literal(int(self.text[digits_start : self.pos]))))
                else:
                    steps.append(self.identifier())
            elif self.peek() == "[":
                if self.peek(3) == "[*]":
                    raise _NotSupported("splat expressions")
                self.pos += 1
                key = self.expression()
                self.skip_space()
                self.expect("]")
                steps.append(Index(key))
            elif self.peek(2) == ".*":
                raise _NotSupported("splat expressions")
            else:
                break
        return Traversal(name, tuple(steps), self.text[start : self.pos])

    def call(self, name: str, start: int) -> Call:
        self.expect("(")
        args: list[Expr] = []
        self.skip_space()
        while self.peek() != ")":
            args.append(self.expression())
            self.skip_space()
            if self.peek(3) == "...":
                raise _NotSupported("argument expansion")
            if self.peek() == ",":
                self.pos += 1
                self.skip_space()
            elif self.peek() != ")":
                raise _NotSupported(f"unexpected {self.rest()[:20]!r} in call to {name}")
        self.pos += 1
        return Call(name, tuple(args), self.text[start : self.pos])

    def list_expr(self) -> ListExpr:
        self.expect("[")
        items: list[Expr] = []
        self.skip_space()
        while self.peek() != "]":
            items.append(self.expression())
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
                self.skip_space()
            elif self.peek() != "]":
                raise _NotSupported(f"unexpected {self.rest()[:20]!r} in a list")
        self.pos += 1
        return ListExpr(tuple(items))

    def object_expr(self) -> ObjectExpr:
        self.expect("{")
        items: list[tuple[str, Expr]] = []
        self.skip_space()
        while self.peek() != "}":
            if self.peek() == '"':
                self.pos += 1
                key = self.template()
                if not isinstance(key, Literal) or not isinstance(key.value, str):
                    raise _NotSupported("computed object keys")
                name = key.value
            else:
                name = self.identifier()
            self.skip_space()
            if self.peek() not in ("=", ":"):
                raise _NotSupported(f"expected '=' after object key {name!r}")
            self.pos += 1
            items.append((name, self.expression()))
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
                self.skip_space()
            elif self.peek() != "}" and self.text[self.pos - 1] not in "\n":
                raise _NotSupported(f"unexpected {self.rest()[:20]!r} in an object")
        self.pos += 1
        return ObjectExpr(tuple(items))

    def template(self) -> Expr:
        """The rest of a quoted string, after its opening quote, up to the closing one."""
        start = self.pos - 1
        parts: list[str | Expr] = []
        text: list[str] = []
        while True:
            if self.at_end():
                raise _NotSupported("unterminated string")
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                break
            if char == "\\":
                text.append(self.escape())
            elif self.peek(3) in ("$${", "%%{"):
                text.append(self.peek(3)[1:])
                self.pos += 3
            elif self.peek(2) == "${":
                self.pos += 2
                if self.peek() == "~":
                    self.pos += 1
                if text:
                    parts.append("".join(text))
                    text = []
                parts.append(self.expression())
                self.skip_space()
                if self.peek() == "~":
                    self.pos += 1
                self.expect("}")
            elif self.peek(2) == "%{":
                raise _NotSupported("template directives (%{ ... })")
            else:
                text.append(char)
                self.pos += 1
        if text:
            parts.append("".join(text))
        if all(isinstance(part, str) for part in parts):
            return Literal("".join(str(part) for part in parts))
        return Template(tuple(parts), self.text[start : self.pos])

    def escape(self) -> str:
        marker = self.peek(2)[1:]
        if marker in _ESCAPES:
            self.pos += 2
            return _ESCAPES[marker]
        width = {"u": 4, "U": 8}.get(marker)
        if width:
            digits = self.text[self.pos + 2 : self.pos + 2 + width]
            try:
                char = chr(int(digits, 16))
            except ValueError as error:
                raise _NotSupported(f"malformed escape \\{marker}{digits}") from error
            self.pos += 2 + width
            return char
        raise _NotSupported(f"unknown escape \\{marker}")

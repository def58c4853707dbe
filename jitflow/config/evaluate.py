"""Evaluating attribute values: references, locals, variables, interpolation and a few functions.

Values are plain Python data plus four markers:

- ``ResourceId``: what ``sym_target.x.id`` evaluates to. jitflow has no Sym server to assign
  UUIDs, so an id is the resource itself; the builders check its type and use its key.
- ``FileRef``: what ``file("impl.py")`` evaluates to, so that ``sym_flow.implementation`` can
  point at the file instead of inlining it. Wherever text is needed the file is read.
- ``Unknown``: a value only Terraform could know (a module output, a data source, an AWS-computed
  attribute, an unset variable, an unsupported expression). An error only where jitflow needs it.
- ``BROKEN``: an error was already reported for this value; consumers stay silent about it, so
  one mistake is reported once instead of once per dependent resource.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from jitflow.config.expressions import (
    Call,
    Expr,
    Index,
    ListExpr,
    Literal,
    ObjectExpr,
    Template,
    Traversal,
    Unsupported,
    to_expr,
)
from jitflow.config.hcl import RawAttribute, RawBlock
from jitflow.config.issues import IssueCollector, Site, nearest
from jitflow.config.schema import SCHEMAS


@dataclass(frozen=True)
class ResourceId:
    """The ``id`` of a declared resource."""

    type: str
    key: str

    @property
    def address(self) -> str:
        return f"{self.type}.{self.key}"


@dataclass(frozen=True)
class FileRef:
    """``file(...)``: an absolute path, resolved against the folder of the ``.tf`` file."""

    path: Path


@dataclass(frozen=True)
class Unknown:
    """A value jitflow cannot know; ``expression`` is the source text that produced it."""

    expression: str
    reason: str


class _Broken:
    _instance: _Broken | None = None

    def __new__(cls) -> _Broken:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "BROKEN"


BROKEN: Final[_Broken] = _Broken()

#: Evaluated values. Lists and dicts may hold markers; consumers check elements.
Value = Any


@dataclass
class Declarations:
    """What a configuration declares, by name, for reference resolution."""

    root: Path
    #: ``sym_*`` and ``aws_secretsmanager_secret`` resources jitflow reads, by (type, key).
    resources: dict[tuple[str, str], RawBlock] = field(default_factory=dict)
    #: Other providers' resources, set aside but known to exist.
    foreign_resources: dict[tuple[str, str], RawBlock] = field(default_factory=dict)
    locals: dict[str, tuple[RawAttribute, str]] = field(default_factory=dict)
    variables: dict[str, RawBlock] = field(default_factory=dict)
    #: Values given with ``--var`` or ``JITFLOW_VAR_<name>``, already merged (``--var`` wins).
    variable_values: dict[str, str] = field(default_factory=dict)


def resource_site(block: RawBlock, attribute: str | None = None, line: int | None = None) -> Site:
    """The site of ``block`` (a ``resource``) or of one of its attributes."""
    address = ".".join(block.labels)
    return Site(block.file, line if line is not None else block.line, address, attribute)


def is_marker(value: Value) -> bool:
    """Whether ``value`` stands for no usable value (unknown or broken)."""
    return isinstance(value, Unknown) or value is BROKEN


class Evaluator:
    """Evaluates attributes of one configuration, memoizing each and detecting reference cycles."""

    def __init__(self, declarations: Declarations, issues: IssueCollector) -> None:
        self.declarations = declarations
        self.issues = issues
        self._memo: dict[int, Value] = {}
        self._active: list[tuple[int, str]] = []
        self._functions: dict[str, Callable[[list[Value], Call, Site], Value]] = {
            "file": self._file,
            "jsonencode": self._jsonencode,
            "jsondecode": self._jsondecode,
            "lower": self._text_function(str.lower),
            "upper": self._text_function(str.upper),
            "trimspace": self._text_function(str.strip),
            "tostring": self._text_function(str),
        }

    # -- entry points -------------------------------------------------------------------------

    def attribute(self, attribute: RawAttribute, site: Site, label: str) -> Value:
        """Evaluate ``attribute`` once; ``label`` names it in cycle messages (``local.a``)."""
        key = id(attribute)
        if key in self._memo:
            return self._memo[key]
        active_keys = [active for active, _ in self._active]
        if key in active_keys:
            cycle = [name for _, name in self._active[active_keys.index(key) :]] + [label]
            self.issues.error(
                f"reference cycle: {' -> '.join(cycle)}", site, group=("cycle", frozenset(cycle))
            )
            return BROKEN
        self._active.append((key, label))
        try:
            module_dir = Path(site.file).parent if site.file else self.declarations.root
            value = self.expression(to_expr(attribute.value), site, module_dir)
        finally:
            self._active.pop()
        self._memo[key] = value
        return value

    def expression(self, expr: Expr, site: Site, module_dir: Path) -> Value:
        if isinstance(expr, Literal):
            return expr.value
        if isinstance(expr, ListExpr):
            return [self.expression(item, site, module_dir) for item in expr.items]
        if isinstance(expr, ObjectExpr):
            return {key: self.expression(item, site, module_dir) for key, item in expr.items}
        if isinstance(expr, Template):
            return self._template(expr, site, module_dir)
        if isinstance(expr, Traversal):
            return self._traversal(expr, site, module_dir)
        if isinstance(expr, Call):
            return self._call(expr, site, module_dir)
        if isinstance(expr, Unsupported):
            return Unknown(expr.text, f"jitflow does not evaluate this expression ({expr.reason})")
        raise AssertionError(f"unhandled expression {expr!r}")

    def text(self, value: Value, site: Site, expression: str) -> str | Unknown | _Broken:
        """``value`` as a string, the way Terraform interpolates it, or the marker it is."""
        if isinstance(value, Unknown):
            return value
        if isinstance(value, _Broken):
            return value
        if isinstance(value, str):
            return str(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, FileRef):
            try:
                return value.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
                self.issues.error(f"cannot read file {value.path}: {reason}", site)
                return BROKEN
        if isinstance(value, ResourceId):
            return value.address
        kind = "null" if value is None else type(value).__name__
        return Unknown(expression, f"a {kind} value cannot be used as a string")

    # -- expressions ----------------------------------------------------------------------------

    def _template(self, expr: Template, site: Site, module_dir: Path) -> Value:
        if len(expr.parts) == 1 and not isinstance(expr.parts[0], str):
            return self.expression(expr.parts[0], site, module_dir)
        pieces: list[str] = []
        result: Value = None
        for part in expr.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            piece = self.text(self.expression(part, site, module_dir), site, expr.text)
            if piece is BROKEN:
                return BROKEN
            if isinstance(piece, Unknown):
                result = result or Unknown(expr.text, piece.reason)
            else:
                pieces.append(str(piece))
        return result if result is not None else "".join(pieces)

    def _call(self, expr: Call, site: Site, module_dir: Path) -> Value:
        function = self._functions.get(expr.name)
        if function is None:
            return Unknown(expr.text, f"jitflow does not evaluate the function {expr.name}()")
        args = [self.expression(arg, site, module_dir) for arg in expr.args]
        for arg in args:
            if arg is BROKEN or isinstance(arg, Unknown):
                return arg
        if expr.name == "file" and len(args) == 1 and isinstance(args[0], str):
            args = [str((module_dir / args[0]).resolve())]
        return function(args, expr, site)

    def _single_text(self, args: list[Value], expr: Call, site: Site) -> str | None:
        if len(args) != 1:
            self.issues.error(f"{expr.name}() takes one argument, got {len(args)}", site)
            return None
        text = self.text(args[0], site, expr.text)
        return text if isinstance(text, str) else None

    def _file(self, args: list[Value], expr: Call, site: Site) -> Value:
        if len(args) != 1 or not isinstance(args[0], str):
            self.issues.error(f"file() takes one path, got {expr.text}", site)
            return BROKEN
        return FileRef(Path(args[0]))

    def _jsonencode(self, args: list[Value], expr: Call, site: Site) -> Value:
        if len(args) != 1:
            self.issues.error(f"jsonencode() takes one argument, got {len(args)}", site)
            return BROKEN
        plain = self._plain(args[0], site, expr.text)
        return plain if is_marker(plain) else json.dumps(plain)

    def _jsondecode(self, args: list[Value], expr: Call, site: Site) -> Value:
        text = self._single_text(args, expr, site)
        if text is None:
            return BROKEN
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            self.issues.error(
                f"jsondecode(): not valid JSON ({error.msg}, line {error.lineno})", site
            )
            return BROKEN

    def _text_function(
        self, operation: Callable[[str], str]
    ) -> Callable[[list[Value], Call, Site], Value]:
        def apply(args: list[Value], expr: Call, site: Site) -> Value:
            text = self._single_text(args, expr, site)
            return BROKEN if text is None else operation(text)

        return apply

    def _plain(self, value: Value, site: Site, expression: str) -> Value:
        """``value`` as JSON-compatible data (ids as addresses, files read), or a marker."""
        if isinstance(value, list):
            items = [self._plain(item, site, expression) for item in value]
            return next((item for item in items if is_marker(item)), items)
        if isinstance(value, dict):
            plain = {key: self._plain(item, site, expression) for key, item in value.items()}
            return next((item for item in plain.values() if is_marker(item)), plain)
        if value is None or isinstance(value, bool | int | float | str):
            return value
        return self.text(value, site, expression)

    # -- references -----------------------------------------------------------------------------

    def _traversal(self, expr: Traversal, site: Site, module_dir: Path) -> Value:
        steps = list(expr.steps)
        name = steps[0] if steps and isinstance(steps[0], str) else None
        root = expr.root
        if root in ("module", "data"):
            what = "a module output" if root == "module" else "a data source"
            return Unknown(expr.text, f"{what}, which only Terraform can resolve")
        if name is None:
            return Unknown(expr.text, "jitflow does not evaluate this reference")
        if root == "var":
            value = self._variable(name, expr, site)
        elif root == "local":
            value = self._local(name, expr, site)
        elif root == "path":
            value = self._path(name, expr, site, module_dir)
        elif root.startswith("sym_") or root == "aws_secretsmanager_secret":
            return self._resource(root, name, steps[1:], expr, site, module_dir)
        elif (root, name) in self.declarations.foreign_resources:
            return Unknown(expr.text, f"an attribute of {root}.{name}, another provider's resource")
        else:
            return Unknown(expr.text, "jitflow does not evaluate this reference")
        return self._steps(value, steps[1:], f"{root}.{name}", expr, site, module_dir)

    def _steps(
        self,
        value: Value,
        steps: list[str | Index],
        prefix: str,
        expr: Traversal,
        site: Site,
        module_dir: Path,
    ) -> Value:
        for step in steps:
            if is_marker(value):
                return value
            key: Value = step
            if isinstance(step, Index):
                key = self.expression(step.key, site, module_dir)
                if is_marker(key):
                    return key
            if isinstance(value, dict) and isinstance(key, str):
                if key not in value:
                    self.issues.error(
                        f"{prefix} has no key {key!r}",
                        site,
                        suggestion=nearest(key, [str(k) for k in value]),
                    )
                    return BROKEN
                value = value[key]
            elif isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool):
                if not -len(value) <= key < len(value):
                    self.issues.error(f"{prefix} has no element {key}", site)
                    return BROKEN
                value = value[key]
            else:
                return Unknown(expr.text, f"cannot look up {key!r} in {prefix}")
            prefix = f"{prefix}[{key!r}]" if isinstance(step, Index) else f"{prefix}.{key}"
        return value

    def _undefined(self, reference: str, candidates: list[str], site: Site, kind: str) -> _Broken:
        self.issues.error(
            f"{reference} is not declared ({kind})",
            site,
            suggestion=nearest(reference, candidates, cutoff=0.0) if candidates else None,
            group=("undefined", reference),
        )
        return BROKEN

    def _variable(self, name: str, expr: Traversal, site: Site) -> Value:
        block = self.declarations.variables.get(name)
        if block is None:
            candidates = [f"var.{known}" for known in self.declarations.variables]
            return self._undefined(f"var.{name}", candidates, site, "no variable block declares it")
        if name in self.declarations.variable_values:
            return self.variable_override(block, self.declarations.variable_values[name])
        default = block.body.attributes.get("default")
        if default is None:
            return Unknown(
                f"var.{name}",
                f"variable {name!r} has no value: set JITFLOW_VAR_{name} or --var {name}=...",
            )
        return self.attribute(
            default, Site(block.file, default.line, f"variable.{name}", "default"), f"var.{name}"
        )

    def variable_override(self, block: RawBlock, text: str) -> Value:
        """Convert a ``--var``/environment string to the variable's declared ``type``."""
        declared = block.body.attributes.get("type")
        type_name = str(declared.value).removeprefix("${").removesuffix("}") if declared else ""
        name = block.labels[0]
        site = Site(block.file, block.line, f"variable.{name}", "type")
        if type_name == "bool":
            if text.strip().lower() in ("true", "false"):
                return text.strip().lower() == "true"
            self.issues.error(f"variable {name!r} is a bool: its value must be true or false", site)
            return BROKEN
        if type_name == "number":
            try:
                return int(text)
            except ValueError:
                try:
                    return float(text)
                except ValueError:
                    self.issues.error(f"variable {name!r} is a number: its value is not one", site)
                    return BROKEN
        return text

    def _local(self, name: str, expr: Traversal, site: Site) -> Value:
        declared = self.declarations.locals.get(name)
        if declared is None:
            candidates = [f"local.{known}" for known in self.declarations.locals]
            return self._undefined(f"local.{name}", candidates, site, "no locals block defines it")
        attribute, file = declared
        return self.local(name, attribute, file)

    def local(self, name: str, attribute: RawAttribute, file: str) -> Value:
        return self.attribute(
            attribute, Site(file, attribute.line, "locals", name), f"local.{name}"
        )

    def _path(self, name: str, expr: Traversal, site: Site, module_dir: Path) -> Value:
        if name == "module":
            return str(module_dir.resolve())
        if name == "root":
            return str(self.declarations.root.resolve())
        if name == "cwd":
            return str(Path(os.getcwd()))
        self.issues.error(f"path.{name} does not exist (path.module, path.root, path.cwd do)", site)
        return BROKEN

    def _resource(
        self,
        type_: str,
        key: str,
        steps: list[str | Index],
        expr: Traversal,
        site: Site,
        module_dir: Path,
    ) -> Value:
        block = self.declarations.resources.get((type_, key))
        if block is None:
            reference = f"{type_}.{key}"
            if type_ in SCHEMAS or type_ == "aws_secretsmanager_secret":
                # A known type: the name is wrong, so suggest the closest name of that type.
                same_type = [f"{t}.{k}" for t, k in self.declarations.resources if t == type_]
                suggestion = nearest(reference, same_type, cutoff=0.0)
                kind = "no resource block defines it"
            else:
                every = [f"{t}.{k}" for t, k in self.declarations.resources]
                suggestion = nearest(reference, every)
                kind = f"{type_} is not a resource type jitflow knows"
            self.issues.error(
                f"{reference} is not declared ({kind})",
                site,
                suggestion=suggestion,
                group=("undefined", reference),
            )
            return BROKEN
        if not steps or not isinstance(steps[0], str):
            return Unknown(expr.text, "jitflow only resolves attributes of a resource (.id, .name)")
        attribute_name = steps[0]
        if attribute_name == "id" and type_.startswith("sym_"):
            return self._steps(
                ResourceId(type_, key), steps[1:], f"{type_}.{key}.id", expr, site, module_dir
            )
        attribute = block.body.attributes.get(attribute_name)
        if attribute is None:
            if type_ == "aws_secretsmanager_secret":
                return Unknown(expr.text, f"{attribute_name} of an AWS secret is computed by AWS")
            self.issues.error(
                f"{type_}.{key} has no attribute {attribute_name!r}",
                site,
                suggestion=nearest(attribute_name, ["id", *block.body.attributes]),
            )
            return BROKEN
        value = self.attribute(
            attribute,
            resource_site(block, attribute_name, attribute.line),
            f"{type_}.{key}.{attribute_name}",
        )
        prefix = f"{type_}.{key}.{attribute_name}"
        return self._steps(value, steps[1:], prefix, expr, site, module_dir)

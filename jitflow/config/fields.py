"""Reading typed values out of one resource's evaluated attributes, recording what goes wrong.

A ``ResourceReader`` is bound to one resource. Its ``need_*`` methods are for values jitflow
acts on: an unknown value there is an error. ``soft_*`` methods are for values jitflow keeps
but does not act on: an unknown value is listed as unresolved instead. Either way, a value
already reported (``BROKEN``) marks the resource failed without a second message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jitflow.config.evaluate import BROKEN, Evaluator, FileRef, ResourceId, Unknown, Value
from jitflow.config.hcl import RawBlock, RawBody
from jitflow.config.issues import IssueCollector, Site, nearest
from jitflow.config.models import SourceLocation, Unresolved

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_uuid(text: str) -> bool:
    return _UUID.fullmatch(text) is not None


@dataclass(frozen=True)
class Entry:
    """One evaluated attribute (or map key) and where it was written."""

    value: Value
    site: Site
    expression: str


@dataclass
class Fields:
    """Evaluated attributes of a block body or of a map, by name."""

    site: Site
    entries: dict[str, Entry] = field(default_factory=dict)

    def get(self, name: str) -> Entry | None:
        return self.entries.get(name)


@dataclass
class BuildState:
    """Shared by every reader of one load."""

    evaluator: Evaluator
    issues: IssueCollector
    unresolved: list[Unresolved] = field(default_factory=list)


def _expression_text(raw: object) -> str:
    if isinstance(raw, str):
        return raw[2:-1] if raw.startswith("${") and raw.endswith("}") else raw
    return repr(raw)


class ResourceReader:
    """Typed access to the attributes of one resource; ``failed`` once anything needed is bad."""

    def __init__(self, state: BuildState, block: RawBlock) -> None:
        self.state = state
        self.block = block
        self.type, self.key = block.labels[0], block.labels[1]
        self.address = f"{self.type}.{self.key}"
        self.failed = False
        self.location = SourceLocation(file=block.file, line=block.line)
        self.site = Site(block.file, block.line, self.address)
        self.fields = self.body_fields(block.body, self.site)

    # -- evaluation --------------------------------------------------------------------------

    def body_fields(self, body: RawBody, site: Site) -> Fields:
        """Evaluate every attribute of ``body`` (so every bad reference in it is reported)."""
        fields = Fields(site)
        for name, attribute in body.attributes.items():
            attribute_site = site.at(name, attribute.line)
            label = f"{self.address}.{attribute_site.attribute}"
            value = self.state.evaluator.attribute(attribute, attribute_site, label)
            fields.entries[name] = Entry(value, attribute_site, _expression_text(attribute.value))
        return fields

    def map_fields(self, entry: Entry) -> Fields | None:
        """The keys of a map-valued attribute as fields (``settings.role_id``...)."""
        value = self._usable(entry)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(f"must be a map, got {_kind(value)}", entry.site)
            return None
        fields = Fields(entry.site)
        for key, item in value.items():
            expression = (
                item.expression if isinstance(item, Unknown) else f"{entry.expression}.{key}"
            )
            fields.entries[key] = Entry(item, entry.site.at(key), expression)
        return fields

    # -- reporting ---------------------------------------------------------------------------

    def error(self, message: str, site: Site, suggestion: str | None = None) -> None:
        self.failed = True
        self.state.issues.error(message, site, suggestion=suggestion)

    def warning(self, message: str, site: Site, suggestion: str | None = None) -> None:
        self.state.issues.warning(message, site, suggestion=suggestion)

    def unresolved(self, entry: Entry, value: Unknown) -> None:
        self.state.unresolved.append(
            Unresolved(
                address=entry.site.address or self.address,
                attribute=entry.site.attribute or "",
                expression=value.expression,
                reason=value.reason,
                location=SourceLocation(file=self.block.file, line=entry.site.line),
            )
        )

    def check_names(
        self,
        fields: Fields,
        allowed: frozenset[str],
        what: str,
        ignored: frozenset[str] = frozenset(),
    ) -> None:
        """Report names in ``fields`` that ``allowed`` does not list, suggesting the nearest."""
        for name, entry in fields.entries.items():
            if name not in allowed and name not in ignored:
                self.error(
                    f"{what} has no attribute {name!r}", entry.site, nearest(name, sorted(allowed))
                )

    def require(self, fields: Fields, names: frozenset[str]) -> None:
        for name in sorted(names):
            if name not in fields.entries:
                self.error(f"missing required attribute {name!r}", fields.site.at(name))

    # -- typed reads -------------------------------------------------------------------------

    def _usable(self, entry: Entry) -> Value | None:
        """The entry's value when jitflow can act on it; reports and returns None otherwise."""
        value = entry.value
        if value is BROKEN:
            self.failed = True
            return None
        if isinstance(value, Unknown):
            self.error(
                f"jitflow needs this value but cannot resolve {value.expression}: {value.reason}",
                entry.site,
            )
            return None
        return value

    def need_text(self, fields: Fields, name: str, required: bool = False) -> str | None:
        entry = fields.get(name)
        if entry is None:
            if required:
                self.error(f"missing required attribute {name!r}", fields.site.at(name))
            return None
        return self.entry_text(entry)

    def entry_text(self, entry: Entry) -> str | None:
        value = self._usable(entry)
        if value is None:  # unusable (reported), or an explicit null: same as leaving it out
            return None
        if isinstance(value, list | dict):
            self.error(f"must be a string, got {_kind(value)}", entry.site)
            return None
        text = self.state.evaluator.text(value, entry.site, entry.expression)
        if text is BROKEN:
            self.failed = True
            return None
        return text if isinstance(text, str) else None

    def need_bool(self, fields: Fields, name: str, default: bool) -> bool:
        entry = fields.get(name)
        if entry is None:
            return default
        value = self._usable(entry)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"  # legacy params maps hold strings
        if value is not None:
            self.error(f"must be true or false, got {value!r}", entry.site)
        return default

    def need_text_list(self, entry: Entry) -> list[str] | None:
        value = self._usable(entry)
        if value is None:
            return None
        if not isinstance(value, list):
            self.error(f"must be a list of strings, got {_kind(value)}", entry.site)
            return None
        texts: list[str] = []
        for index, item in enumerate(value):
            item_entry = Entry(item, entry.site, f"{entry.expression}[{index}]")
            if isinstance(item, list | dict):
                self.error(f"element {index} must be a string, got {_kind(item)}", entry.site)
                continue
            text = self.entry_text(item_entry)
            if text is not None:
                texts.append(text)
        return texts if len(texts) == len(value) else None

    def reference(self, entry: Entry, expected: str) -> str | None:
        """The key of the ``expected`` resource ``entry`` refers to (``sym_secret.x.id`` -> x)."""
        value = self._usable(entry)
        if value is None:
            return None
        if not isinstance(value, ResourceId):
            shown = value if isinstance(value, str) else _kind(value)
            self.error(
                f"must be the id of a {expected} (like {expected}.name.id), got {shown!r}",
                entry.site,
            )
            return None
        if value.type != expected:
            self.error(f"must be the id of a {expected}, got {value.address}", entry.site)
            return None
        return value.key

    def soft_plain(self, entry: Entry) -> object:
        """``entry`` as plain data for a kept resource: ids as addresses, unknowns listed."""
        return self._plain(entry.value, entry)

    def _plain(self, value: Value, entry: Entry) -> object:
        if isinstance(value, Unknown):
            self.unresolved(entry, value)
            return "${" + value.expression + "}"
        if value is BROKEN:
            return None
        if isinstance(value, ResourceId):
            return value.address
        if isinstance(value, FileRef):
            return str(value.path)
        if isinstance(value, list):
            return [self._plain(item, entry) for item in value]
        if isinstance(value, dict):
            return {key: self._plain(item, entry) for key, item in value.items()}
        return value


def _kind(value: Value) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a map"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"

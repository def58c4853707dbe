"""The users CSV of ``jitflow users list-identities -o`` and ``jitflow users update -i``.

Columns mirror symflow's: one row per user, one column per service identity named
``service_type:external_id`` (for Aptible ``aptible:<org-uuid>``), plus ``Email``,
``First Name``, ``Last Name`` and ``Role``. ``sym:cloud`` is accepted for ``Email`` and a
``User ID`` column (from a symflow export) is ignored, so a Sym export loads as is.

Parsing checks the whole file and reports every problem at once; nothing is applied from a
file with any problem.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from jitflow.contracts.events import UserRoleName
from jitflow.identity.errors import CsvRejected, InvalidValue
from jitflow.identity.models import Identity, User
from jitflow.identity.validation import (
    checked_email,
    normalize_external_id,
    normalize_name,
    normalize_role,
    normalize_service_type,
    normalize_service_user_id,
)

EMAIL = "Email"
FIRST_NAME = "First Name"
LAST_NAME = "Last Name"
ROLE = "Role"
FIXED_COLUMNS = (EMAIL, FIRST_NAME, LAST_NAME, ROLE)
_ALIASES = {"email": EMAIL, "sym:cloud": EMAIL, "first name": FIRST_NAME, "last name": LAST_NAME}
_IGNORED = {"user id"}

ServiceKey = tuple[str, str]
"""(service_type, external_id)"""


@dataclass(frozen=True)
class CsvRow:
    """One user line. ``identities`` maps every service column to its value, ``None`` when blank."""

    line: int
    email: str
    first_name: str | None
    last_name: str | None
    role: UserRoleName | None
    """``None`` when the cell is blank: keep the user's role (``member`` for a new user)."""
    identities: Mapping[ServiceKey, str | None]


@dataclass(frozen=True)
class UsersCsv:
    """A checked users CSV. ``has_*`` say whether the optional columns were present at all."""

    rows: tuple[CsvRow, ...]
    service_columns: tuple[ServiceKey, ...]
    has_first_name: bool
    has_last_name: bool
    has_role: bool


def _header_name(raw: str) -> str:
    name = raw.strip()
    return _ALIASES.get(name.lower(), ROLE if name.lower() == "role" else name)


def parse_users_csv(text: str) -> UsersCsv:
    """Check ``text`` as a whole and return it; raise CsvRejected listing every problem."""
    problems: list[str] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise CsvRejected(["the file is empty: expected a header line with an Email column"])

    fixed: dict[str, int] = {}
    services: dict[int, ServiceKey] = {}
    ignored: set[int] = set()
    seen_services: dict[ServiceKey, str] = {}
    for index, raw in enumerate(header):
        name = _header_name(raw)
        if name.lower() in _IGNORED:
            ignored.add(index)
        elif name in FIXED_COLUMNS:
            if name in fixed:
                problems.append(f"header: column {raw!r} appears twice")
            fixed[name] = index
        elif ":" in name:
            service_type, _, external_id = name.partition(":")
            try:
                key_type = normalize_service_type(service_type)
                key = (key_type, normalize_external_id(key_type, external_id))
            except InvalidValue as error:
                problems.append(f"header: column {raw!r}: {error}")
                continue
            if key in seen_services:
                problems.append(f"header: column {raw!r} repeats {seen_services[key]!r}")
            seen_services[key] = raw
            services[index] = key
        else:
            problems.append(
                f"header: unknown column {raw!r}: expected {', '.join(FIXED_COLUMNS)}, "
                "User ID, or service_type:external_id such as aptible:<organization-uuid>"
            )
    if EMAIL not in fixed:
        problems.append("header: no Email column")
    if problems:
        raise CsvRejected(problems)

    rows: list[CsvRow] = []
    first_line_of: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            problems.append(f"line {line}: {len(cells)} cells for {len(header)} columns")
            continue
        cells = cells + [""] * (len(header) - len(cells))
        row_problems: list[str] = []

        def cell(column: str, cells: list[str] = cells) -> str | None:
            return cells[fixed[column]] if column in fixed else None

        try:
            email = checked_email(cell(EMAIL) or "")
        except InvalidValue as error:
            problems.append(f"line {line}: {error}")
            continue
        if email in first_line_of:
            first = first_line_of[email]
            problems.append(f"line {line}: duplicate row for {email} (first on line {first})")
            continue
        first_line_of[email] = line

        first_name = last_name = None
        role: UserRoleName | None = None
        try:
            first_name = normalize_name(cell(FIRST_NAME))
            last_name = normalize_name(cell(LAST_NAME))
        except InvalidValue as error:
            row_problems.append(str(error))
        role_cell = (cell(ROLE) or "").strip()
        if role_cell:
            try:
                role = normalize_role(role_cell)
            except InvalidValue as error:
                row_problems.append(str(error))
        identities: dict[ServiceKey, str | None] = {}
        for index, key in services.items():
            value = cells[index].strip()
            if not value:
                identities[key] = None
                continue
            try:
                identities[key] = normalize_service_user_id(key[0], value)
            except InvalidValue as error:
                row_problems.append(f"column {header[index]!r}: {error}")
        for problem in row_problems:
            problems.append(f"line {line} ({email}): {problem}")
        if not row_problems:
            rows.append(CsvRow(line, email, first_name, last_name, role, identities))
    if problems:
        raise CsvRejected(problems)
    return UsersCsv(
        rows=tuple(rows),
        service_columns=tuple(services.values()),
        has_first_name=FIRST_NAME in fixed,
        has_last_name=LAST_NAME in fixed,
        has_role=ROLE in fixed,
    )


def render_users_csv(users: Iterable[User], identities: Iterable[Identity]) -> str:
    """Every user with every identity column in use, sorted; ``parse_users_csv`` reads it back."""
    by_user: dict[str, dict[ServiceKey, str]] = {}
    columns: set[ServiceKey] = set()
    for identity in identities:
        key = (identity.service_type, identity.external_id)
        columns.add(key)
        by_user.setdefault(identity.email, {})[key] = identity.service_user_id
    ordered = sorted(columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*FIXED_COLUMNS, *(f"{t}:{x}" for t, x in ordered)])
    for user in sorted(users, key=lambda u: u.email):
        held = by_user.get(user.email, {})
        writer.writerow(
            [
                user.email,
                user.first_name or "",
                user.last_name or "",
                user.role,
                *(held.get(key, "") for key in ordered),
            ]
        )
    return out.getvalue()

"""``jitflow users``: the people jitflow knows, their Aptible identities (as ``symflow users``),
and the OpenSSH keys that sign their decisions.

Every command opens the store given by ``--database-url`` (else ``$JITFLOW_DATABASE_URL``, else
``.jitflow/jitflow.db``), migrating its schema if needed. Bad input is refused with a message
that names the bad value, a non-zero exit status, and no change to the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from jitflow.identity import (
    DATABASE_URL_ENV,
    ROLES,
    IdentityStore,
    IdentityStoreError,
    KeyRecord,
    User,
)
from jitflow.identity.database import database_url_from_env, safe_url
from jitflow.identity.errors import InvalidValue
from jitflow.identity.validation import (
    checked_email,
    normalize_external_id,
    normalize_service_type,
    normalize_service_user_id,
)
from jitflow.trust.keys import InvalidKey, normalize_fingerprint

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _database_option(command: F) -> F:
    return click.option(
        "--database-url",
        envvar=DATABASE_URL_ENV,
        show_envvar=True,
        metavar="URL",
        help="sqlite:///PATH or postgresql+psycopg://USER@HOST/DB (default .jitflow/jitflow.db).",
    )(command)


@contextmanager
def _store(database_url: str | None) -> Iterator[IdentityStore]:
    """The opened store; any store error becomes a one-line CLI error (exit status 1)."""
    try:
        with IdentityStore.open(database_url) as store:
            yield store
    except IdentityStoreError as error:
        raise click.ClickException(str(error)) from None
    except SQLAlchemyError as error:
        # The driver's text may quote connection details: name the error type only.
        where = safe_url(database_url_from_env(database_url))
        raise click.ClickException(
            f"database error on {where}: {type(getattr(error, 'orig', None) or error).__name__}"
        ) from None


def _check(normalize: Callable[[], T]) -> T:
    try:
        return normalize()
    except IdentityStoreError as error:
        raise click.ClickException(str(error)) from None


def _identity_key(service_type: str, external_id: str) -> tuple[str, str]:
    kind = _check(lambda: normalize_service_type(service_type))
    return kind, _check(lambda: normalize_external_id(kind, external_id))


_SERVICE_TYPE = click.option(
    "--service-type", required=True, help="The service, e.g. aptible.", metavar="TYPE"
)
_EXTERNAL_ID = click.option(
    "--external-id", required=True, help="For aptible: the organization UUID.", metavar="ID"
)
_ROLE = click.Choice(ROLES, case_sensitive=False)


@click.group(name="users")
def users() -> None:
    """Manage users, their roles and their identities in services such as Aptible."""


@users.command(name="list")
@_database_option
def list_users(database_url: str | None) -> None:
    """List users: name, email, role and when they were added."""
    with _store(database_url) as store:
        found = store.list_users()
    _print_table(
        ("Name", "Email", "Role", "Created At"),
        [_user_row(user) for user in found],
    )


def _user_row(user: User) -> tuple[str, ...]:
    return (user.display_name, user.email, user.role, _time(user.created_at))


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=False)]
    for line in (header, *rows):
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


@users.command(name="list-identities")
@click.option(
    "-o",
    "--output-file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the CSV to this file instead of the standard output.",
)
@_database_option
def list_identities(output_file: Path | None, database_url: str | None) -> None:
    """Print every user and identity as CSV, one column per service_type:external_id.

    Edit it and load it back with ``jitflow users update -i FILE.csv``.
    """
    with _store(database_url) as store:
        text = store.export_csv()
    if output_file is None:
        click.echo(text, nl=False)
    else:
        output_file.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output_file}", err=True)


@users.command(name="create")
@click.argument("email")
@click.option("--role", type=_ROLE, default="member", show_default=True)
@click.option("--first-name", default=None)
@click.option("--last-name", default=None)
@_database_option
def create_user(
    email: str,
    role: str,
    first_name: str | None,
    last_name: str | None,
    database_url: str | None,
) -> None:
    """Add a user."""
    address = _check(lambda: checked_email(email))
    with _store(database_url) as store:
        user = store.create_user(address, role, first_name, last_name)
    click.echo(f"Created user {user.email} ({user.role})")


@users.command(name="update")
@click.option(
    "-i",
    "--input-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="CSV as written by list-identities.",
)
@click.option(
    "--delete-missing",
    is_flag=True,
    help="Also delete users that have no row in the file (symflow deletes removed rows).",
)
@_database_option
def update_users(input_file: Path, delete_missing: bool, database_url: str | None) -> None:
    """Create, update (and with --delete-missing, delete) users from a CSV, all or nothing.

    A filled identity cell sets that identity, a blank one removes it. A file with any bad
    line is rejected whole, and every problem is listed.
    """
    try:
        text = input_file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"cannot read {input_file}: {error}") from None
    with _store(database_url) as store:
        report = store.apply_csv(text, delete_missing=delete_missing)
    if not report.changed:
        click.echo("No changes.")
        return
    for label, emails in (
        ("Created", report.created_users),
        ("Updated", report.updated_users),
        ("Deleted", report.deleted_users),
    ):
        if emails:
            click.echo(f"{label} {len(emails)} user(s): {', '.join(emails)}")
    click.echo(f"Identities set: {report.set_identities}, removed: {report.deleted_identities}")


@users.command(name="update-identity")
@click.argument("email")
@_SERVICE_TYPE
@_EXTERNAL_ID
@click.option(
    "--new-value", required=True, metavar="ID", help="For aptible: the Aptible user UUID."
)
@_database_option
def update_identity(
    email: str, service_type: str, external_id: str, new_value: str, database_url: str | None
) -> None:
    """Set a user's id in a service (the user is created as a member if unknown)."""
    address = _check(lambda: checked_email(email))
    kind, external = _identity_key(service_type, external_id)
    value = _check(lambda: normalize_service_user_id(kind, new_value))
    with _store(database_url) as store:
        existed = store.get_user(address) is not None
        store.set_identity(address, kind, external, value)
    if not existed:
        click.echo(f"Created user {address} (member)")
    click.echo(f"Set {kind}:{external} of {address} to {value}")


@users.command(name="delete-identity")
@click.argument("email")
@_SERVICE_TYPE
@_EXTERNAL_ID
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@_database_option
def delete_identity(
    email: str, service_type: str, external_id: str, force: bool, database_url: str | None
) -> None:
    """Remove a user's id in a service."""
    address = _check(lambda: checked_email(email))
    kind, external = _identity_key(service_type, external_id)
    with _store(database_url) as store:
        if store.get_identity(address, kind, external) is None:
            raise click.ClickException(f"user {address!r} has no {kind}:{external} identity")
        if not force:
            click.confirm(f"Delete the {kind}:{external} identity of {address}?", abort=True)
        store.delete_identity(address, kind, external)
    click.echo(f"Deleted {kind}:{external} identity of {address}")


@users.command(name="set-role")
@click.argument("email")
@click.option("--role", type=_ROLE, required=True)
@_database_option
def set_role(email: str, role: str, database_url: str | None) -> None:
    """Make a user an admin, a member or a guest."""
    address = _check(lambda: checked_email(email))
    with _store(database_url) as store:
        user = store.set_role(address, role.lower())
    click.echo(f"{user.email} is now {user.role}")


@users.command(name="update-name")
@click.argument("email")
@click.argument("name", nargs=-1, required=True)
@_database_option
def update_name(email: str, name: tuple[str, ...], database_url: str | None) -> None:
    """Set a user's name: one word is the first name; otherwise the last word is the last name."""
    address = _check(lambda: checked_email(email))
    words = " ".join(name).split()
    first, last = (words[0], None) if len(words) == 1 else (" ".join(words[:-1]), words[-1])
    with _store(database_url) as store:
        user = store.set_name(address, first, last)
    click.echo(f"{user.email} is now named {user.display_name}")


@users.command(name="delete")
@click.argument("email")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@_database_option
def delete_user(email: str, force: bool, database_url: str | None) -> None:
    """Delete a user and all of their identities."""
    address = _check(lambda: checked_email(email))
    with _store(database_url) as store:
        if store.get_user(address) is None:
            raise click.ClickException(f"no user with email {address!r}")
        if not force:
            click.confirm(f"Delete user {address} and their identities?", abort=True)
        store.delete_user(address)
    click.echo(f"Deleted user {address}")


@users.command(name="add-key")
@click.argument("email")
@click.argument(
    "public_key_file",
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
)
@_database_option
def add_key(email: str, public_key_file: Path, database_url: str | None) -> None:
    """Register an OpenSSH Ed25519 public key (e.g. ~/.ssh/id_ed25519.pub) to a user.

    The user signs decisions with its private half; the user is created as a member if unknown.
    A key belongs to one person: one already registered to someone else is refused.
    """
    address = _check(lambda: checked_email(email))
    try:
        text = public_key_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        # Not the error's text: a private key given by mistake must not be echoed.
        raise click.ClickException(
            f"cannot read {public_key_file}: expected a .pub file ({type(error).__name__})"
        ) from None
    with _store(database_url) as store:
        existed = store.get_user(address) is not None
        known = {key.fingerprint for key in store.keys(address)}
        record = store.add_key(address, text)
    if not existed:
        click.echo(f"Created user {address} (member)")
    if record.fingerprint in known:
        click.echo(f"Key {_key_label(record)} was already registered to {address}")
    else:
        click.echo(f"Added key {_key_label(record)} to {address}")


def _key_label(record: KeyRecord) -> str:
    return f"{record.fingerprint} ({record.comment})" if record.comment else record.fingerprint


@users.command(name="list-keys")
@click.argument("email", required=False)
@_database_option
def list_keys(email: str | None, database_url: str | None) -> None:
    """List registered signing keys: email, fingerprint, comment and when added."""
    address = _check(lambda: checked_email(email)) if email is not None else None
    with _store(database_url) as store:
        found = store.keys(address)
    _print_table(
        ("Email", "Fingerprint", "Comment", "Added At"),
        [(k.email, k.fingerprint, k.comment, _time(k.added_at)) for k in found],
    )


@users.command(name="remove-key")
@click.argument("email")
@click.argument("fingerprint")
@_database_option
def remove_key(email: str, fingerprint: str, database_url: str | None) -> None:
    """Unregister a user's key, given by its fingerprint (SHA256:..., as list-keys shows)."""
    address = _check(lambda: checked_email(email))
    wanted = _check(lambda: _fingerprint(fingerprint))
    with _store(database_url) as store:
        if not store.remove_key(address, wanted):
            raise click.ClickException(f"user {address!r} has no key {wanted}")
    click.echo(f"Removed key {wanted} of {address}")


def _fingerprint(value: str) -> str:
    try:
        return normalize_fingerprint(value)
    except InvalidKey as error:
        raise InvalidValue(str(error)) from None

"""Each kind of configuration error: named place, nearest-name suggestion, all reported at once."""

from __future__ import annotations

from typing import Any

from jitflow.config.issues import ConfigErrors


def only(errors: list[Any]) -> Any:
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_unknown_sym_resource_type(write_config: Any, load_errors: Any, base: str) -> None:
    error = only(load_errors(write_config(base + 'resource "sym_flw" "x" {\n  name = "x"\n}\n')))
    assert error.message == "unknown resource type 'sym_flw'"
    assert (error.address, error.suggestion) == ("sym_flw.x", "sym_flow")
    assert error.line == base.count("\n") + 1


def test_missing_required_attribute(write_config: Any, load_errors: Any, base: str) -> None:
    error = only(load_errors(write_config(base.replace('  name        = "main-aptible"\n', ""))))
    assert error.message == "missing required attribute 'name'"
    assert (error.address, error.attribute) == ("sym_integration.aptible", "name")
    assert error.file is not None and error.file.endswith("main.tf") and error.line is not None


def test_unknown_attribute_suggests_the_nearest(
    write_config: Any, load_errors: Any, base: str
) -> None:
    error = only(
        load_errors(write_config(base.replace('label    = "Admin Prod"', 'lable = "Admin Prod"')))
    )
    assert (error.address, error.attribute, error.suggestion) == (
        "sym_target.admin_prod",
        "lable",
        "label",
    )


def test_target_of_the_wrong_type_in_an_aptible_strategy(
    write_config: Any, load_errors: Any, base: str
) -> None:
    text = base.replace(
        "[sym_target.admin_prod.id]", "[sym_target.admin_prod.id, sym_target.sso.id]"
    )
    text += (
        'resource "sym_target" "sso" {\n  type = "aws_sso_permission_set"\n  name = "sso"\n'
        '  settings = { permission_set_arn = "arn:aws:sso:::permissionSet/x" }\n}\n'
    )
    error = only(load_errors(write_config(text)))
    assert (error.address, error.attribute) == ("sym_strategy.this", "targets")
    assert "sym_target.sso has type 'aws_sso_permission_set'" in error.message
    assert "aptible_role" in error.message


def test_a_non_target_in_targets_is_an_error(
    write_config: Any, load_errors: Any, base: str
) -> None:
    text = base.replace("[sym_target.admin_prod.id]", '["24463EF7-1D6E-402E-A365-69CB6DB80C6E"]')
    error = only(load_errors(write_config(text)))
    assert "must be the id of a sym_target" in error.message


def test_secret_without_a_source(write_config: Any, load_errors: Any, base: str) -> None:
    text = base.replace(
        'resource "sym_secret" "username" {\n  source_id = sym_secrets.this.id\n',
        'resource "sym_secret" "username" {\n',
    )
    error = only(load_errors(write_config(text)))
    assert error.message.startswith("a secret needs a source")
    assert (error.address, error.attribute) == ("sym_secret.username", "source_id")


def test_duplicate_names_and_resources(write_config: Any, load_errors: Any, base: str) -> None:
    duplicate_name = (
        'resource "sym_target" "copy" {\n  type = "aptible_role"\n  name = "admin-prod"\n'
        '  settings = { role_id = "c7d5f21a-1d4e-4b39-9957-f8acabde2a3a" }\n}\n'
    )
    error = only(load_errors(write_config(base + duplicate_name)))
    assert error.message.startswith("duplicate name 'admin-prod': sym_target.admin_prod")
    assert (error.address, error.attribute) == ("sym_target.copy", "name")

    folder = write_config(
        base,
        other__tf=(
            'resource "sym_secrets" "this" {\n  type = "aws_secrets_manager"\n  name = "x"\n}\n'
        ),
    )
    error = only(load_errors(folder))
    assert error.message.startswith("duplicate resource: sym_secrets.this is already declared at")
    assert error.file is not None and error.file.endswith("other.tf") and error.line == 1


def test_malformed_duration(write_config: Any, load_errors: Any, base: str, flow: str) -> None:
    text = base + flow.replace(
        "strategy_id = sym_strategy.this.id",
        'strategy_id = sym_strategy.this.id\n    prompt_field {\n      name = "duration"\n'
        '      type = "duration"\n      allowed_values = ["30s", "1hour"]\n    }',
    )
    error = only(load_errors(write_config(text)))
    assert "malformed duration '1hour'" in error.message
    assert (error.address, error.attribute) == (
        "sym_flow.this",
        "params.prompt_field.duration.allowed_values",
    )


def test_malformed_request_timeout(
    write_config: Any, load_errors: Any, base: str, flow: str
) -> None:
    text = base + flow.replace(
        "implementation =", 'vars = { request_timeout = "tomorrow" }\n  implementation ='
    )
    error = only(load_errors(write_config(text)))
    assert "malformed duration 'tomorrow'" in error.message and '"never"' in error.message
    assert error.attribute == "vars.request_timeout"


def test_non_uuid_ids_are_warnings(write_config: Any, load_ok: Any, base: str) -> None:
    text = base.replace("24463EF7-1D6E-402E-A365-69CB6DB80C6E", "admin-role").replace(
        "94a49e57-d046-4d9d-9dbf-f7711e337368", "my-org"
    )
    config = load_ok(write_config(text))
    assert config.targets["admin_prod"].role_id == "admin-role"
    assert len(config.warnings) == 2
    assert any("role_id 'admin-role' is not a UUID" in w for w in config.warnings)
    assert any("organization id 'my-org' is not a UUID" in w for w in config.warnings)


def test_syntax_errors_name_file_and_line(write_config: Any, load_errors: Any, base: str) -> None:
    folder = write_config(base, broken__tf='resource "sym_target" "x" {\n  type = \n}\n')
    error = only(load_errors(folder))
    assert error.file is not None and error.file.endswith("broken.tf") and error.line == 2


def test_missing_path_and_empty_folder(tmp_path: Any, load_errors: Any) -> None:
    assert "no such file or folder" in only(load_errors(tmp_path / "nope")).message
    assert "folder has no .tf files" in only(load_errors(tmp_path)).message


def test_all_errors_of_a_load_are_reported_together(
    write_config: Any, load_errors: Any, base: str, flow: str
) -> None:
    text = (
        base.replace('label    = "Admin Prod"', 'lable = "Admin Prod"').replace(
            'type        = "aptible"', 'type        = "aptible"\n  bogus = 1'
        )
        + flow.replace("sym_strategy.this.id", "sym_strategy.that.id")
        + 'resource "sym_nope" "x" {}\nlocals {\n  a = local.a\n}\n'
    )
    errors = load_errors(write_config(text))
    assert len(errors) == 5
    report = str(ConfigErrors(errors))
    assert report.startswith("5 configuration errors:")
    for expected in ("lable", "bogus", "sym_strategy.that", "sym_nope", "reference cycle"):
        assert expected in report


def test_strategy_needing_an_aptible_integration(
    write_config: Any, load_errors: Any, base: str
) -> None:
    text = base.replace("sym_integration.aptible.id", "sym_integration.slack.id") + (
        'resource "sym_integration" "slack" {\n'
        '  type = "slack"\n  name = "s"\n  external_id = "T1"\n}\n'
    )
    error = only(load_errors(write_config(text)))
    assert "sym_integration.slack has type 'slack'" in error.message
    assert (error.address, error.attribute) == ("sym_strategy.this", "integration_id")

"""``load_config``: a folder of ``.tf`` files (or one file) in, a validated ``JitflowConfig`` out.

Steps: find the files, parse them all, sort their blocks (resources jitflow reads, locals,
variables, blocks set aside), evaluate every attribute jitflow reads, build the models, check
names are unique. Every problem of every step is collected; if any is an error, ``ConfigErrors``
carries all of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from jitflow.config.build import Built, ResourceBuilder
from jitflow.config.evaluate import Declarations, Evaluator, resource_site
from jitflow.config.fields import BuildState
from jitflow.config.hcl import HclSyntaxError, RawBlock, parse_file
from jitflow.config.issues import ConfigErrors, ConfigIssue, IssueCollector, Site, nearest
from jitflow.config.models import JitflowConfig, SetAside, SourceLocation
from jitflow.config.schema import SCHEMAS, SET_ASIDE_BLOCKS

#: Prefix of environment variables that set Terraform variables (``JITFLOW_VAR_region``).
ENV_PREFIX = "JITFLOW_VAR_"

#: Resource types whose ``name`` Sym requires to be unique (a slug), and whether case matters.
_UNIQUE_NAMES: dict[str, bool] = {
    "sym_secrets": True,
    "sym_integration": True,
    "sym_target": True,
    "sym_strategy": True,
    "sym_flow": False,
    "sym_environment": True,
    "sym_runtime": True,
}


def tf_files(path: Path) -> list[Path]:
    """The ``.tf`` files ``path`` designates: itself, or those directly inside the folder."""
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(
            child for child in path.iterdir() if child.suffix == ".tf" and child.is_file()
        )
    return []


def load_config(
    path: str | os.PathLike[str],
    variables: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> JitflowConfig:
    """Load and validate the configuration at ``path`` (a folder of ``.tf`` files, or one file).

    ``variables`` set Terraform variables (like ``--var name=value``) and win over
    ``JITFLOW_VAR_<name>`` entries of ``environ`` (default ``os.environ``), which win over
    defaults. Raises ``ConfigErrors`` listing every error found.
    """
    return ConfigLoader(
        Path(path), dict(variables or {}), os.environ if environ is None else environ
    ).load()


class ConfigLoader:
    """One load; see ``load_config``."""

    def __init__(self, path: Path, variables: dict[str, str], environ: Mapping[str, str]) -> None:
        self.path = path
        self.variables = variables
        self.environ = environ
        self.issues = IssueCollector()
        self.root = path if path.is_dir() else path.parent
        self.declarations = Declarations(root=self.root)
        self.set_aside: list[SetAside] = []
        self.blocks: list[RawBlock] = []  # sym_* resources, in file order
        self.evaluator = Evaluator(self.declarations, self.issues)

    def load(self) -> JitflowConfig:
        files = tf_files(self.path)
        if not files:
            what = "folder has no .tf files" if self.path.is_dir() else "no such file or folder"
            raise ConfigErrors([ConfigIssue(f"{what}: {self.path}", file=str(self.path))])
        shown = [str(file) for file in files]
        bodies = []
        for file, display in zip(files, shown, strict=True):
            try:
                bodies.append(parse_file(file, display))
            except HclSyntaxError as error:
                self.issues.add(ConfigIssue(error.message, file=error.file, line=error.line))
        self._fail_on_errors()  # a file that cannot be parsed would make every reference look bad
        for body in bodies:
            for block in body.blocks:
                self._sort(block)
            for attribute in body.attributes.values():
                self.set_aside.append(
                    SetAside(
                        address=attribute.name,
                        location=SourceLocation(
                            file=shown[bodies.index(body)], line=attribute.line
                        ),
                        note="top-level attribute outside any block",
                    )
                )
        self._apply_variable_values()
        self._evaluate_unbuilt()
        state = BuildState(self.evaluator, self.issues)
        built = ResourceBuilder(state).build_all(self.blocks)
        self._check_unique_names()
        self._fail_on_errors()
        return self._config(built, state, shown)

    # -- sorting blocks ---------------------------------------------------------------------------

    def _sort(self, block: RawBlock) -> None:
        location = SourceLocation(file=block.file, line=block.line)
        address = ".".join((block.type, *block.labels))
        if block.type == "resource" and len(block.labels) == 2:
            self._resource(block)
        elif block.type == "locals" and not block.labels:
            self._locals(block)
        elif block.type == "variable" and len(block.labels) == 1:
            self._variable(block)
        elif block.type in SET_ASIDE_BLOCKS:
            self.set_aside.append(
                SetAside(
                    address=address,
                    location=location,
                    note=f"{block.type} block: Terraform's business",
                )
            )
        else:
            self.set_aside.append(
                SetAside(address=address, location=location, note="not a block jitflow knows")
            )

    def _resource(self, block: RawBlock) -> None:
        type_, key = block.labels
        site = Site(block.file, block.line, f"{type_}.{key}")
        if type_.startswith("sym_") and type_ not in SCHEMAS:
            self.issues.error(
                f"unknown resource type {type_!r}", site, suggestion=nearest(type_, sorted(SCHEMAS))
            )
            return
        if not type_.startswith("sym_") and type_ != "aws_secretsmanager_secret":
            self.declarations.foreign_resources[(type_, key)] = block
            self.set_aside.append(
                SetAside(
                    address=f"{type_}.{key}",
                    location=SourceLocation(file=block.file, line=block.line),
                    note="another provider's resource",
                )
            )
            return
        previous = self.declarations.resources.get((type_, key))
        if previous is not None:
            self.issues.error(
                f"duplicate resource: {type_}.{key} is already declared at "
                f"{previous.file}:{previous.line}",
                site,
            )
            return
        self.declarations.resources[(type_, key)] = block
        if type_ != "aws_secretsmanager_secret":
            self.blocks.append(block)

    def _locals(self, block: RawBlock) -> None:
        for name, attribute in block.body.attributes.items():
            previous = self.declarations.locals.get(name)
            if previous is not None:
                self.issues.error(
                    f"duplicate local: local.{name} is already defined at "
                    f"{previous[1]}:{previous[0].line}",
                    Site(block.file, attribute.line, "locals", name),
                )
                continue
            self.declarations.locals[name] = (attribute, block.file)
        for attribute in block.body.duplicates:
            self.issues.error(
                f"duplicate local: local.{attribute.name} is defined twice",
                Site(block.file, attribute.line, "locals", attribute.name),
            )

    def _variable(self, block: RawBlock) -> None:
        name = block.labels[0]
        previous = self.declarations.variables.get(name)
        if previous is not None:
            self.issues.error(
                f"duplicate variable: var.{name} is already declared at "
                f"{previous.file}:{previous.line}",
                Site(block.file, block.line, f"variable.{name}"),
            )
            return
        self.declarations.variables[name] = block

    # -- variables --------------------------------------------------------------------------------

    def _apply_variable_values(self) -> None:
        declared = self.declarations.variables
        values = {
            key.removeprefix(ENV_PREFIX): value
            for key, value in self.environ.items()
            if key.startswith(ENV_PREFIX) and key.removeprefix(ENV_PREFIX) in declared
        }
        for name, value in self.variables.items():
            if name not in declared:
                self.issues.error(
                    f"--var {name}: no variable {name!r} is declared",
                    Site(str(self.path)),
                    suggestion=nearest(name, sorted(declared)),
                )
                continue
            values[name] = value
        self.declarations.variable_values.update(values)

    # -- evaluating what no builder reads ---------------------------------------------------------

    def _evaluate_unbuilt(self) -> None:
        """Evaluate locals, variable defaults and AWS secrets, to report every bad reference."""
        for name, (attribute, file) in self.declarations.locals.items():
            self.evaluator.local(name, attribute, file)
        for name, block in self.declarations.variables.items():
            default = block.body.attributes.get("default")
            if default is not None:
                site = Site(block.file, default.line, f"variable.{name}", "default")
                self.evaluator.attribute(default, site, f"var.{name}")
        for (type_, key), block in self.declarations.resources.items():
            if type_ != "aws_secretsmanager_secret":
                continue
            for name, attribute in block.body.attributes.items():
                site = resource_site(block, name, attribute.line)
                self.evaluator.attribute(attribute, site, f"{type_}.{key}.{name}")

    # -- cross-resource checks --------------------------------------------------------------------

    def _check_unique_names(self) -> None:
        seen: dict[tuple[str, str], RawBlock] = {}
        for block in self.blocks:
            type_, key = block.labels
            if type_ not in _UNIQUE_NAMES:
                continue
            attribute = block.body.attributes.get("name")
            value = (
                self.evaluator.attribute(
                    attribute, resource_site(block, "name", attribute.line), f"{type_}.{key}.name"
                )
                if attribute is not None
                else (key if type_ == "sym_target" else None)
            )
            if not isinstance(value, str):
                continue
            slug = value if _UNIQUE_NAMES[type_] else value.lower()
            first = seen.get((type_, slug))
            if first is None:
                seen[(type_, slug)] = block
                continue
            line = attribute.line if attribute is not None else block.line
            self.issues.error(
                f"duplicate name {value!r}: {type_}.{first.labels[1]} "
                f"({first.file}:{first.line}) already uses it",
                resource_site(block, "name", line),
            )

    # -- result -----------------------------------------------------------------------------------

    def _fail_on_errors(self) -> None:
        if self.issues.errors:
            raise ConfigErrors(self.issues.errors, self.issues.warnings)

    def _config(self, built: Built, state: BuildState, files: list[str]) -> JitflowConfig:
        return JitflowConfig(
            flows=built.flows,
            strategies=built.strategies,
            targets=built.targets,
            integrations=built.integrations,
            sym_integrations=built.sym_integrations,
            secrets=built.secrets,
            secret_sources=built.secret_sources,
            environments=built.environments,
            kept=tuple(built.kept),
            unresolved=tuple(state.unresolved),
            set_aside=tuple(self.set_aside),
            warnings=tuple(str(issue) for issue in self.issues.warnings),
            files=tuple(files),
        )

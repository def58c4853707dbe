"""Sym Resource Names (SRNs) and the base classes of every Sym object.

jitflow has no Sym organization, so every SRN it builds has the organization ``jitflow``; the SRN
still carries the model, type and slug that user code reads (``target.srn.slug``).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler
from pydantic_core import core_schema

from jitflow.sdk.errors import SymSDKError

#: The organization slug of every SRN jitflow builds.
JITFLOW_ORG = "jitflow"


class InvalidSRNError(SymSDKError):
    """A string that is not a valid SRN; the message names it and the component at fault."""

    def __init__(self, srn: str, hint: str | None = None) -> None:
        super().__init__(
            message=f"Invalid SRN {srn!r}",
            hint=hint or "An SRN looks like <org>:<model>[:<type>]:<slug>:<version>[:<id>]",
            doc_url="",
        )


class SRN:
    """``<org>:<model>[:<type>]:<slug>:<version>[:<identifier>]``, lower case, as in Sym."""

    SEPARATOR = ":"
    SLUG_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")
    VERSION_PATTERN = re.compile(r"^(latest|[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})$")
    MODELS_WITH_TYPES = frozenset(
        {
            "access_strategy",
            "access_target",
            "user",
            "secret",
            "secrets",
            "integration",
            "log_destination",
        }
    )

    def __init__(
        self,
        org: str,
        model: str,
        type: str | None,
        slug: str,
        version: str,
        identifier: str | None = None,
    ) -> None:
        self._org = org.lower()
        self._model = model.lower()
        self._type = type.lower() if type else None
        self._slug = slug.lower()
        self._version = version.lower()
        self._identifier = identifier.lower() if identifier else None
        self._validate()

    @classmethod
    def requires_type(cls, model: str) -> bool:
        return model.lower() in cls.MODELS_WITH_TYPES

    @classmethod
    def parse(cls, raw: str) -> SRN:
        """Parse ``raw``; raises ``InvalidSRNError`` naming it when it is malformed."""
        if not isinstance(raw, str) or not raw or raw.endswith(cls.SEPARATOR):
            raise InvalidSRNError(str(raw))
        parts = raw.split(cls.SEPARATOR)
        if len(parts) < 4:
            raise InvalidSRNError(raw, "an SRN has at least 4 components")
        org, model, *rest = parts
        srn_type = rest.pop(0) if cls.requires_type(model) else None
        if len(rest) not in (2, 3):
            raise InvalidSRNError(raw, "wrong number of components")
        slug, version, *identifier = rest
        return cls(org, model, srn_type, slug, version, identifier[0] if identifier else None)

    def _validate(self) -> None:
        raw = str(self)
        for name, value in (("org", self._org), ("model", self._model), ("slug", self._slug)):
            if not self.SLUG_PATTERN.match(value):
                raise InvalidSRNError(raw, f"{name} {value!r} may hold only letters, digits, - _")
        if self.requires_type(self._model) and not self._type:
            raise InvalidSRNError(raw, f"model {self._model!r} needs a type")
        if not self.VERSION_PATTERN.match(self._version):
            raise InvalidSRNError(raw, f"version {self._version!r} is not 'latest' or x.y.z")

    def copy(
        self,
        organization: str | None = None,
        model: str | None = None,
        type: str | None = None,
        slug: str | None = None,
        version: str | None = None,
        identifier: str | None = None,
    ) -> SRN:
        return SRN(
            organization or self._org,
            model or self._model,
            type or self._type,
            slug or self._slug,
            version or self._version,
            identifier or self._identifier,
        )

    @property
    def organization(self) -> str:
        return self._org

    @property
    def model(self) -> str:
        return self._model

    @property
    def type(self) -> str | None:
        return self._type

    @property
    def slug(self) -> str:
        return self._slug

    @property
    def version(self) -> str:
        return self._version

    @property
    def identifier(self) -> str | None:
        return self._identifier

    def __str__(self) -> str:
        parts = [self._org, self._model, self._type, self._slug, self._version, self._identifier]
        return self.SEPARATOR.join(p for p in parts if p)

    def __repr__(self) -> str:
        return f"SRN({self})"

    def __hash__(self) -> int:
        return hash(str(self))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return str(self) == other.lower()
        return isinstance(other, SRN) and str(self) == str(other)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def coerce(value: Any) -> SRN:
            return value if isinstance(value, SRN) else cls.parse(value)

        return core_schema.no_info_plain_validator_function(
            coerce, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )


class SymBaseResource(BaseModel):
    """Base of every object handed to user code: read-only, with Sym's ``dict()``."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    def dict(self, **kwargs: Any) -> dict[str, Any]:
        """Sym's spelling of ``model_dump``; values keep their Python types."""
        return self.model_dump(**kwargs)


class SymResource(SymBaseResource):
    """A resource with an SRN; ``name`` is the SRN's slug, as in Sym."""

    srn: SRN

    @property
    def name(self) -> str:
        return self.srn.slug

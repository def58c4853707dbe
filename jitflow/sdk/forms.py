"""Prompt forms and field options (``sym.sdk.forms``), for ``prefetch`` and ``on_change_*``."""

from __future__ import annotations

from collections import OrderedDict
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class FieldType(StrEnum):
    STRING = "string"
    INT = "int"
    BOOL = "bool"
    DURATION = "duration"
    SLACK_USER = "slack_user"
    SLACK_USER_LIST = "slack_user_list"
    STR_LIST = "str_list"
    INT_LIST = "int_list"


class FieldOption(BaseModel):
    """One choice of a prompt field: ``value`` and ``label`` of at most 55 characters."""

    model_config = ConfigDict(frozen=True)

    value: Any
    label: str = Field(max_length=55)

    @field_validator("value")
    @classmethod
    def _check_value(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("a FieldOption value cannot be None")
        if len(str(value)) > 55:
            raise ValueError(f"FieldOption value {value!r} is longer than 55 characters")
        return value


class SlackUserSelection(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str
    username: str | None = None


class PromptField(BaseModel):
    """A field of the request form, as ``on_change_*`` handlers see and change it."""

    name: str
    type: FieldType
    value: Any = None
    label: str | None = None
    required: bool = True
    current_allowed_values: list[FieldOption] = []
    original_allowed_values: list[FieldOption] = []
    visible: bool = True


class SymPromptForm(BaseModel):
    """The request form: its fields by name, the flow's vars, the header text."""

    fields: OrderedDict[str, PromptField]
    flow_vars: dict[str, str] = {}
    additional_header_text: str | None = None

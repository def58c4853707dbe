"""Sym's ``sym.sdk.field_option`` module: a re-export of ``FieldOption``."""

from jitflow.sdk.forms import FieldOption

__all__ = ["FieldOption"]

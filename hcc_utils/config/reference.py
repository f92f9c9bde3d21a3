"""Every key of the study configuration as the book's *Configuration* page lists it: type, default, description,
read off the schema (:mod:`hcc_utils.config.schema`), so the page cannot drift from the code."""
from __future__ import annotations

import datetime as _dt
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel

from hcc_utils.config.schema import StudyConfig, _is_model, _list_item_model


def schema_rows() -> list[dict[str, str]]:
    """Every key of the schema with its type, default and description (for the book's Configuration page)."""
    rows = []

    def walk(model: type[BaseModel], prefix: str, item: bool = False) -> None:
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if _is_model(annotation):
                rows.append({"key": f"{prefix}{name}", "type": "section", "default": "",
                             "description": (annotation.__doc__ or "").strip()})
                walk(annotation, f"{prefix}{name}.")
                continue
            default = "" if field.is_required() else _dumped(field.get_default(call_default_factory=True))
            rows.append({"key": f"{prefix}{name}", "type": _type_name(annotation) + (", required" if item and
                                                                                     field.is_required() else ""),
                         "default": default, "description": field.description or ""})
            entry = _list_item_model(annotation)
            if entry is not None:  # the keys of one list item, as key[].name
                walk(entry, f"{prefix}{name}[].", item=True)

    walk(StudyConfig, "")
    return rows


def _dumped(value: Any) -> str:
    """A default as YAML writes it on one line (models as their mappings)."""
    if isinstance(value, list):
        value = [entry.model_dump(mode="json", exclude_none=True) if isinstance(entry, BaseModel) else entry
                 for entry in value]
    return yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True, sort_keys=False).strip() \
        .removesuffix("...").strip()


def _type_name(annotation: Any) -> str:
    """A type as readers of the Configuration page write it: 'number', 'one of: a, b', 'list of text'..."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:  # punctuation quoted, so that ',' and '.' read as values, not as the list's commas
        return "one of: " + ", ".join(str(a) if any(c.isalnum() for c in str(a)) else repr(str(a)) for a in args)
    if origin in (Union, UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in args else "")
    if origin is list:
        if args and _is_model(args[0]):
            return "list of mappings (keys below)"
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping of {_type_name(args[0])} to {_type_name(args[1])}" if args else "mapping"
    return {str: "text", int: "whole number", float: "number", bool: "true/false",
            _dt.date: "date (YYYY-MM-DD)"}.get(annotation, str(annotation))

"""Request bodies of the JSON API, derived from the wire contracts so each field rule is written once.

A body is the command of `soesmart.contracts` without what the gateway fills in
itself (the signed-in citizen or staff member, ids from the path, the client key).
Its fields are the contract's fields, with the same types and limits; what is
checked over several fields (dates in order, a reason for a refusal) stays in the
contract and is checked when the gateway builds the command from the body.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model
from pydantic.fields import FieldInfo


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def body_of(contract: type[BaseModel], name: str, *, without: Iterable[str] = (),
            optional: Iterable[str] = (), describe: Mapping[str, str] | None = None,
            add: Mapping[str, Any] | None = None, doc: str | None = None) -> type[Body]:
    """The body `name`: the fields of `contract` but `without`, then those in `add`.

    Fields in `optional` may be left out (default None) and keep their limits;
    `describe` documents fields for the OpenAPI document; `doc` is the body's description.
    """
    dropped, maybe = set(without), set(optional)
    fields: dict[str, Any] = {}
    for field_name, info in contract.model_fields.items():
        if field_name in dropped:
            continue
        annotation: Any = info.annotation
        overrides: dict[str, Any] = {}
        if field_name in maybe:
            annotation = annotation | None
            overrides["default"] = None
        if describe and field_name in describe:
            overrides["description"] = describe[field_name]
        fields[field_name] = (annotation, FieldInfo.merge_field_infos(info, **overrides))
    fields.update(add or {})
    model: type[Body] = create_model(name, __base__=Body, __doc__=doc, **fields)
    return model

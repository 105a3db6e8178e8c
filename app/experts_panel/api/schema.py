"""The served OpenAPI schema, with the query's event models among its components.

The events travel inside `text/event-stream`, where FastAPI alone would leave them out, and
the front end could only guess them. Here each event model, and their union `ProgressEvent`
(told apart by `event_type`), become components, and the stream's media type describes each
message as one whose `data` line holds one of them as JSON. The front end's types are
generated from this schema (`scripts/api-types`).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from fastapi import FastAPI
from pydantic.json_schema import models_json_schema

from experts_panel.pipeline.contract import EVENT_MODELS

REF = "#/components/schemas/{model}"
PROGRESS_EVENT_REF = REF.format(model="ProgressEvent")
# One message of the stream as Server-Sent Events frame it (OpenAPI 3.1 has the schema of a
# text/event-stream describe each message): its `data` line holds one event as JSON.
STREAM_MESSAGE = {
    "type": "object",
    "properties": {
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": PROGRESS_EVENT_REF},
        }
    },
    "required": ["data"],
}


def event_schemas() -> dict[str, dict[str, Any]]:
    """The event models and what they refer to, as OpenAPI components."""
    _, top = models_json_schema([(m, "serialization") for m in EVENT_MODELS], ref_template=REF)
    schemas: dict[str, dict[str, Any]] = top["$defs"]
    mapping = {
        m.model_fields["event_type"].default: REF.format(model=m.__name__) for m in EVENT_MODELS
    }
    schemas["ProgressEvent"] = {
        "title": "ProgressEvent",
        "description": "One event of the query's stream: one `data:` line of text/event-stream.",
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "event_type", "mapping": mapping},
    }
    return schemas


def add_events(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (FastAPI's of the routes) with the event components added."""
    components: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in event_schemas().items():
        # A model both describe (the answer inside `complete`) must come out the same.
        if name in components and components[name] != definition:
            raise RuntimeError(f"the event models and the routes describe {name} differently")
        components[name] = definition
    schema["components"]["schemas"] = dict(sorted(components.items()))
    return schema


def install(app: FastAPI) -> None:
    """Serve FastAPI's schema with the events added, built once, at the app's OpenAPI URL."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            # FastAPI's own method builds the routes' schema and keeps it in `openapi_schema`.
            app.openapi_schema = add_events(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend


def served_schema() -> dict[str, Any]:
    """The schema the app serves, built without a database or a server."""
    # Imported here: the app imports this module to install the schema.
    from experts_panel.api.app import create_app
    from experts_panel.settings import load_settings

    # No database is opened: the lifespan, which would open it, never starts.
    app = create_app(load_settings({"DATABASE_URL": "sqlite+aiosqlite:///unused.db"}))
    return app.openapi()


def stream_schemas(schema: dict[str, Any]) -> dict[str, Any]:
    """The components an event of the stream is made of: `ProgressEvent` and all it refers to,
    for the front end's check of each event as it arrives."""
    components: dict[str, Any] = schema["components"]["schemas"]
    wanted, todo = {}, ["ProgressEvent"]
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted[name] = components[name]
        todo += _refs(components[name])
    return dict(sorted(wanted.items()))


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"].rsplit("/", 1)[1]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


if __name__ == "__main__":
    # `python -m experts_panel.api.schema [--stream]`: what scripts/api-types generates the
    # front end's types from, and (--stream) the schemas its check of each event reads.
    served = served_schema()
    document = stream_schemas(served) if sys.argv[1:] == ["--stream"] else served
    print(json.dumps(document, indent=2, ensure_ascii=False))

"""Sphinx extension: render the OpenAPI file shipped in the package.

The directive ``envmod-openapi`` (no arguments, no content; in MyST a fenced
```` ```{envmod-openapi} ```` block) reads ``jupyter_envmod/openapi.yaml`` (the
checkout's copy next to ``docs/``, else the imported package's; the config value
``envmod_openapi_spec`` overrides the path) with ruamel.yaml's safe loader and
renders two sections:

- *Endpoints*: one section per path and method, in file order, titled with the
  method and the full path (the first server URL, e.g. ``/envmod``, before the
  path): the summary, the description (CommonMark, parsed as MyST), the
  parameters (path-level and operation-level, ``$ref`` resolved) as a table, the
  request body and every response (status, description, headers, body schema);
- *Schemas*: every entry of ``components.schemas`` once, in file order, with its
  description and a table of its fields (nested inline objects and arrays of
  objects flattened as ``a.b`` and ``a[].b``), and the places that use it.

Schemas given by ``$ref: "#/components/schemas/X"`` are links to X's section.
Types follow JSON Schema (OpenAPI 3.1): type lists (``[string, "null"]``), enums,
``const``, ``oneOf``/``anyOf``/``allOf``, ``additionalProperties``, arrays;
formats, patterns, defaults and bounds are shown next to the type.

Every section has a stable label usable with ``{ref}``:
``openapi-<method>-<full path>`` (e.g. ``openapi-get-envmod-environments-env-id``
for ``GET /envmod/environments/{env_id}``) and ``openapi-schema-<name>`` (e.g.
``openapi-schema-siteinfo``); lower case, other characters turned into ``-``.

The spec file is a dependency of the page, so editing it rebuilds the page. Problems
in the file (unreadable, an unresolved ``$ref``) are Sphinx warnings of type
``envmod.openapi``, hence errors under ``-W``. The directive must be the last thing
of its section (it adds subsections).
"""

from __future__ import annotations

import http
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.nodes import Node
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_PREFIX = "#/components/schemas/"
LABEL_PREFIX = "openapi"
COLUMN_WIDTHS = {"In": 8, "Required": 9, "Type": 30, "Description": 40}
# Nested inline objects deeper than this are shown as "object" only.
MAX_DEPTH = 8


def default_spec_path(app: Sphinx) -> Path:
    """The checkout's openapi.yaml next to docs/, else the installed package's."""
    checkout = Path(app.confdir).parent / "jupyter_envmod" / "openapi.yaml"
    if checkout.is_file():
        return checkout
    import jupyter_envmod

    return Path(jupyter_envmod.__file__).parent / "openapi.yaml"


def load_spec(path: Path) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text_of(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def literal(text: str) -> nodes.literal:
    return nodes.literal(text, text)


def json_literal(value: Any) -> nodes.literal:
    return literal(json.dumps(value, ensure_ascii=False))


def joined(parts: list[list[Node]], sep: str) -> list[Node]:
    out: list[Node] = []
    for i, part in enumerate(parts):
        if i:
            out.append(nodes.Text(sep))
        out.extend(part)
    return out


def status_nodes(code: str) -> list[Node]:
    """``200`` OK; ``default`` (any other status); ``4XX`` as is."""
    if code == "default":
        return [literal(code), nodes.Text(" (any other status)")]
    try:
        return [literal(code), nodes.Text(f" {http.HTTPStatus(int(code)).phrase}")]
    except ValueError:
        return [literal(code)]


def is_inline_object(schema: dict[str, Any]) -> bool:
    return "$ref" not in schema and isinstance(schema.get("properties"), dict) and bool(schema["properties"])


def without_fields(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` without what a field table shows (for the type line above it)."""
    return {k: v for k, v in schema.items() if k not in ("properties", "required", "additionalProperties")}


def follow(spec: dict[str, Any], ref: str) -> Any:
    """What the local reference ``#/a/b`` points at in ``spec``, or None."""
    target: Any = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        target = target.get(part) if isinstance(target, dict) else None
    return target


def refs_in(value: Any, spec: dict[str, Any], seen: set[str] | None = None) -> Iterator[str]:
    """Every schema ``$ref`` inside ``value``, through the other local $refs
    (``#/components/responses/…``, parameters, request bodies, headers)."""
    seen = set() if seen is None else seen
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "$ref" or not isinstance(item, str):
                yield from refs_in(item, spec, seen)
            elif item.startswith(SCHEMA_PREFIX) or not item.startswith("#/"):
                yield item
            elif item not in seen:
                seen.add(item)
                yield from refs_in(follow(spec, item), spec, seen)
    elif isinstance(value, list):
        for item in value:
            yield from refs_in(item, spec, seen)


class Renderer:
    """Turns one loaded OpenAPI document into docutils nodes."""

    def __init__(self, directive: EnvmodOpenAPI, spec: dict[str, Any], source: str) -> None:
        self.directive = directive
        self.spec = spec
        self.source = source
        self.document = directive.state.document
        self.myst = type(directive.state).__module__.startswith("myst_parser")
        self.schemas = as_dict(as_dict(spec.get("components")).get("schemas"))
        self.used_ids: set[str] = set()
        self.schema_ids = {name: self.new_id(f"{LABEL_PREFIX}-schema-{name}") for name in self.schemas}
        servers = spec.get("servers")
        first = as_dict(servers[0]) if isinstance(servers, list) and servers else {}
        url = text_of(first.get("url"))
        # Only a relative server URL ("/envmod") is a path prefix; a full URL is site-specific.
        self.prefix = url.rstrip("/") if url.startswith("/") else ""

    # -- helpers ---------------------------------------------------------------------

    def warn(self, message: str) -> None:
        logger.warning(
            "%s (%s)", message, self.source, location=self.directive.get_location(), type="envmod", subtype="openapi"
        )

    def new_id(self, wanted: str) -> str:
        base = str(nodes.make_id(wanted))
        candidate, n = base, 1
        while candidate in self.used_ids or candidate in self.document.ids:
            n += 1
            candidate = f"{base}-{n}"
        self.used_ids.add(candidate)
        return candidate

    def section(self, title: list[Node], ident: str) -> nodes.section:
        section = nodes.section(ids=[ident], names=[ident])
        section += nodes.title("", "", *title)
        self.document.note_explicit_target(section, section)
        return section

    def markdown(self, text: str) -> list[Node]:
        """Block Markdown (OpenAPI descriptions are CommonMark), parsed by MyST."""
        text = text.strip()
        if not text:
            return []
        if self.myst and hasattr(self.directive, "parse_text_to_nodes"):  # Sphinx >= 7.4
            return list(self.directive.parse_text_to_nodes(text))
        if self.myst:
            container = nodes.container()
            self.directive.state.nested_parse(StringList(text.splitlines()), self.directive.content_offset, container)
            return list(container.children)
        return [nodes.paragraph(block, block) for block in re.split(r"\n\s*\n", text)]

    def resolve(self, value: Any, what: str) -> dict[str, Any]:
        """Follow a local ``$ref`` (parameters, request bodies, responses, headers)."""
        seen: set[str] = set()
        while isinstance(value, dict) and isinstance(value.get("$ref"), str):
            ref = value["$ref"]
            if ref in seen or not ref.startswith("#/"):
                self.warn(f"cannot resolve $ref {ref!r} of {what}")
                return {}
            seen.add(ref)
            target = follow(self.spec, ref)
            if target is None:
                self.warn(f"unresolved $ref {ref!r} of {what}")
                return {}
            value = target
        return as_dict(value)

    def table(self, headers: list[str], rows: list[list[list[Node]]]) -> nodes.table:
        # HTML sizes the columns itself (colwidths-auto); the widths are for other builders.
        table = nodes.table(classes=["colwidths-auto", "envmod-openapi"])
        group = nodes.tgroup(cols=len(headers))
        table += group
        for header in headers:
            group += nodes.colspec(colwidth=COLUMN_WIDTHS.get(header, 20))
        head = nodes.thead()
        group += head
        row = nodes.row()
        head += row
        for header in headers:
            row += nodes.entry("", nodes.paragraph(header, header))
        body = nodes.tbody()
        group += body
        for cells in rows:
            row = nodes.row()
            body += row
            for cell in cells:
                entry = nodes.entry()
                if cell and all(isinstance(n, nodes.Body) and not isinstance(n, nodes.Inline) for n in cell):
                    entry.extend(cell)
                elif cell:
                    entry += nodes.paragraph("", "", *cell)
                row += entry
        return table

    # -- types -----------------------------------------------------------------------

    def ref_nodes(self, ref: str) -> list[Node]:
        name = ref[len(SCHEMA_PREFIX) :] if ref.startswith(SCHEMA_PREFIX) else None
        if name is None or name not in self.schemas:
            self.warn(f"unresolved schema $ref {ref!r}")
            return [literal(ref)]
        link = nodes.reference("", "", literal(name), internal=True, refid=self.schema_ids[name])
        return [link]

    def type_nodes(self, schema: Any, depth: int = 0) -> list[Node]:
        """The type of ``schema`` as inline nodes: links for $refs, then constraints."""
        if schema is True or schema == {}:
            return [nodes.Text("any")]
        if schema is False:
            return [nodes.Text("nothing (not allowed)")]
        if not isinstance(schema, dict):
            return [nodes.Text("any")]
        if depth > MAX_DEPTH:
            return [nodes.Text("…")]
        parts: list[list[Node]] = []
        if isinstance(schema.get("$ref"), str):
            parts.append(self.ref_nodes(schema["$ref"]))
        for key, sep in (("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")):
            alternatives = schema.get(key)
            if isinstance(alternatives, list) and alternatives:
                lead = {"oneOf": "one of: ", "anyOf": "any of: ", "allOf": "all of: "}[key]
                inner = joined([self.alternative_nodes(a, depth + 1) for a in alternatives], sep)
                parts.append([nodes.Text(lead), *inner])
        types = schema.get("type")
        type_list = [types] if isinstance(types, str) else [t for t in types or [] if isinstance(t, str)]
        if not type_list and not parts and "enum" in schema:
            type_list = sorted({self.json_type(v) for v in schema["enum"]}, key=lambda t: (t == "null", t))
        for name in type_list:
            parts.append(self.single_type_nodes(name, schema, depth))
        if schema.get("nullable") is True and "null" not in type_list:
            parts.append([nodes.Text("null")])
        out = joined(parts, " or ") if parts else [nodes.Text("any")]
        return out + self.constraint_nodes(schema)

    def alternative_nodes(self, schema: Any, depth: int) -> list[Node]:
        if isinstance(schema, dict) and is_inline_object(schema):
            names = [literal(str(n)) for n in schema["properties"]]
            return [nodes.Text("object {"), *joined([[n] for n in names], ", "), nodes.Text("}")]
        return self.type_nodes(schema, depth)

    @staticmethod
    def json_type(value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, float):
            return "number"
        if isinstance(value, list):
            return "array"
        if isinstance(value, dict):
            return "object"
        return "string"

    def single_type_nodes(self, name: str, schema: dict[str, Any], depth: int) -> list[Node]:
        if name == "array":
            items = schema.get("items")
            if items is None:
                return [nodes.Text("array")]
            return [nodes.Text("array of "), *self.type_nodes(items, depth + 1)]
        if name == "object":
            extra = schema.get("additionalProperties")
            if not schema.get("properties") and isinstance(extra, dict) and extra:
                return [nodes.Text("object with "), *self.type_nodes(extra, depth + 1), nodes.Text(" values")]
            if schema.get("properties") and extra is False:
                return [nodes.Text("object, no other fields")]
            return [nodes.Text("object")]
        fmt = schema.get("format")
        return [nodes.Text(f"{name} ({fmt})" if isinstance(fmt, str) and name != "null" else name)]

    def constraint_nodes(self, schema: dict[str, Any]) -> list[Node]:
        notes: list[list[Node]] = []
        if isinstance(schema.get("enum"), list):
            notes.append([nodes.Text("one of "), *joined([[json_literal(v)] for v in schema["enum"]], ", ")])
        if "const" in schema:
            notes.append([nodes.Text("always "), json_literal(schema["const"])])
        if isinstance(schema.get("pattern"), str):
            notes.append([nodes.Text("matching "), literal(schema["pattern"])])
        for key, word in (
            ("minimum", "≥"),
            ("exclusiveMinimum", ">"),
            ("maximum", "≤"),
            ("exclusiveMaximum", "<"),
            ("minLength", "length ≥"),
            ("maxLength", "length ≤"),
            ("minItems", "items ≥"),
            ("maxItems", "items ≤"),
        ):
            value = schema.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                notes.append([nodes.Text(f"{word} {value}")])
        if schema.get("uniqueItems") is True:
            notes.append([nodes.Text("unique items")])
        if "default" in schema:
            notes.append([nodes.Text("default "), json_literal(schema["default"])])
        for flag in ("readOnly", "writeOnly", "deprecated"):
            if schema.get(flag) is True:
                notes.append([nodes.Text({"readOnly": "read-only", "writeOnly": "write-only"}.get(flag, flag))])
        return [nodes.Text("; "), *joined(notes, "; ")] if notes else []

    # -- fields ----------------------------------------------------------------------

    def field_rows(self, schema: dict[str, Any], prefix: str = "", depth: int = 0) -> list[list[list[Node]]]:
        """Rows (field, type, required, description) of an object schema; inline
        nested objects and arrays of objects are flattened with dotted names."""
        rows: list[list[list[Node]]] = []
        listed = schema.get("required")
        required: list[Any] = listed if isinstance(listed, list) else []
        for name, prop in as_dict(schema.get("properties")).items():
            full = f"{prefix}{name}"
            rows.append(
                [
                    [literal(full)],
                    self.type_nodes(prop, depth),
                    [nodes.Text("yes" if name in required else "")],
                    self.markdown(text_of(as_dict(prop).get("description"))),
                ]
            )
            prop = as_dict(prop)
            if depth < MAX_DEPTH and is_inline_object(prop):
                rows += self.field_rows(prop, f"{full}.", depth + 1)
            items = as_dict(prop.get("items"))
            if depth < MAX_DEPTH and is_inline_object(items):
                rows += self.field_rows(items, f"{full}[].", depth + 1)
        extra = schema.get("additionalProperties")
        if schema.get("properties") and (extra is True or (isinstance(extra, dict))):
            rows.append(
                [
                    [nodes.emphasis(text=f"{prefix}(any other name)")],
                    self.type_nodes(extra, depth),
                    [],
                    self.markdown(text_of(as_dict(extra).get("description"))),
                ]
            )
        return rows

    def schema_blocks(self, schema: Any, lead: list[Node]) -> list[Node]:
        """``lead`` + the type of ``schema`` as a paragraph, then a field table for an
        inline object (or array of objects), or a list for oneOf/anyOf alternatives."""
        schema = as_dict(schema) if schema is not True else {}
        parts = schema.get("allOf")
        if isinstance(parts, list) and parts and "$ref" not in schema:
            return self.all_of_blocks(schema, parts, lead)
        if is_inline_object(schema):
            return self.object_blocks(schema, [*lead, *self.type_nodes(without_fields(schema))])
        items = as_dict(schema.get("items"))
        if schema.get("type") == "array" and is_inline_object(items):
            head = [*lead, nodes.Text("array of "), *self.type_nodes(without_fields(items))]
            return self.object_blocks(items, head)
        for key in ("oneOf", "anyOf"):
            alternatives = schema.get(key)
            if isinstance(alternatives, list) and alternatives and "$ref" not in schema:
                word = "one" if key == "oneOf" else "any"
                blocks = [nodes.paragraph("", "", *lead, nodes.Text(f"{word} of:"))]
                listing = nodes.bullet_list()
                for alternative in alternatives:
                    alt = as_dict(alternative)
                    item = nodes.list_item()
                    item.extend(self.markdown(text_of(alt.get("description"))) if "$ref" not in alt else [])
                    item.extend(self.schema_blocks(alt, []))
                    listing += item
                blocks.append(listing)
                return blocks
        return [nodes.paragraph("", "", *lead, *self.type_nodes(schema))]

    def object_blocks(self, schema: dict[str, Any], head: list[Node], tail: str = " with the fields:") -> list[Node]:
        """``head`` + ``tail``, the field table, and whether other fields may come."""
        blocks: list[Node] = [nodes.paragraph("", "", *head, nodes.Text(tail))]
        blocks.append(self.table(["Field", "Type", "Required", "Description"], self.field_rows(schema)))
        if schema.get("additionalProperties") is False:
            blocks.append(nodes.paragraph("", "", nodes.Text("No other fields are allowed.")))
        return blocks

    def all_of_blocks(self, schema: dict[str, Any], parts: list[Any], lead: list[Node]) -> list[Node]:
        """``allOf``: the fields of each referenced schema, then one table of the fields
        of the inline parts (and of ``schema`` itself), merged."""
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        refs: list[list[Node]] = []
        others: list[list[Node]] = []
        for part in [*parts, {k: v for k, v in schema.items() if k != "allOf"}]:
            part = as_dict(part)
            if isinstance(part.get("$ref"), str):
                refs.append(self.ref_nodes(part["$ref"]))
            elif is_inline_object(part):
                merged["properties"].update(part["properties"])
                merged["required"] += part.get("required") or []
                if "additionalProperties" in part:
                    merged["additionalProperties"] = part["additionalProperties"]
            elif part.get("type") not in (None, "object") or part.get("oneOf") or part.get("anyOf"):
                others.append(self.type_nodes(part))
        text: list[Node] = list(lead)
        if refs:
            text += [nodes.Text("object with the fields of "), *joined(refs, ", ")]
        if others:
            text += [nodes.Text("; all of: " if refs else "all of: "), *joined(others, " and ")]
        if not merged["properties"]:
            return [nodes.paragraph("", "", *text)]
        if refs or others:
            return self.object_blocks(merged, text, ", and:")
        return self.object_blocks(merged, [*text, nodes.Text("object")])

    # -- operations ------------------------------------------------------------------

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
        paths = self.spec.get("paths")
        if not isinstance(paths, dict):
            self.warn("no 'paths' object")
            return
        for path, item in paths.items():
            item = self.resolve(item, f"path {path}")
            for method, operation in item.items():
                if str(method).lower() in HTTP_METHODS and isinstance(operation, dict):
                    yield str(path), str(method).upper(), item, operation

    def parameters(self, item: dict[str, Any], operation: dict[str, Any], what: str) -> list[dict[str, Any]]:
        """Path-level parameters, replaced by operation-level ones of the same name and place."""
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for source in (item.get("parameters"), operation.get("parameters")):
            for raw in source if isinstance(source, list) else []:
                param = self.resolve(raw, what)
                if param:
                    merged[(str(param.get("name")), str(param.get("in")))] = param
        return list(merged.values())

    def parameter_table(self, params: list[dict[str, Any]]) -> nodes.table:
        rows = []
        for param in params:
            schema = param.get("schema")
            if schema is None and isinstance(param.get("content"), dict) and param["content"]:
                schema = as_dict(next(iter(param["content"].values()))).get("schema")
            required = param.get("required") is True or param.get("in") == "path"
            description = self.markdown(text_of(param.get("description")))
            if param.get("deprecated") is True:
                description.insert(0, nodes.paragraph("", "", nodes.strong(text="Deprecated.")))
            rows.append(
                [
                    [literal(str(param.get("name", "")))],
                    [nodes.Text(str(param.get("in", "")))],
                    [nodes.Text("yes" if required else "")],
                    self.type_nodes(schema if schema is not None else {}),
                    description,
                ]
            )
        return self.table(["Name", "In", "Required", "Type", "Description"], rows)

    def content_blocks(self, content: Any) -> list[Node]:
        blocks: list[Node] = []
        for media, media_object in as_dict(content).items():
            lead: list[Node] = [literal(str(media)), nodes.Text(": ")]
            media_object = as_dict(media_object)
            if "schema" in media_object:
                blocks += self.schema_blocks(media_object["schema"], lead)
            else:
                blocks.append(nodes.paragraph("", "", literal(str(media))))
        return blocks

    def response_item(self, code: str, response: dict[str, Any]) -> nodes.definition_list_item:
        item = nodes.definition_list_item()
        item += nodes.term("", "", *status_nodes(code))
        definition = nodes.definition()
        item += definition
        definition.extend(self.markdown(text_of(response.get("description"))))
        headers = as_dict(response.get("headers"))
        if headers:
            rows = []
            for name, header in headers.items():
                header = self.resolve(header, f"header {name}")
                rows.append(
                    [
                        [literal(str(name))],
                        self.type_nodes(header.get("schema", {})),
                        self.markdown(text_of(header.get("description"))),
                    ]
                )
            definition += self.table(["Header", "Type", "Description"], rows)
        definition.extend(self.content_blocks(response.get("content")))
        if not definition.children:
            definition += nodes.paragraph("", "", nodes.Text("No body."))
        return item

    def operation_section(self, path: str, method: str, item: dict[str, Any], operation: dict[str, Any]) -> Node:
        full = f"{self.prefix}{path}"
        what = f"{method} {path}"
        section = self.section([literal(f"{method} {full}")], self.operation_id(method, full))
        summary = text_of(operation.get("summary")) or text_of(item.get("summary"))
        if summary:
            section += nodes.paragraph(summary, summary)
        if operation.get("deprecated") is True:
            section += nodes.paragraph("", "", nodes.strong(text="Deprecated."))
        section.extend(self.markdown(text_of(operation.get("description")) or text_of(item.get("description"))))

        params = self.parameters(item, operation, what)
        if params:
            section += nodes.rubric("Parameters", "Parameters")
            section += self.parameter_table(params)

        if "requestBody" in operation:
            body = self.resolve(operation["requestBody"], f"request body of {what}")
            title = "Request body" + (" (required)" if body.get("required") is True else " (optional)")
            section += nodes.rubric(title, title)
            section.extend(self.markdown(text_of(body.get("description"))))
            section.extend(self.content_blocks(body.get("content")))

        responses = as_dict(operation.get("responses"))
        if responses:
            section += nodes.rubric("Responses", "Responses")
            listing = nodes.definition_list()
            for code, raw in responses.items():
                listing += self.response_item(str(code), self.resolve(raw, f"response {code} of {what}"))
            section += listing
        return section

    def operation_id(self, method: str, full_path: str) -> str:
        return self.new_id(f"{LABEL_PREFIX}-{method}-{full_path}")

    # -- schemas ---------------------------------------------------------------------

    def users(
        self, ops: list[tuple[str, str, dict[str, Any], dict[str, Any]]], op_ids: dict[tuple[str, str], tuple[str, str]]
    ) -> dict[str, list[tuple[str, str]]]:
        """Schema name → [(text, refid)] of the operations and schemas that refer to it."""
        used: dict[str, list[tuple[str, str]]] = {name: [] for name in self.schemas}

        def note(value: Any, text: str, refid: str) -> None:
            for ref in dict.fromkeys(refs_in(value, self.spec)):
                name = ref[len(SCHEMA_PREFIX) :] if ref.startswith(SCHEMA_PREFIX) else None
                if name in used and (text, refid) not in used[name]:
                    used[name].append((text, refid))

        for path, method, item, operation in ops:
            text, refid = op_ids[(path, method)]
            note([item.get("parameters"), operation], text, refid)
        for name, schema in self.schemas.items():
            note(schema, name, self.schema_ids[name])
        return used

    def schema_section(self, name: str, schema: Any, used_by: list[tuple[str, str]]) -> Node:
        section = self.section([literal(name)], self.schema_ids[name])
        schema_dict = as_dict(schema)
        section.extend(self.markdown(text_of(schema_dict.get("description"))))
        section.extend(self.schema_blocks(schema_dict, [nodes.Text("Type: ")]))
        if used_by:
            links: list[list[Node]] = [
                [nodes.reference("", "", literal(text), internal=True, refid=refid)] for text, refid in used_by
            ]
            section += nodes.paragraph("", "", nodes.Text("Used by: "), *joined(links, ", "))
        return section

    # -- all -------------------------------------------------------------------------

    def render(self) -> list[Node]:
        op_ids: dict[tuple[str, str], tuple[str, str]] = {}
        endpoints = self.section([nodes.Text("Endpoints")], self.new_id(f"{LABEL_PREFIX}-endpoints"))
        ops = list(self.operations())
        for path, method, item, operation in ops:
            op = self.operation_section(path, method, item, operation)
            endpoints += op
            op_ids[(path, method)] = (f"{method} {self.prefix}{path}", op["ids"][0])
        result: list[Node] = [endpoints]
        if self.schemas:
            used = self.users(ops, op_ids)
            schemas = self.section([nodes.Text("Schemas")], self.new_id(f"{LABEL_PREFIX}-schemas"))
            for name, schema in self.schemas.items():
                schemas += self.schema_section(name, schema, used[name])
            result.append(schemas)
        return result


class EnvmodOpenAPI(SphinxDirective):
    """Render jupyter_envmod's OpenAPI file (see the module docstring)."""

    has_content = False
    required_arguments = 0
    optional_arguments = 0

    def run(self) -> list[Node]:
        configured = self.config.envmod_openapi_spec
        path = Path(configured) if configured else default_spec_path(self.env.app)
        if not path.is_absolute():
            path = Path(self.env.srcdir) / path
        self.env.note_dependency(str(path))
        try:
            spec = load_spec(path)
        except Exception as err:  # unreadable or invalid YAML: say which file and why
            logger.warning(
                "cannot read the OpenAPI file %s: %s",
                path,
                err,
                location=self.get_location(),
                type="envmod",
                subtype="openapi",
            )
            return []
        if not isinstance(spec, dict):
            logger.warning(
                "the OpenAPI file %s is not a mapping",
                path,
                location=self.get_location(),
                type="envmod",
                subtype="openapi",
            )
            return []
        return Renderer(self, spec, str(path)).render()


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("envmod_openapi_spec", "", "env", types=frozenset({str}))
    app.add_directive("envmod-openapi", EnvmodOpenAPI)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

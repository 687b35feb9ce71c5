# validate.py: checks JSON files against a JSON Schema (the draft-07 subset our schemas use), stdlib only, no network.
"""Usage: validate.py SCHEMA FILE...   exit 0 if every FILE is valid, 1 (with each error's path) if not.

Supported keywords: type, enum, const, required, properties, additionalProperties, items,
minItems, minimum, anyOf, contains, $ref (#/definitions/...). A schema keyword outside this
set is an error, so nothing is silently left unchecked.
"""
import json
import sys

TYPES = {
    "object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
    "number": (int, float), "integer": int,
}
IGNORED = {"$schema", "$comment", "title", "description", "definitions"}


def is_type(value, name):
    if name in ("number", "integer") and isinstance(value, bool):
        return False
    return isinstance(value, TYPES[name])


def check(value, schema, root, path, errors):
    for key in schema:
        if key not in IGNORED and key not in KEYWORDS:
            raise ValueError(f"validate.py does not implement the keyword {key!r}")
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/definitions/"):
            raise ValueError(f"only local #/definitions/ references: {ref}")
        check(value, root["definitions"][ref.rsplit("/", 1)[1]], root, path, errors)
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(is_type(value, n) for n in names):
            errors.append(f"{path}: expected {'/'.join(names)}, got {type(value).__name__}")
            return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} is not {schema['const']!r}")
    if "minimum" in schema and is_type(value, "number") and value < schema["minimum"]:
        errors.append(f"{path}: {value} is below {schema['minimum']}")
    if isinstance(value, dict):
        for k in schema.get("required", []):
            if k not in value:
                errors.append(f"{path}: missing {k!r}")
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                check(v, props[k], root, f"{path}.{k}", errors)
            elif schema.get("additionalProperties", True) is False:
                errors.append(f"{path}: unexpected key {k!r}")
            elif isinstance(schema.get("additionalProperties"), dict):
                check(v, schema["additionalProperties"], root, f"{path}.{k}", errors)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: fewer than {schema['minItems']} items")
        if "items" in schema:
            for i, v in enumerate(value):
                check(v, schema["items"], root, f"{path}[{i}]", errors)
        if "contains" in schema and not any(not sub_errors(v, schema["contains"], root) for v in value):
            errors.append(f"{path}: no item matches {json.dumps(schema['contains'])}")
    if "anyOf" in schema:
        if all(sub_errors(value, s, root) for s in schema["anyOf"]):
            errors.append(f"{path}: matches none of the anyOf alternatives")


def sub_errors(value, schema, root):
    errs = []
    check(value, schema, root, "$", errs)
    return errs


KEYWORDS = {"$ref", "type", "enum", "const", "minimum", "required", "properties",
            "additionalProperties", "items", "minItems", "contains", "anyOf"}


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        schema = json.load(f)
    bad = 0
    for name in argv[2:]:
        try:
            with open(name) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            print(f"{name}: not JSON: {e}")
            bad += 1
            continue
        errs = sub_errors(doc, schema, schema)
        for e in errs[:20]:
            print(f"{name}: {e}")
        bad += bool(errs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

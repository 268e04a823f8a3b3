#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Validate portredir -j output against definitions of
Documentation/portredir.schema.json, in one run (python and jsonschema
load slowly under emulation):

    json_check.py DEFINITION[=FILE]...

FILE defaults to stdin; monitor_event takes one JSON document per line, as
monitor -j prints. Exit 0 valid, 1 invalid (each reason on stderr),
4 when python3-jsonschema is missing."""
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("json_check: python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(4)

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "Documentation", "portredir.schema.json")


def problems(schema, definition, text):
    if definition not in schema["$defs"]:
        return [f"no definition {definition} in the schema"]
    validator = jsonschema.Draft202012Validator(
        dict(schema, **{"$ref": "#/$defs/" + definition}))
    documents = text.splitlines() if definition == "monitor_event" else [text]
    if not any(d.strip() for d in documents):
        return ["no output to validate"]
    found = []
    for document in documents:
        try:
            instance = json.loads(document)
        except ValueError as e:
            found.append(f"not JSON: {e}: {document[:80]}")
            continue
        for error in validator.iter_errors(instance):
            where = "/".join(str(p) for p in error.absolute_path)
            found.append(f"at /{where}: {error.message}")
    return found


def main():
    with open(SCHEMA) as f:
        schema = json.load(f)
    status = 0
    for argument in sys.argv[1:]:
        definition, _, path = argument.partition("=")
        if path:
            with open(path) as f:
                text = f.read()
        else:
            text = sys.stdin.read()
        for problem in problems(schema, definition, text):
            print(f"json_check: {argument}: {problem}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())

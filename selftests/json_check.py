#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Validate portredir -j output read from stdin against one definition of
Documentation/portredir.schema.json: json_check.py DEFINITION [--lines]
(--lines: one JSON document per line, as monitor prints). Exit 0 valid,
1 invalid (with the reason on stderr), 4 when python3-jsonschema is missing."""
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


def main():
    definition = sys.argv[1]
    with open(SCHEMA) as f:
        schema = json.load(f)
    if definition not in schema["$defs"]:
        print(f"json_check: no definition {definition}", file=sys.stderr)
        return 2
    schema["$ref"] = "#/$defs/" + definition
    validator = jsonschema.Draft202012Validator(schema)
    text = sys.stdin.read()
    documents = text.splitlines() if "--lines" in sys.argv[2:] else [text]
    if not any(d.strip() for d in documents):
        print("json_check: no output to validate", file=sys.stderr)
        return 1
    for document in documents:
        try:
            instance = json.loads(document)
        except ValueError as e:
            print(f"json_check: not JSON: {e}: {document[:80]}", file=sys.stderr)
            return 1
        errors = list(validator.iter_errors(instance))
        for error in errors:
            where = "/".join(str(p) for p in error.absolute_path)
            print(f"json_check: {definition}: at /{where}: {error.message}",
                  file=sys.stderr)
        if errors:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

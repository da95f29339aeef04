#!/usr/bin/env python3
"""Decode and encode Mesos messages with Google's protobuf runtime, for a Rust test.

Usage: protobuf_compat.py DESCRIPTOR_SET < requests.json > results.json

DESCRIPTOR_SET is a serialized google.protobuf.FileDescriptorSet (mesos-core's
`proto::FILE_DESCRIPTOR_SET`); the message classes are built from it at run time, so no
protoc and no generated _pb2 modules are involved.

stdin is a JSON list of requests, stdout the JSON list of results, in the same order.
A request names a message type and carries protobuf bytes ("hex"), JSON ("json") or both:
  {"type": "mesos.v1.scheduler.Call", "hex": "0a02...", "json": {...}}
For "hex" the result has
  "dict":          json_format.MessageToDict(decoded, preserving_proto_field_name=True),
  "reencoded_hex": the decoded message serialized again by Google's runtime,
or "decode_error" when the bytes do not parse, lack required fields, or hold fields the
schema does not know (a wrong field number or wire type). For "json" it has
  "parsed_hex":    json_format.ParseDict(json, ignore_unknown_fields=False) serialized,
or "parse_error".
"""

import json
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf import unknown_fields
from google.protobuf.message import Message


def load_pool(path):
    with open(path, "rb") as f:
        files = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:  # protoc writes dependencies before their dependents
        pool.Add(file)
    return pool


def unknown_field_paths(message, path):
    """Paths of (sub)messages holding fields the schema does not know (wrong number or type)."""
    found = []
    if len(unknown_fields.UnknownFieldSet(message)):
        found.append(path or "<root>")
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if isinstance(value, Message):
            found += unknown_field_paths(value, "%s.%s" % (path, field.name))
        else:  # a repeated field of messages
            for i, item in enumerate(value):
                found += unknown_field_paths(item, "%s.%s[%d]" % (path, field.name, i))
    return found


def decode(cls, hex_bytes):
    message = cls.FromString(bytes.fromhex(hex_bytes))
    if not message.IsInitialized():
        return {"decode_error": "missing required fields: %s" % message.FindInitializationErrors()}
    unknown = unknown_field_paths(message, "")
    if unknown:
        return {"decode_error": "fields unknown to the schema at %s" % unknown}
    return {
        "dict": json_format.MessageToDict(message, preserving_proto_field_name=True),
        "reencoded_hex": message.SerializeToString(deterministic=True).hex(),
    }


def parse(cls, value):
    message = json_format.ParseDict(value, cls(), ignore_unknown_fields=False)
    return {"parsed_hex": message.SerializeToString(deterministic=True).hex()}


def handle(pool, request):
    cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(request["type"]))
    result = {}
    for key, step, error_key in (("hex", decode, "decode_error"), ("json", parse, "parse_error")):
        if key in request:
            try:
                result.update(step(cls, request[key]))
            except Exception as e:  # reported per request; the Rust test judges
                result[error_key] = "%s: %s" % (type(e).__name__, e)
    return result


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: protobuf_compat.py DESCRIPTOR_SET < requests.json")
    pool = load_pool(sys.argv[1])
    results = []
    for request in json.load(sys.stdin):
        results.append(handle(pool, request))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()

"""Reads Bazel's --execution_log_json_file: a stream of JSON objects, one
per spawn, not one JSON document. Imported by the other scripts here and by
the e2e tests (PYTHONPATH=tests/e2e/lib)."""
import json


def spawns(path):
    """Returns the spawns of the log at path, in order, as dicts."""
    text = open(path).read()
    dec = json.JSONDecoder()
    out = []
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        spawn, i = dec.raw_decode(text, i)
        out.append(spawn)


def cache_hit(spawn):
    """Whether a cache served the spawn (nothing ran): a disk or remote
    cache hit, however the Bazel version records it."""
    return bool(spawn.get("cacheHit") or spawn.get("remoteCacheHit")) or spawn.get("runner") == "remote cache hit"

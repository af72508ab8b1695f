"""Reads a Bazel --execution_log_json_file and prints one line per spawn:
its mnemonic, then "hit" (served by a cache: nothing ran) or "ran".

The log is a stream of JSON objects, one per spawn, not one JSON document.

    python3 spawns.py exec.json | awk '$2 == "ran"' | sort | uniq -c
"""
import json
import sys

text = open(sys.argv[1]).read()
dec = json.JSONDecoder()
i = 0
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    spawn, i = dec.raw_decode(text, i)
    print(spawn.get("mnemonic", "?"), "hit" if spawn.get("cacheHit") else "ran")

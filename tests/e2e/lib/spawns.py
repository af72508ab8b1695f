"""Reads a Bazel --execution_log_json_file and prints one line per spawn:
its mnemonic, then "hit" (served by a cache: nothing ran) or "ran".

    python3 spawns.py exec.json | awk '$2 == "ran"' | sort | uniq -c
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import execlog  # noqa: E402

for spawn in execlog.spawns(sys.argv[1]):
    print(spawn.get("mnemonic", "?"), "hit" if execlog.cache_hit(spawn) else "ran")

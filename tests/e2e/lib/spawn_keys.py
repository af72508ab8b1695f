"""Reads a Bazel --execution_log_json_file and prints, for each spawn of
the given mnemonic, its action key (the digest a remote cache stores it
under) and, with a third argument, how many of its inputs have that string
paths end in that string and have a content digest:

    python3 spawn_keys.py exec.json CppCompile
    python3 spawn_keys.py exec.json CppCompile sysroots/gcc_16/libexec/cc1

Lines are "KEY OUTPUT [N]", sorted by the spawn's first output.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import execlog  # noqa: E402

mnemonic = sys.argv[2]
needle = sys.argv[3] if len(sys.argv) > 3 else None
lines = []
for spawn in execlog.spawns(sys.argv[1]):
    if spawn.get("mnemonic") != mnemonic:
        continue
    key = spawn.get("digest", {}).get("hash", "none")
    outs = spawn.get("listedOutputs") or ["?"]
    line = "%s %s" % (key, outs[0].split("/bin/", 1)[-1])
    if needle is not None:
        n = sum(1 for f in spawn.get("inputs", []) if f.get("path", "").endswith(needle) and f.get("digest", {}).get("hash"))
        line += " %d" % n
    lines.append(line)
for line in sorted(lines, key=lambda l: l.split(" ")[1]):
    print(line)

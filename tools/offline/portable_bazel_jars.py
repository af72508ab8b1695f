"""Stages the Java side of the portable Bazel (tools/offline/sidroot.sh).

Run with the sid root's python3, inside the root:

    python3 portable_bazel_jars.py INSTALL_BASE STAGE

Debian's Bazel client puts INSTALL_BASE/A-server.jar and the jars named in
INSTALL_BASE/bazel_classpath_debian_depends.txt (absolute /usr/share/java
paths) on the server's class path, and several of those jars name more jars
by absolute path in their manifests' Class-Path. On another machine, such
absolute paths would load that machine's jars. This writes to STAGE:

  A-server.jar   Debian's, its manifest naming the listed jars as
                 ../java/NAME (resolved against the jar's own location)
  java/NAME      a copy of each jar whose manifest named /usr/share/java/X,
                 now naming X (the same directory)
  jars.txt       every jar of the closure, one NAME a line, in class path
                 order: the bundle puts each at share/java/NAME (the copy in
                 STAGE/java when there is one, else /usr/share/java/NAME)

Jars named but absent from the root are left out, as the root's JVM skips
them. Every other zip entry is copied as it is, in its order, with its date
and compression.
"""

import os
import posixpath
import sys
import zipfile

JAVA = "/usr/share/java"
MANIFEST = "META-INF/MANIFEST.MF"


def read_manifest(jar):
    with zipfile.ZipFile(jar) as z:
        names = z.namelist()
        for n in names:
            u = n.upper()
            if u.startswith("META-INF/") and u.endswith((".SF", ".RSA", ".DSA", ".EC")):
                sys.exit(f"{jar} is signed ({n}); rewriting its manifest would break it")
        if MANIFEST not in names:
            return None
        return z.read(MANIFEST).decode("utf-8")


def logical_lines(text):
    """The manifest's lines with continuations joined, and its line ending."""
    nl = "\r\n" if "\r\n" in text else "\n"
    out = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith(" ") and out:
            out[-1] += line[1:]
        else:
            out.append(line)
    return out, nl


def class_path(text):
    if text is None:
        return []
    for line in logical_lines(text)[0]:
        if line.startswith("Class-Path:"):
            return line[len("Class-Path:"):].split()
    return []


def wrap(line):
    """One manifest attribute as 72-byte physical lines."""
    b = line.encode("utf-8")
    parts = [b[:72]]
    b = b[72:]
    while b:
        parts.append(b" " + b[:71])
        b = b[71:]
    return [p.decode("utf-8") for p in parts]


def with_class_path(text, entries):
    """TEXT with its main section's Class-Path set to ENTRIES."""
    lines, nl = logical_lines(text)
    # The main section ends at the first empty line.
    end = lines.index("") if "" in lines else len(lines)
    main = [l for l in lines[:end] if not l.startswith("Class-Path:")]
    main.append("Class-Path: " + " ".join(entries))
    sections = list(lines[end:])
    while sections and sections[-1] == "":
        sections.pop()
    phys = []
    for l in main + sections:
        phys.extend(wrap(l) if l else [""])
    return nl.join(phys) + nl + nl


def rewrite(src, dst, text):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == MANIFEST:
                data = text.encode("utf-8")
            zout.writestr(info, data, compress_type=info.compress_type)


def main():
    base, stage = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(stage, "java"), exist_ok=True)
    with open(os.path.join(base, "bazel_classpath_debian_depends.txt")) as f:
        listed = [l.strip() for l in f if l.strip()]
    for j in listed:
        if posixpath.dirname(j) != JAVA:
            sys.exit(f"the class path names {j}, outside {JAVA}")
    # The closure, in the order the JVM opens the jars (depth first).
    order, seen = [], set()

    def visit(j):
        if j in seen or not os.path.exists(j):
            return
        seen.add(j)
        order.append(j)
        entries = class_path(read_manifest(j))
        fixed = []
        for e in entries:
            if e.startswith("file:"):
                e = e[len("file:"):]
            if e.startswith("/"):
                if posixpath.dirname(e) != JAVA:
                    sys.exit(f"{j} names {e} in its Class-Path, outside {JAVA}")
                fixed.append(posixpath.basename(e))
                target = e
            else:
                target = posixpath.normpath(posixpath.join(JAVA, e))
                if posixpath.dirname(target) != JAVA:
                    sys.exit(f"{j} names {e} in its Class-Path, outside {JAVA}")
                fixed.append(e)
            visit(target)
        if fixed != entries:
            rewrite(j, os.path.join(stage, "java", posixpath.basename(j)),
                    with_class_path(read_manifest(j), fixed))

    for j in listed:
        visit(j)
    server = os.path.join(base, "A-server.jar")
    text = read_manifest(server)
    if class_path(text):
        sys.exit(f"{server} already has a Class-Path")
    rewrite(server, os.path.join(stage, "A-server.jar"),
            with_class_path(text, ["../java/" + posixpath.basename(j) for j in listed if j in seen]))
    with open(os.path.join(stage, "jars.txt"), "w") as f:
        for j in order:
            f.write(posixpath.basename(j) + "\n")


if __name__ == "__main__":
    main()

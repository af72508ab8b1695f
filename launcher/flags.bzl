"""Compiler and linker flags of the launcher.

The one place they are written down: launcher/build.sh reads these lists
(one quoted flag per line) and a Bazel cc_binary loads them, so both build
the launcher the same way. See launcher/README.md.
"""

LAUNCHER_COPTS = [
    "-ffreestanding",
    "-fno-stack-protector",
    "-fno-builtin",
    "-Os",
    "-fno-asynchronous-unwind-tables",
    "-fno-pie",
    "-fno-tree-loop-distribute-patterns",
    "-std=gnu11",
    "-Wall",
    "-Wextra",
    "-fno-ident",
]

LAUNCHER_LINKOPTS = [
    "-nostdlib",
    "-static",
    "-no-pie",
    "-Wl,--gc-sections",
    "-Wl,--build-id=none",
    "-Wl,-z,noseparate-code",
    "-Wl,-z,norelro",
    "-Wl,-Ttext-segment=0x60000000",
    "-s",
]

# The rtld-audit module (launcher/audit.c, B/.portable/audit.so): a shared
# object without libc, its own symbols bound to itself, no PLT, no
# relocations; -O2 because it hashes files.
AUDIT_COPTS = [
    "-ffreestanding",
    "-fno-stack-protector",
    "-fno-builtin",
    "-O2",
    "-fPIC",
    "-fvisibility=hidden",
    "-fno-asynchronous-unwind-tables",
    "-fno-tree-loop-distribute-patterns",
    "-std=gnu11",
    "-Wall",
    "-Wextra",
    "-fno-ident",
]

AUDIT_LINKOPTS = [
    "-nostdlib",
    "-shared",
    "-Wl,--build-id=none",
    "-Wl,--hash-style=gnu",
    "-Wl,-z,defs",
    "-Wl,-z,noseparate-code",
    "-Wl,-z,norelro",
    "-s",
]

# The single-file runtime (launcher/run.c, the head of FILE.run): built like
# the launcher, but -O2, because it hashes and decompresses the payload.
RUN_COPTS = [
    "-ffreestanding",
    "-fno-stack-protector",
    "-fno-builtin",
    "-O2",
    "-fno-asynchronous-unwind-tables",
    "-fno-pie",
    "-fno-tree-loop-distribute-patterns",
    "-std=gnu11",
    "-Wall",
    "-Wextra",
    "-fno-ident",
]

# The launcher's link flags.
RUN_LINKOPTS = LAUNCHER_LINKOPTS

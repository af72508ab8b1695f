"""Debian architectures, where a sysroot of each keeps its loader and libraries,
and the @platforms CPU constraint (`cpu`) of each.

The same table as `Arches()` in tools/internal/sysroot/arch.go, which the
helper uses when it builds a sysroot; a Go test keeps the two equal.
"""

ARCHES = {
    "amd64": struct(triplet = "x86_64-linux-gnu", loader = "lib64/ld-linux-x86-64.so.2", cpu = "x86_64"),
    "arm64": struct(triplet = "aarch64-linux-gnu", loader = "lib/ld-linux-aarch64.so.1", cpu = "aarch64"),
    "armel": struct(triplet = "arm-linux-gnueabi", loader = "lib/ld-linux.so.3", cpu = "arm"),
    "armhf": struct(triplet = "arm-linux-gnueabihf", loader = "lib/ld-linux-armhf.so.3", cpu = "armv7"),
    "i386": struct(triplet = "i386-linux-gnu", loader = "lib/ld-linux.so.2", cpu = "x86_32"),
    "loong64": struct(triplet = "loongarch64-linux-gnu", loader = "lib64/ld-linux-loongarch-lp64d.so.1", cpu = "loongarch64"),
    "ppc64el": struct(triplet = "powerpc64le-linux-gnu", loader = "lib64/ld64.so.2", cpu = "ppc64le"),
    "riscv64": struct(triplet = "riscv64-linux-gnu", loader = "lib/ld-linux-riscv64-lp64d.so.1", cpu = "riscv64"),
    "s390x": struct(triplet = "s390x-linux-gnu", loader = "lib/ld64.so.1", cpu = "s390x"),
}

def arch_layout(arch, what):
    """The loader path and library directories inside a sysroot of arch.

    Args:
      arch: a Debian architecture name, e.g. "amd64".
      what: what asks, for the error message, e.g. a label.

    Returns:
      A struct with `loader_path` (e.g. "lib64/ld-linux-x86-64.so.2"),
      `library_dirs` (e.g. ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]),
      `triplet` (e.g. "x86_64-linux-gnu") and `cpu` (the @platforms CPU, e.g.
      "x86_64").
    """
    a = ARCHES.get(arch)
    if not a:
        fail("%s: architecture %r is not one rules_portable knows (%s); lock the sysroot for one of them with `portable sysroot lock --arch`" % (what, arch, ", ".join(sorted(ARCHES.keys()))))
    return struct(
        loader_path = a.loader,
        library_dirs = ["lib/" + a.triplet, "usr/lib/" + a.triplet],
        triplet = a.triplet,
        cpu = a.cpu,
    )

def platform_cpus():
    """The @platforms CPU constraint label of each architecture.

    Returns:
      A dict from e.g. "@platforms//cpu:x86_64" to the Debian name "amd64".
    """
    return {"@platforms//cpu:" + a.cpu: name for name, a in ARCHES.items()}

"""Providers of rules_portable. Public ones are re-exported by //rules:providers.bzl."""

DebianPackagesInfo = provider(
    doc = "The pinned .deb files of one sysroot lockfile, as fetched by the `sysroot.debian` extension.",
    fields = {
        "lock": "File: the lockfile written by `portable sysroot lock`.",
        "debs": "list of File: the .deb files, each named by its sha256 under `sha256/`.",
        "cache_dir": "string: the directory that holds `sha256/<hex>`; pass it as `--cache`.",
        "glibc_version": "string: the glibc version of the locked libc6, e.g. \"2.41\".",
        "suite": "string: the Debian suite the lock was resolved in, e.g. \"trixie\".",
        "arch": "string: the Debian architecture of the lock, e.g. \"amd64\".",
        "dev_available": "bool: whether the lock also pins the dev flavour (headers, crt objects).",
        "gcc_version": "string: the major version of the dev flavour's C++ runtime (`libstdc++-N-dev`), e.g. \"12\"; empty when the lock has none (C only).",
        "compiler_version": "string: the version of the gcc that a compiler lock pins (its package `gcc-N`), e.g. \"16.2.0\"; empty for a sysroot lock.",
        "python_version": "string: the version of the Python that a lock pins (its package `python3.X-minimal`), e.g. \"3.11\"; empty when it pins none.",
    },
)

SysrootInfo = provider(
    doc = """A versioned, immutable sysroot: one glibc and the libraries around it.

Example: `ctx.attr.sysroot[SysrootInfo].glibc_version == "2.41"`""",
    fields = {
        "version": "string: the version label, e.g. \"v2\". The sysroot installs at `/usr/sysroot/<version>`.",
        "install_dir": "string: the absolute path it installs at, e.g. \"/usr/sysroot/v2\".",
        "glibc_version": "string: the glibc version, e.g. \"2.41\".",
        "loader": "File: the dynamic loader of this sysroot (a copy of `lib64/ld-linux-x86-64.so.2`).",
        "arch": "string: the Debian architecture of its packages, e.g. \"amd64\" or \"arm64\".",
        "loader_path": "string: the loader's path inside the sysroot, e.g. \"lib64/ld-linux-x86-64.so.2\".",
        "library_dirs": "list of string: library directories inside the sysroot, in search order, e.g. [\"lib/x86_64-linux-gnu\", \"usr/lib/x86_64-linux-gnu\"].",
        "tree": "File: the sysroot as a directory (tree artifact).",
        "dev": "bool: whether this is the dev flavour (headers, crt objects, linker scripts), which a `portable_cc_toolchain` compiles against.",
        "gcc_version": "string: in the dev flavour, the major version of its libstdc++ and libgcc dev files (under `usr/include/c++/<N>` and `usr/lib/gcc/<triplet>/<N>`), e.g. \"12\"; empty when it has none.",
        "suite": "string: the Debian suite its packages come from, e.g. \"bookworm\".",
        "tar": "File: a deterministic tar of the sysroot with its files under `usr/sysroot/<version>/`.",
        "files": "depset of File: everything above, for runfiles and inputs.",
    },
)

PortableBundleInfo = provider(
    doc = """A relocatable bundle: a program, its library closure, its loader and launchers.

Example: `ctx.attr.bundle[PortableBundleInfo].tar`""",
    fields = {
        "tar": "File or None: the bundle as a tar (`.tar`, `.tar.gz` or `.tar.zst`), rooted at the bundle's name; None with `format = \"run\"`.",
        "single_file": "File or None: the bundle as one executable file (`<name>.run`, see docs/single-file.md) with `format = \"run\"`; else None.",
        "directory": "File: the bundle as a directory (tree artifact), for `bazel run`.",
        "entry_points": "list of string: the names under `bin/` that start a program.",
        "sysroot": "SysrootInfo: the sysroot the closure was resolved in.",
    },
)

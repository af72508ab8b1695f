"""The C compiler a portable_cc_toolchain runs: gcc bundled from pinned packages, or the build machine's."""

load(":arch.bzl", "arch_layout")
load(":providers.bzl", "DebianPackagesInfo")
load(":toolchain.bzl", "HELPER_TOOLCHAIN_TYPE")

PortableCompilerInfo = provider(
    doc = """A gcc driver that a `portable_cc_toolchain` runs against a sysroot.

Example: `ctx.attr.compiler[PortableCompilerInfo].version == "16.2.0"`""",
    fields = {
        "gcc": "string: the gcc driver: an execroot-relative path into `files` (a bundled gcc, e.g. `\"bazel-out/k8-opt-exec-ST-1234/bin/sysroots/gcc_16/bin/gcc\"`), or an absolute path on the machine that runs the actions (`\"/usr/bin/gcc\"`).",
        "ar": "string: the matching `ar`, a path of the same kind, e.g. `\"/usr/bin/ar\"`.",
        "bin_dir": "string: for a bundled gcc, the execroot-relative directory of its programs, passed as `-B` so the driver runs the bundled cc1, as and ld; empty for the build machine's gcc.",
        "files": "depset of File: what the compile and link actions need of the compiler (the bundle's directory); empty for the build machine's gcc, which is not an input.",
        "version": "string: gcc's full version (`gcc -dumpfullversion`), e.g. `\"16.2.0\"`. It is part of every compile and link action's key.",
        "target": "string: the GNU triplet gcc builds for (`gcc -dumpmachine`), e.g. `\"x86_64-linux-gnu\"`.",
        "builtin_include_directories": "list of string: gcc's own header directories (`stddef.h`, the intrinsics), e.g. `[\"/usr/lib/gcc/x86_64-linux-gnu/16/include\"]`.",
        "error": "string: why no compiler is available, or empty. A toolchain that is used fails with it.",
    },
)

def _portable_compiler_impl(ctx):
    return [PortableCompilerInfo(
        gcc = ctx.attr.gcc,
        ar = ctx.attr.ar,
        version = ctx.attr.version,
        target = ctx.attr.target,
        builtin_include_directories = ctx.attr.builtin_include_directories,
        error = ctx.attr.error,
        bin_dir = "",
        files = depset(),
    )]

portable_compiler = rule(
    implementation = _portable_compiler_impl,
    doc = "Describes a gcc for `portable_cc_toolchain(compiler = ...)`. Written by the `compiler.host_gcc` extension; declare one by hand for a gcc the extension cannot probe.",
    attrs = {
        "gcc": attr.string(doc = "The gcc driver, an absolute path.", mandatory = True),
        "ar": attr.string(doc = "The matching ar, an absolute path.", mandatory = True),
        "version": attr.string(doc = "gcc's full version, e.g. \"16.2.0\".", mandatory = True),
        "target": attr.string(doc = "The GNU triplet it builds for, e.g. \"x86_64-linux-gnu\".", mandatory = True),
        "builtin_include_directories": attr.string_list(doc = "gcc's own header directories."),
        "error": attr.string(doc = "Why no compiler is available; the toolchain fails with it when used."),
    },
    provides = [PortableCompilerInfo],
)

def _portable_gcc_impl(ctx):
    packages = ctx.attr.packages[DebianPackagesInfo]
    if not packages.compiler_version:
        fail("%s pins no gcc (a package gcc-N): lock the compiler with `portable sysroot lock --suite SUITE -p gcc-N -p g++-N -p binutils-<triplet> --exclude libc6-dev --exclude libstdc++-N-dev`" % ctx.attr.packages.label, attr = "packages")
    layout = arch_layout(packages.arch, str(ctx.attr.packages.label))
    major = packages.compiler_version.split(".")[0]
    tool = ctx.toolchains[HELPER_TOOLCHAIN_TYPE].portable
    tree = ctx.actions.declare_directory(ctx.label.name)
    args = ctx.actions.args()
    args.add_all(["compiler", "bundle"])
    args.add("--lock", packages.lock)
    args.add("--cache", packages.cache_dir)
    args.add("--offline")
    args.add("-o", tree.path)

    # No --launcher: the bundle takes the launcher built into the helper,
    # because the launcher Bazel builds is itself compiled with this gcc.
    ctx.actions.run(
        executable = tool.files_to_run,
        toolchain = HELPER_TOOLCHAIN_TYPE,
        arguments = [args],
        inputs = [packages.lock] + packages.debs,
        outputs = [tree],
        mnemonic = "PortableCompiler",
        progress_message = "Bundling gcc %s from pinned packages %%{label}" % packages.compiler_version,
        env = {"SOURCE_DATE_EPOCH": "0"},
    )
    return [
        DefaultInfo(files = depset([tree])),
        PortableCompilerInfo(
            gcc = tree.path + "/bin/gcc",
            ar = tree.path + "/bin/ar",
            bin_dir = tree.path + "/bin",
            version = packages.compiler_version,
            target = layout.triplet,
            builtin_include_directories = ["%s/lib/gcc/%s/%s/include" % (tree.path, layout.triplet, major)],
            error = "",
            files = depset([tree]),
        ),
    ]

portable_gcc = rule(
    implementation = _portable_gcc_impl,
    doc = """gcc and binutils from pinned Debian packages, bundled to run on any Linux of the build machine's architecture.

`portable compiler bundle` unpacks the locked packages and makes the driver,
every program it runs (cc1, cc1plus, lto1, collect2, lto-wrapper) and
binutils (as, ld, ar, ...) entry points of one bundle, each on the glibc of
the compiler's own Debian release. The bundle is an input of every compile
and link action, named by execroot-relative paths, so a remote worker needs
no compiler of its own, and another compiler version is another action key.

Example (MODULE.bazel, then a BUILD file):

```starlark
sysroot = use_extension("@rules_portable//rules:extensions.bzl", "sysroot")
sysroot.debian(name = "my_gcc_16", lock = "//:gcc16.lock.json")
use_repo(sysroot, "my_gcc_16")
```

```starlark
portable_gcc(name = "gcc_16", packages = "@my_gcc_16")
portable_cc_toolchain(name = "cc_mine", compiler = ":gcc_16", ...)
```

Make the lock with `portable sysroot lock --suite sid -p gcc-16 -p g++-16
-p binutils-x86-64-linux-gnu --exclude libc6-dev --exclude libstdc++-16-dev`:
the target's C library and C++ headers come from the toolchain's sysroot.""",
    attrs = {
        "packages": attr.label(
            doc = "The pinned compiler packages: a repository made by the `sysroot.debian` extension from a compiler lock. Example: `\"@rules_portable_gcc_16\"`.",
            mandatory = True,
            providers = [DebianPackagesInfo],
        ),
    },
    provides = [PortableCompilerInfo],
    toolchains = [HELPER_TOOLCHAIN_TYPE],
)

_BUILD = """\
load("@rules_portable//rules/private:compiler.bzl", "portable_compiler")

# {what}
portable_compiler(
    name = "gcc",
    ar = {ar},
    builtin_include_directories = {includes},
    error = {error},
    gcc = {gcc},
    target = {target},
    version = {version},
    visibility = ["//visibility:public"],
)
"""

def _write(rctx, what, gcc = "", ar = "", version = "", target = "", includes = [], error = ""):
    rctx.file("BUILD.bazel", _BUILD.format(
        what = what,
        gcc = repr(gcc),
        ar = repr(ar),
        version = repr(version),
        target = repr(target),
        includes = repr(includes),
        error = repr(error),
    ))

def _probe(rctx, gcc, *args):
    r = rctx.execute([gcc] + list(args))
    if r.return_code != 0:
        return None, "`%s %s` failed (exit %d): %s" % (gcc, " ".join(args), r.return_code, r.stderr.strip())
    return r.stdout.strip(), None

def _host_gcc_repository_impl(rctx):
    name = rctx.os.environ.get("PORTABLE_CC") or rctx.attr.gcc
    gcc = rctx.path(name) if name.startswith("/") else rctx.which(name)
    if not gcc or not gcc.exists:
        _write(rctx, "No compiler found.", error = "no C compiler %r on the build machine (PATH or PORTABLE_CC): install gcc (Debian: apt-get install gcc), or set --repo_env=PORTABLE_CC=/path/to/gcc" % name)
        return
    if hasattr(rctx, "watch"):
        rctx.watch(gcc)
    probes = {}
    for key, args in [
        ("version", ["-dumpfullversion"]),
        ("target", ["-dumpmachine"]),
        ("include", ["-print-file-name=include"]),
        ("include-fixed", ["-print-file-name=include-fixed"]),
    ]:
        out, err = _probe(rctx, str(gcc), *args)
        if err:
            _write(rctx, "Probing %s failed." % gcc, error = err)
            return
        probes[key] = out

    # gcc answers a bare name for a directory it does not have.
    includes = [d for d in [probes["include"], probes["include-fixed"]] if d.startswith("/")]

    # The archiver next to the driver: gcc -> ar, aarch64-linux-gnu-gcc ->
    # aarch64-linux-gnu-ar.
    base = gcc.basename
    ar = None
    if "gcc" in base:
        candidate = gcc.dirname.get_child(base[:base.rfind("gcc")] + "ar")
        if candidate.exists:
            ar = candidate
    ar = ar or rctx.which("ar")
    if not ar:
        _write(rctx, "No ar found.", error = "no ar next to %s or on PATH: install binutils" % gcc)
        return
    _write(
        rctx,
        "The build machine's gcc, probed by rules_portable's compiler.host_gcc extension.",
        gcc = str(gcc),
        ar = str(ar),
        version = probes["version"],
        target = probes["target"],
        includes = includes,
    )

host_gcc_repository = repository_rule(
    implementation = _host_gcc_repository_impl,
    doc = "Finds the build machine's gcc and records its path, version, target and builtin include directories.",
    attrs = {
        "gcc": attr.string(doc = "The gcc to probe: a name looked up on PATH, or an absolute path.", default = "gcc"),
    },
    environ = ["PATH", "PORTABLE_CC"],
    local = True,
)

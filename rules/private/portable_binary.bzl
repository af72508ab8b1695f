"""portable_binary: a relocatable bundle of a binary and its glibc."""

load("//rules/private/actions:bundle.bzl", "emit_bundle", "emit_launch_script")
load(":providers.bzl", "PortableBundleInfo", "SysrootInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")
load(":transition.bzl", "TRANSITION_ATTRS", "check_sysroot_platform", "sysroot_transition")

_EXTENSIONS = {"none": ".tar", "gzip": ".tar.gz", "zstd": ".tar.zst"}

def _portable_binary_impl(ctx):
    check_sysroot_platform(ctx)
    sysroot = ctx.attr.sysroot[SysrootInfo]
    tool = ctx.toolchains[TOOLCHAIN_TYPE].portable
    target = ctx.attr.binary[0]
    binary = ctx.file.binary
    name = ctx.attr.bundle_name or binary.basename
    single = ctx.attr.format == "run"
    if single and ctx.attr.compression != "none":
        fail("%s: compression = \"%s\" is for tars; format = \"run\" compresses its payload with zstd itself: drop compression" % (ctx.label, ctx.attr.compression))
    if single:
        tar = ctx.actions.declare_file(ctx.label.name + ".run")
    else:
        tar = ctx.actions.declare_file(ctx.label.name + _EXTENSIONS[ctx.attr.compression])
    tree = ctx.actions.declare_directory(ctx.label.name + ".bundle")

    # One action writes the directory and archives it as the tar (or
    # packs it as the single file).
    emit_bundle(
        ctx,
        tool = tool,
        binary = binary,
        sysroot = sysroot,
        out = tree,
        tar = tar,
        data = ctx.files.data,
        extra_libs = ctx.files.extra_libs,
        prefix = None if single else name,
        runfiles = target[DefaultInfo].default_runfiles.files,
        host_libs = ctx.attr.host_libs,
        host_lib_names = ctx.attr.host_lib_names,
        enforce_checksums = ctx.attr.enforce_checksums,
        locales = ctx.attr.locales,
    )
    run = ctx.actions.declare_file(ctx.label.name + "_launch.sh")
    emit_launch_script(ctx, tree = tree, binary = binary, out = run, comment = "Runs %s from its bundle; `bazel run` passes the arguments through." % ctx.label)
    return [
        DefaultInfo(
            files = depset([tar]),
            executable = run,
            runfiles = ctx.runfiles(files = [tree]),
        ),
        PortableBundleInfo(
            tar = None if single else tar,
            single_file = tar if single else None,
            directory = tree,
            entry_points = [binary.basename],
            sysroot = sysroot,
        ),
        OutputGroupInfo(directory = depset([tree])),
    ]

portable_binary = rule(
    implementation = _portable_binary_impl,
    doc = """A relocatable bundle: the binary, its whole library closure resolved in
`sysroot` (glibc and its loader included) and a launcher.

The default output is `<name>.tar` (or `.tar.gz`/`.tar.zst`) holding
`<bundle_name>/bin/<binary>`; with `format = "run"` it is `<name>.run`,
one executable file that unpacks itself once into a per-user cache and runs
the binary (docs/single-file.md). Either runs from any directory on any Linux
of the same architecture, even an empty root, with `/proc/self/exe` naming the
real program. `bazel run` runs it from a directory copy (output group
`directory`). For an image layer, merge the tar with rules_pkg:
`pkg_tar(deps = [":portable"], package_dir = "/opt")` puts the bundle at
`/opt/<bundle_name>`, entry for entry. The closure comes from the sysroot and the libraries this build
produced, never from the build host; a library the sysroot lacks, or a
glibc symbol version newer than the sysroot's, fails the build.

Example:

```starlark
portable_binary(
    name = "portable",
    binary = ":app",
    sysroot = "@rules_portable//sysroots:v2",
)
```""",
    attrs = {
        "binary": attr.label(
            doc = "The dynamically linked ELF executable: a `cc_binary`, a cgo `go_binary` or a prebuilt file. It is built for the sysroot's platform (see `compile_against_sysroot`). Example: `\":app\"`.",
            mandatory = True,
            allow_single_file = True,
            cfg = sysroot_transition,
        ),
        "sysroot": attr.label(
            doc = "The `sysroot` to take glibc and the other libraries from. Example: `\"@rules_portable//sysroots:v2\"`.",
            mandatory = True,
            providers = [SysrootInfo],
        ),
        "data": attr.label_list(
            doc = "Files to copy into the bundle under `share/<short path>` (`share/<repository>/<path>` for a file of another repository). Example: `[\"//app:config.json\"]`.",
            allow_files = True,
        ),
        "extra_libs": attr.label_list(
            doc = "Shared libraries built by this build, or prebuilt ones, that the binary loads (by DT_NEEDED or dlopen); they go to `lib/`. Versioned names such as `libfoo.so.1` are fine; a file that is not an ELF shared library fails the bundle. Example: `[\":libplugin.so\"]`.",
            allow_files = True,
        ),
        "format": attr.string(
            doc = "`tar` (the default): the output is `<name>.tar` (see `compression`). `run`: the output is `<name>.run`, one static executable file that runs the binary from anywhere, unpacking itself once into a per-user cache (docs/single-file.md). Example: `format = \"run\"`.",
            default = "tar",
            values = ["tar", "run"],
        ),
        "compression": attr.string(
            doc = "Compression of the tar: `none` (`.tar`), `gzip` (`.tar.gz`) or `zstd` (`.tar.zst`). Example: `compression = \"zstd\"`.",
            default = "none",
            values = ["none", "gzip", "zstd"],
        ),
        "host_libs": attr.string(
            doc = "Which of the host's libraries the bundled program may load. `never` (the default): the bundle's loader reads neither `/etc/ld.so.cache` nor `/etc/ld.so.preload` and searches none of the host's library directories, so a library the bundle lacks (a `dlopen` of something not bundled) is not found. `fallback`: the loader as glibc's package ships it, so the host's libraries fill what the bundle lacks (GPU drivers, say). Recorded in the manifest as `host_libs`. Example: `host_libs = \"fallback\"`.",
            default = "never",
            values = ["never", "fallback"],
        ),
        "host_lib_names": attr.string_list(
            doc = "Host libraries the bundle may load after all, by file name, and what they need (policy `listed`, `--host-lib`): GPU drivers, say. Everything else from outside the bundle stays refused. Recorded in the manifest. Example: `host_lib_names = [\"libGL.so.1\"]`.",
        ),
        "enforce_checksums": attr.bool(
            doc = "Check every object the loader maps against its sha256 in the bundle before it runs, and refuse to start, naming the file and both sha256s, when one differs (`--enforce-checksums`). A run remembers what it verified in `.portable/verified` where the bundle is writable. Example: `enforce_checksums = True`.",
        ),
        "locales": attr.string_list(
            doc = "Locales to carry, by name, from the sysroot's compiled locales under `/usr/lib/locale` (`C.UTF-8` needs Debian's `libc-bin` in the sysroot's lock). Without them the bundled glibc runs programs in the C locale: it never reads the host's locales, which belong to another glibc. Example: `locales = [\"C.UTF-8\"]`.",
        ),
        "bundle_name": attr.string(
            doc = "Top directory of the tar. Default: the binary's file name. Example: `bundle_name = \"hello\"`.",
        ),
    } | TRANSITION_ATTRS,
    executable = True,
    provides = [PortableBundleInfo],
    toolchains = [TOOLCHAIN_TYPE],
)

"""sysroot_binary: a binary that runs against an installed sysroot."""

load("//rules/private/actions:patch.bzl", "emit_patch")
load("//rules/private/actions:sysroot.bzl", "emit_glibc_check")
load(":arch.bzl", "arch_layout")
load(":providers.bzl", "SysrootInfo")
load(":slot.bzl", "PATH_MAX", "padded_interpreter")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")
load(":transition.bzl", "TRANSITION_ATTRS", "check_sysroot_platform", "sysroot_transition")

def installed_loader(sysroot):
    return sysroot.install_dir + "/" + sysroot.loader_path

def installed_library_dirs(sysroot):
    return [sysroot.install_dir + "/" + d for d in sysroot.library_dirs]

def _sysroot_binary_impl(ctx):
    check_sysroot_platform(ctx)
    sysroot = ctx.attr.sysroot[SysrootInfo]
    tool = ctx.toolchains[TOOLCHAIN_TYPE].portable
    binary = ctx.file.binary
    out = ctx.actions.declare_file(ctx.label.name)

    # The check runs first: a binary that needs a newer glibc than the
    # sysroot has is refused before any output is written.
    stamp = ctx.actions.declare_file(ctx.label.name + ".glibc_check")
    emit_glibc_check(ctx, tool = tool, sysroot = sysroot, binary = binary, out = stamp)
    emit_patch(
        ctx,
        tool = tool,
        binary = binary,
        out = out,
        interpreter = installed_loader(sysroot),
        rpath = installed_library_dirs(sysroot),
        interp_slot = PATH_MAX,
        # A shared cc_library of this build is found through the binary's
        # $ORIGIN/.../_solib_<cpu> entries: keep them.
        keep_origin = True,
        after = [stamp],
    )
    return [
        DefaultInfo(
            files = depset([out]),
            executable = out,
            runfiles = ctx.runfiles(files = [out]).merge(ctx.attr.binary[0][DefaultInfo].default_runfiles),
        ),
    ]

sysroot_binary = rule(
    implementation = _sysroot_binary_impl,
    doc = """Points a binary at a sysroot installed at `/usr/sysroot/<version>`.

The output is a copy of `binary` whose `PT_INTERP` names the sysroot's loader
(in a PATH_MAX slot, so it can be re-pointed in place) and whose `DT_RPATH`
names the sysroot's library directories, after the binary's own
`$ORIGIN`-relative entries (which find the shared libraries this build made,
in the binary's runfiles). It runs on any host where the sysroot's tar is
installed, whatever glibc the host has. The build fails when `binary` needs a
newer glibc than the sysroot's.

Example:

```starlark
sysroot_binary(
    name = "app_v2",
    binary = ":app",
    sysroot = "//sysroots:v2",
)
```""",
    attrs = {
        "binary": attr.label(
            doc = "The dynamically linked ELF executable to point at the sysroot: a `cc_binary`, a cgo `go_binary` or a prebuilt file. It is built for the sysroot's platform (see `compile_against_sysroot`). Example: `\":app\"`.",
            mandatory = True,
            allow_single_file = True,
            cfg = sysroot_transition,
        ),
        "sysroot": attr.label(
            doc = "The `sysroot` target to run against. Example: `\"//sysroots:v2\"`.",
            mandatory = True,
            providers = [SysrootInfo],
        ),
    } | TRANSITION_ATTRS,
    executable = True,
    toolchains = [TOOLCHAIN_TYPE],
)

def sysroot_linkopts(version, arch = "amd64"):
    """Linker options that point a `cc_binary` at an installed sysroot at link time.

    The linker writes the loader path padded with slashes to PATH_MAX - 1
    bytes, so the interpreter slot is reserved and no rewrite is ever needed,
    and writes `DT_RPATH` (not RUNPATH) for the sysroot's library dirs.

    Example:

    ```starlark
    cc_binary(name = "app_v2", srcs = ["app.c"], linkopts = sysroot_linkopts("v2"))
    ```

    Args:
      version: the sysroot version label, e.g. "v2".
      arch: the Debian architecture of the sysroot and the binary, e.g.
        "amd64" (the default) or "arm64"; it decides the loader's path and
        the library directories.

    Returns:
      A list of linkopts.
    """
    if not (len(version) > 1 and version[0] == "v" and version[1:].isdigit()):
        fail("sysroot_linkopts: version %r is not a version label like \"v2\"" % version)
    layout = arch_layout(arch, "sysroot_linkopts")
    prefix = "/usr/sysroot/" + version + "/"
    return [
        "-Wl,--dynamic-linker=" + padded_interpreter(prefix, layout.loader_path),
        "-Wl,--disable-new-dtags",
        "-Wl,-rpath," + ":".join([prefix + d for d in layout.library_dirs]),
    ]

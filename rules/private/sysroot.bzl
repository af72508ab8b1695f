"""The sysroot rule: a versioned sysroot built from pinned Debian packages."""

load("@rules_pkg//pkg:providers.bzl", "PackageFilesInfo")
load("//rules/private/actions:sysroot.bzl", "emit_sysroot_build")
load(":arch.bzl", "arch_layout")
load(":providers.bzl", "DebianPackagesInfo", "SysrootInfo")
load(":toolchain.bzl", "HELPER_TOOLCHAIN_TYPE")

def _is_version_label(v):
    return len(v) > 1 and v[0] == "v" and v[1:].isdigit()

def _sysroot_impl(ctx):
    version = ctx.attr.version
    if not _is_version_label(version):
        fail("version %r is not a version label like \"v2\": sysroots install at /usr/sysroot/vN" % version, attr = "version")
    packages = ctx.attr.packages[DebianPackagesInfo]
    if ctx.attr.dev and not packages.dev_available:
        fail("dev = True but %s pins no dev packages; lock it with `portable sysroot lock --dev`" % ctx.attr.packages.label, attr = "dev")
    layout = arch_layout(packages.arch, str(ctx.attr.packages.label))
    tool = ctx.toolchains[HELPER_TOOLCHAIN_TYPE].portable
    tree = ctx.actions.declare_directory(ctx.label.name)
    tar = ctx.actions.declare_file(ctx.label.name + ".tar")
    loader = ctx.actions.declare_file(ctx.label.name + ".ld.so")
    emit_sysroot_build(
        ctx,
        tool = tool,
        packages = packages,
        version = version,
        dev = ctx.attr.dev,
        tree = tree,
        tar = tar,
        loader = loader,
    )
    install_dir = "/usr/sysroot/" + version
    return [
        # The tree is a default output too: rules_pkg reads it as the source
        # of the PackageFilesInfo mapping below.
        DefaultInfo(files = depset([tar, tree]), runfiles = ctx.runfiles([tree])),
        SysrootInfo(
            version = version,
            install_dir = install_dir,
            glibc_version = packages.glibc_version,
            loader = loader,
            arch = packages.arch,
            loader_path = layout.loader_path,
            library_dirs = layout.library_dirs,
            tree = tree,
            dev = ctx.attr.dev,
            gcc_version = packages.gcc_version if ctx.attr.dev else "",
            suite = packages.suite,
            tar = tar,
            files = depset([tree, tar, loader]),
        ),
        PackageFilesInfo(
            dest_src_map = {install_dir.lstrip("/"): tree},
            attributes = {"mode": "0755"},
        ),
        OutputGroupInfo(tar = depset([tar]), tree = depset([tree]), loader = depset([loader])),
    ]

sysroot = rule(
    implementation = _sysroot_impl,
    doc = """A versioned, immutable sysroot built from pinned Debian packages.

Its default outputs are a deterministic tar whose files sit under
`usr/sysroot/<version>/`, so `tar -C / -xf v2.tar` installs it, and the
same tree as a directory. It also
provides `SysrootInfo` for the other rules and `PackageFilesInfo`, so
`pkg_tar(srcs = [":v2"])` can put it into an image layer.

Bazel follows the symlinks inside a directory output, so that layer holds
copies where the sysroot has links (`lib -> usr/lib`, `libm.so.6 ->
libm.so.6.x`): it works, but is larger. For a layer with exactly the
sysroot's entries, merge the tar instead; the output group `tar` names it:

```starlark
filegroup(
    name = "v2_tar",
    srcs = [":v2"],
    output_group = "tar",
)

pkg_tar(
    name = "layer",
    deps = [":v2_tar"],
)
```

Output groups: `tar`, `tree` and `loader` (the sysroot's `ld.so`, alone).

Example:

```starlark
sysroot(
    name = "v2",
    packages = "@glibc_2_41",
    version = "v2",
)
```""",
    attrs = {
        "packages": attr.label(
            doc = "The pinned packages: a repository made by the `sysroot.debian` extension. Example: `\"@glibc_2_41\"`.",
            mandatory = True,
            providers = [DebianPackagesInfo],
        ),
        "version": attr.string(
            doc = "Version label, `v` and a number. The sysroot installs at `/usr/sysroot/<version>`; a published version never changes. Example: `\"v2\"`.",
            mandatory = True,
        ),
        "dev": attr.bool(
            doc = "Build the dev flavour: headers, crt objects and linker scripts, for `gcc --sysroot`. Example: `dev = True`.",
            default = False,
        ),
    },
    provides = [SysrootInfo, PackageFilesInfo],
    toolchains = [HELPER_TOOLCHAIN_TYPE],
)

"""Actions that build and check sysroots."""

load("//rules/private:toolchain.bzl", "HELPER_TOOLCHAIN_TYPE", "TOOLCHAIN_TYPE")

def emit_sysroot_build(ctx, *, tool, packages, version, dev, tree, tar = None, loader = None, progress_message = None):
    """Builds a sysroot from pinned .deb files, with no network access.

    Args:
      ctx: the rule context.
      tool: PortableToolInfo of the helper.
      packages: DebianPackagesInfo of the pinned packages.
      version: the version label, e.g. "v2".
      dev: whether to build the dev flavour.
      tree: the output directory (tree artifact).
      tar: the output tar, rooted at usr/sysroot/<version>, or None.
      loader: the output copy of the loader, or None.
      progress_message: what Bazel shows; by default the version's.
    """
    args = ctx.actions.args()
    args.add_all(["sysroot", "build"])
    args.add("--lock", packages.lock)
    args.add("--label", version)
    args.add("--cache", packages.cache_dir)
    args.add("--offline")
    if dev:
        args.add("--dev")
    if tar:
        args.add("--tar", tar)
        args.add("--tar-prefix", "usr/sysroot/" + version)
    if loader:
        args.add("--loader-out", loader)
    args.add("-o", tree.path)
    ctx.actions.run(
        executable = tool.files_to_run,
        toolchain = HELPER_TOOLCHAIN_TYPE,
        arguments = [args],
        inputs = [packages.lock] + packages.debs,
        outputs = [f for f in [tree, tar, loader] if f],
        mnemonic = "PortableSysroot",
        progress_message = progress_message or "Building sysroot %s (glibc %s) %%{label}" % (version, packages.glibc_version),
        env = {"SOURCE_DATE_EPOCH": "0"},
    )

def emit_glibc_check(ctx, *, tool, sysroot, binary, out):
    """Fails the build when binary needs a newer glibc than the sysroot has.

    Args:
      ctx: the rule context.
      tool: PortableToolInfo of the helper.
      sysroot: SysrootInfo.
      binary: the ELF File to check.
      out: an output File that records the check (an empty stamp).
    """
    args = ctx.actions.args()
    args.add_all(["sysroot", "check"])
    args.add("--sysroot", sysroot.tree.path)
    args.add("--stamp", out)
    args.add(binary)
    ctx.actions.run(
        executable = tool.files_to_run,
        toolchain = TOOLCHAIN_TYPE,
        arguments = [args],
        inputs = [binary, sysroot.tree],
        outputs = [out],
        mnemonic = "PortableGlibcCheck",
        progress_message = "Checking %s against glibc %s of sysroot %s" % (binary.short_path, sysroot.glibc_version, sysroot.version),
    )

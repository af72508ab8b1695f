"""Actions that pack relocatable bundles."""

load("//rules/private:toolchain.bzl", "TOOLCHAIN_TYPE")

def emit_bundle(ctx, *, tool, binary, sysroot, out, tar = None, data = [], extra_libs = [], prefix = None, runfiles = None, host_libs = None, host_lib_names = [], enforce_checksums = False, locales = [], adds = []):
    """Packs binary, its closure in sysroot and a launcher into out.

    Args:
      ctx: the rule context.
      tool: PortableToolInfo of the helper (carries the launcher too).
      binary: the ELF File to bundle.
      sysroot: SysrootInfo to resolve the closure in.
      out: the output: a tar File, or a directory (tree artifact).
      tar: with a directory out, also this tar File, written by the same run.
      data: Files to copy into the bundle under share/, by their short path
        (`share/<repo>/<path>` for a file of another repository).
      extra_libs: shared library Files built by this build; they go to lib/.
      prefix: for the tar, the directory every entry is put under.
      runfiles: the binary's runfiles (a depset of Files). They are
        inputs because the binary's RUNPATH leads the bundler to the shared
        libraries among them (a dynamically linked cc_library, say): a
        changed library must re-run the bundle even when the binary's own
        bytes stay the same.
      host_libs: the --host-libs policy ("never" or "fallback"); None
        takes the helper's default, never.
      host_lib_names: --host-lib names (policy "listed").
      enforce_checksums: pass --enforce-checksums.
      locales: --locale names to carry.
      adds: (File, bundle path) pairs, each copied into the bundle at
        that path (`--add SRC=DEST`), with the closure of any ELF among them.
    """
    args = ctx.actions.args()
    args.add("bundle")
    args.add("--sysroot", sysroot.tree.path)
    launchers = []
    if tool.launcher_arch == sysroot.arch:
        # The launcher this build made for the target platform. For a
        # sysroot of another architecture the helper takes its own copy.
        args.add("--launcher", tool.launcher)
        launchers = [tool.launcher]
    if tar:
        args.add("--tar", tar)
    if prefix:
        args.add("--prefix", prefix)
    if host_libs:
        args.add("--host-libs", host_libs)
    for name in host_lib_names:
        args.add("--host-lib", name)
    if enforce_checksums:
        args.add("--enforce-checksums")
    for name in locales:
        args.add("--locale", name)
    for lib in extra_libs:
        args.add("--add", "%s=lib/%s" % (lib.path, lib.basename))
    for f in data:
        # short_path of a file from another repository starts with ../
        args.add("--add", "%s=share/%s" % (f.path, f.short_path.removeprefix("../")))
    for f, dest in adds:
        args.add("--add", "%s=%s" % (f.path, dest))

    # The manifest records where each file came from: without Bazel's
    # output directories (bazel-out/CONFIG/bin/), which name the
    # configuration, so the bundle is the same bytes from every one.
    roots = {f.root.path: True for f in [binary] + extra_libs + data + [f for f, _ in adds] if f.root.path}
    for root in sorted(roots):
        args.add("--source-prefix-map", root + "/=")
    args.add("-o", out.path if out.is_directory else out)
    args.add(binary)
    ctx.actions.run(
        executable = tool.files_to_run,
        toolchain = TOOLCHAIN_TYPE,
        arguments = [args],
        inputs = depset([binary, sysroot.tree] + launchers + extra_libs + data + [f for f, _ in adds], transitive = [runfiles] if runfiles else []),
        outputs = [out, tar] if tar else [out],
        mnemonic = "PortableBundle",
        progress_message = "Bundling %%{label} against sysroot %s (glibc %s)" % (sysroot.version, sysroot.glibc_version),
        env = {"SOURCE_DATE_EPOCH": "0"},
    )

_LAUNCH_SCRIPT = """#!/bin/sh
# {comment}
# Arguments, environment and exit status pass through unchanged.
{record}exec "${{RUNFILES_DIR:-$0.runfiles}}/{workspace}/{launcher}" "$@"
"""

# With record = True: the bundle's audit module appends what the test
# loads to an undeclared output (bazel-testlogs/.../test.outputs).
_RECORD = """if [ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ]; then
  PORTABLE_AUDIT_RECORD="$TEST_UNDECLARED_OUTPUTS_DIR/portable-closure.txt"
  export PORTABLE_AUDIT_RECORD
fi
"""

def emit_launch_script(ctx, *, tree, binary, out, comment, record = False):
    """Writes an executable script that runs a directory bundle's launcher from runfiles.

    Args:
      ctx: the rule context.
      tree: the bundle directory (tree artifact); put it in the runfiles.
      binary: the bundled program, whose basename names bin/<name>.
      out: the script File.
      comment: one line saying what the script runs.
      record: in a test, have the audit module record what the run loads
        as the undeclared output portable-closure.txt.
    """
    ctx.actions.write(out, _LAUNCH_SCRIPT.format(
        comment = comment,
        record = _RECORD if record else "",
        workspace = ctx.workspace_name,
        launcher = tree.short_path + "/bin/" + binary.basename,
    ), is_executable = True)

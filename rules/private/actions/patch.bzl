"""Actions that rewrite PT_INTERP and RPATH."""

load("//rules/private:toolchain.bzl", "TOOLCHAIN_TYPE")

def emit_patch(ctx, *, tool, binary, out, interpreter, rpath, interp_slot = 4096, keep_origin = False, after = []):
    """Writes a copy of binary with a new interpreter and DT_RPATH.

    Args:
      ctx: the rule context.
      tool: PortableToolInfo of the helper.
      binary: the input ELF File.
      out: the output File.
      interpreter: the absolute PT_INTERP to write.
      rpath: list of absolute library directories for DT_RPATH.
      interp_slot: bytes to reserve for PT_INTERP, so later re-pointing is in place.
      keep_origin: keep the binary's $ORIGIN-relative search path entries
        (the build's own shared libraries) ahead of rpath.
      after: Files that must exist first, e.g. the stamp of a check that
        must pass before any output is written.
    """
    args = ctx.actions.args()
    args.add("patch")
    args.add("--set-interpreter", interpreter)
    args.add_joined("--set-rpath", rpath, join_with = ":")
    if keep_origin:
        args.add("--keep-origin")
    args.add("--interp-slot", str(interp_slot))
    args.add("-o", out)
    args.add(binary)
    ctx.actions.run(
        executable = tool.files_to_run,
        toolchain = TOOLCHAIN_TYPE,
        arguments = [args],
        inputs = [binary] + after,
        outputs = [out],
        mnemonic = "PortablePatch",
        progress_message = "Pointing %%{label} at %s" % interpreter,
    )

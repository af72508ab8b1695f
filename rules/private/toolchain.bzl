"""The portable helper toolchain: how rules reach the `portable` Go binary."""

load(":arch.bzl", "platform_cpus")

PortableToolInfo = provider(
    doc = """The `portable` helper that every rules_portable action runs.

Example: `ctx.toolchains["@rules_portable//rules:toolchain_type"].portable.tool`""",
    fields = {
        "tool": "File: the `portable` executable.",
        "files_to_run": "FilesToRunProvider: pass it as the `executable` of `ctx.actions.run`.",
        "launcher": "File: the static launcher that bundles put at `bin/NAME`, built for the target platform, or None: bundles then take the launcher built into the helper.",
        "launcher_arch": "string: the Debian architecture of `launcher` (the target platform's CPU, e.g. `\"amd64\"`), or None when there is no `launcher` or rules_portable does not know that CPU. A bundle for a sysroot of another architecture takes the launcher built into the helper instead.",
    },
)

TOOLCHAIN_TYPE = "@rules_portable//rules:toolchain_type"

# The helper alone, for the actions that make what a C compile needs (the
# sysroots and the bundled compiler). Those must not depend on `launcher`,
# which is itself compiled by a cc toolchain against a sysroot.
HELPER_TOOLCHAIN_TYPE = "@rules_portable//rules:helper_toolchain_type"

def _launcher_arch(ctx):
    for cpu, arch in ctx.attr._launcher_cpus.items():
        if ctx.target_platform_has_constraint(cpu[platform_common.ConstraintValueInfo]):
            return arch
    return None

def _portable_toolchain_impl(ctx):
    tool = ctx.attr.tool[DefaultInfo]
    info = PortableToolInfo(
        tool = ctx.executable.tool,
        files_to_run = tool.files_to_run,
        launcher = ctx.file.launcher,
        launcher_arch = _launcher_arch(ctx) if ctx.file.launcher else None,
    )
    return [platform_common.ToolchainInfo(portable = info)]

portable_toolchain = rule(
    implementation = _portable_toolchain_impl,
    doc = """Declares a `portable` helper binary as a toolchain.

The project registers one built from source with rules_go. A release
registers prebuilt, integrity-checked binaries ahead of it (see
rules/private/prebuilt.bzl), with no `launcher`: bundles then take the
launcher built into the helper, so a user needs neither Go nor a C compiler
for the helper.

`launcher` is built for the target platform, so bundles for a sysroot of the
target's architecture get the launcher this build made. The helper also
carries launchers for x86_64 and aarch64 (built from the same source by
`launcher/build.sh`); a bundle for a sysroot of another architecture, such as
arm64 bundles built on an x86_64 machine without an aarch64 C toolchain,
uses the helper's copy for that architecture.

Example:

```starlark
portable_toolchain(
    name = "portable_from_source",
    tool = "//tools/cmd/portable",
    launcher = "//launcher",
)

toolchain(
    name = "default_toolchain",
    toolchain = ":portable_from_source",
    toolchain_type = "//rules:toolchain_type",
)
```

Register the helper for `//rules:helper_toolchain_type` too (a
`portable_toolchain` without `launcher`): building sysroots and the bundled
compiler takes it, because the launcher is compiled against a sysroot.""",
    attrs = {
        "tool": attr.label(
            doc = "The `portable` executable (a go_binary or a prebuilt file). Example: `//tools/cmd/portable`.",
            mandatory = True,
            allow_files = True,
            executable = True,
            cfg = "exec",
        ),
        "launcher": attr.label(
            doc = "The bundle launcher for the target platform: a static, freestanding executable. Example: `//launcher`. Without it, bundles take the launcher built into the helper (x86_64 and aarch64).",
            allow_single_file = True,
            cfg = "target",
        ),
        "_launcher_cpus": attr.label_keyed_string_dict(
            doc = "Target CPUs and their Debian architecture names (from arch.bzl).",
            default = platform_cpus(),
            providers = [platform_common.ConstraintValueInfo],
        ),
    },
    provides = [platform_common.ToolchainInfo],
)

"""The portable helper toolchain: how rules reach the `portable` Go binary."""

PortableToolInfo = provider(
    doc = """The `portable` helper that every rules_portable action runs.

Example: `ctx.toolchains["@rules_portable//rules:toolchain_type"].portable.tool`""",
    fields = {
        "tool": "File: the `portable` executable.",
        "files_to_run": "FilesToRunProvider: pass it as the `executable` of `ctx.actions.run`.",
        "launcher": "File: the static launcher that bundles put at `bin/NAME`, built for the target platform.",
    },
)

TOOLCHAIN_TYPE = "@rules_portable//rules:toolchain_type"

def _portable_toolchain_impl(ctx):
    tool = ctx.attr.tool[DefaultInfo]
    info = PortableToolInfo(
        tool = ctx.executable.tool,
        files_to_run = tool.files_to_run,
        launcher = ctx.file.launcher,
    )
    return [platform_common.ToolchainInfo(portable = info)]

portable_toolchain = rule(
    implementation = _portable_toolchain_impl,
    doc = """Declares a `portable` helper binary as a toolchain.

The project registers one built from source with rules_go. A release can
register a prebuilt, sha256-checked binary instead by pointing `tool` at it.

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
```""",
    attrs = {
        "tool": attr.label(
            doc = "The `portable` executable (a go_binary or a prebuilt file). Example: `//tools/cmd/portable`.",
            mandatory = True,
            executable = True,
            cfg = "exec",
        ),
        "launcher": attr.label(
            doc = "The bundle launcher for the target platform: a static, freestanding executable. Example: `//launcher`.",
            mandatory = True,
            allow_single_file = True,
            cfg = "target",
        ),
    },
    provides = [platform_common.ToolchainInfo],
)

"""jar_binary: run an executable jar on the Java runtime toolchain.

Stardoc's default renderer is a `java_binary`, which needs Bazel's Java
build tools (a download). A prebuilt renderer jar needs only a Java
runtime, such as the local JDK (`--tool_java_runtime_version=local_jdk`).
"""

_RUNTIME = "@bazel_tools//tools/jdk:runtime_toolchain_type"

def _runfiles_path(ctx, short_path):
    # "../repo/path" for other repositories, "path" for this one.
    if short_path.startswith("../"):
        return short_path[3:]
    return ctx.workspace_name + "/" + short_path

def _jar_binary_impl(ctx):
    runtime = ctx.toolchains[_RUNTIME].java_runtime
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.write(out, """#!/bin/sh
r="${{RUNFILES_DIR:-$0.runfiles}}"
exec "$r/{java}" -jar "$r/{jar}" "$@"
""".format(
        java = _runfiles_path(ctx, runtime.java_executable_runfiles_path),
        jar = _runfiles_path(ctx, ctx.file.jar.short_path),
    ), is_executable = True)
    return [DefaultInfo(
        executable = out,
        runfiles = ctx.runfiles(files = [ctx.file.jar], transitive_files = runtime.files),
    )]

jar_binary = rule(
    implementation = _jar_binary_impl,
    doc = "An executable that runs `jar` with `java -jar`, on the Java runtime toolchain; for use as an action's tool (it runs from the exec root).",
    attrs = {
        "jar": attr.label(
            doc = "The executable jar (its manifest names the main class).",
            allow_single_file = [".jar"],
            mandatory = True,
        ),
    },
    executable = True,
    toolchains = [_RUNTIME],
)

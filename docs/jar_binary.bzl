"""jar_binary: run an executable jar on a Java runtime that runs anywhere.

Stardoc's default renderer is a `java_binary`, which needs Bazel's Java
build tools (a download). A prebuilt renderer jar needs only a Java
runtime. The offline setup's runtime is the local JDK of Debian sid
(`--tool_java_runtime_version=local_jdk`), built for glibc 2.43: a remote
worker with an older glibc could not start it. `java_runtime_bundle` makes
that runtime a portable bundle, with glibc and every library it needs taken
from a sysroot of this project, and `jar_binary` runs the jar on it.
"""

# The project's own tooling, like tests/: it may use the private action.
load("//rules:providers.bzl", "SysrootInfo")
load("//rules/private:toolchain.bzl", "TOOLCHAIN_TYPE")  # buildifier: disable=bzl-visibility
load("//rules/private/actions:bundle.bzl", "emit_bundle")  # buildifier: disable=bzl-visibility

_RUNTIME = "@bazel_tools//tools/jdk:runtime_toolchain_type"

def _runfiles_path(ctx, short_path):
    # "../repo/path" for other repositories, "path" for this one.
    if short_path.startswith("../"):
        return short_path[3:]
    return ctx.workspace_name + "/" + short_path

def _java_runtime_bundle_impl(ctx):
    runtime = ctx.toolchains[_RUNTIME].java_runtime
    files = runtime.files.to_list()
    java = [f for f in files if f.path == runtime.java_executable_exec_path]
    if not java:
        fail("%s: the Java runtime toolchain (java_home %s) has no `java` among its files, so there is nothing to bundle; select a runtime whose files are in the build, e.g. --tool_java_runtime_version=local_jdk or a remote JDK" % (ctx.label, runtime.java_home))
    home = runtime.java_home + "/"
    adds = []
    for f in files:
        rel = f.path.removeprefix(home)

        # bin/java is the bundle's program; the other tools of bin/ would
        # not find their home from libexec/ (docs/portable-bazel.md).
        if f == java[0] or rel == f.path or rel.startswith("bin/"):
            continue
        if rel in ctx.attr.exclude or rel.split("/")[0] in ctx.attr.exclude:
            continue
        adds.append((f, rel))
    tree = ctx.actions.declare_directory(ctx.label.name)
    emit_bundle(
        ctx,
        tool = ctx.toolchains[TOOLCHAIN_TYPE].portable,
        binary = java[0],
        sysroot = ctx.attr.sysroot[SysrootInfo],
        out = tree,
        adds = adds,
    )
    return [DefaultInfo(files = depset([tree]))]

java_runtime_bundle = rule(
    implementation = _java_runtime_bundle_impl,
    doc = """The Java runtime toolchain's JDK as a portable bundle: a directory that is
the JDK's home (`bin/java`, `lib/`, `conf/`, ...) with glibc, its loader and
every library the JDK needs resolved in `sysroot`, never on the machine that
runs the action. `bin/java` is the bundle's launcher, so java finds its home
from `/proc/self/exe`; it runs on any x86_64 Linux, whatever its glibc.""",
    attrs = {
        "sysroot": attr.label(
            doc = "The sysroot to take glibc and the JDK's other libraries from: one at least as new as the glibc the JDK was built for. Example: `\"//sysroots:v3\"`.",
            mandatory = True,
            providers = [SysrootInfo],
        ),
        "exclude": attr.string_list(
            doc = "Paths relative to the JDK's home to leave out: a top directory (`\"include\"`) or a file (`\"lib/libjsound.so\"`), such as the desktop libraries whose dependencies the sysroot lacks. Example: `[\"include\", \"lib/libfontmanager.so\"]`.",
        ),
    },
    toolchains = [_RUNTIME, TOOLCHAIN_TYPE],
)

def _jar_binary_impl(ctx):
    if ctx.file.java_bundle:
        java = _runfiles_path(ctx, ctx.file.java_bundle.short_path) + "/bin/java"
        files = depset([ctx.file.java_bundle])
    else:
        runtime = ctx.toolchains[_RUNTIME].java_runtime
        java = _runfiles_path(ctx, runtime.java_executable_runfiles_path)
        files = runtime.files
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.write(out, """#!/bin/sh
r="${{RUNFILES_DIR:-$0.runfiles}}"
exec "$r/{java}" -jar "$r/{jar}" "$@"
""".format(
        java = java,
        jar = _runfiles_path(ctx, ctx.file.jar.short_path),
    ), is_executable = True)
    return [DefaultInfo(
        executable = out,
        runfiles = ctx.runfiles(files = [ctx.file.jar], transitive_files = files),
    )]

jar_binary = rule(
    implementation = _jar_binary_impl,
    doc = "An executable that runs `jar` with `java -jar`, on `java_bundle` or else on the Java runtime toolchain; for use as an action's tool (it runs from the exec root).",
    attrs = {
        "jar": attr.label(
            doc = "The executable jar (its manifest names the main class).",
            allow_single_file = [".jar"],
            mandatory = True,
        ),
        "java_bundle": attr.label(
            doc = "A `java_runtime_bundle` to run the jar on, so that the action runs on any worker; without it, the Java runtime toolchain's `java`.",
            allow_single_file = True,
        ),
    },
    executable = True,
    toolchains = [_RUNTIME],
)

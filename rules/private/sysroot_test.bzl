"""sysroot_test: runs an existing test against another glibc, in the sandbox."""

load("//rules/private/actions:bundle.bzl", "emit_bundle", "emit_launch_script")
load(":providers.bzl", "SysrootInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")
load(":transition.bzl", "TRANSITION_ATTRS", "sysroot_transition")

def _sysroot_test_impl(ctx):
    sysroot = ctx.attr.sysroot[SysrootInfo]
    tool = ctx.toolchains[TOOLCHAIN_TYPE].portable
    test = ctx.attr.test[0]
    binary = test[DefaultInfo].files_to_run.executable
    tree = ctx.actions.declare_directory(ctx.label.name + ".bundle")
    emit_bundle(
        ctx,
        tool = tool,
        binary = binary,
        sysroot = sysroot,
        out = tree,
        runfiles = test[DefaultInfo].default_runfiles.files,
    )
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    emit_launch_script(
        ctx,
        tree = tree,
        binary = binary,
        out = script,
        comment = "Runs %s through its bundle against sysroot %s (glibc %s)." % (test.label, sysroot.version, sysroot.glibc_version),
    )
    runfiles = ctx.runfiles(files = [tree]).merge(test[DefaultInfo].default_runfiles)
    env = {}
    inherited = []
    if RunEnvironmentInfo in test:
        env.update(test[RunEnvironmentInfo].environment)
        inherited = test[RunEnvironmentInfo].inherited_environment
    env.update(ctx.attr.env)
    return [
        DefaultInfo(executable = script, runfiles = runfiles),
        RunEnvironmentInfo(environment = env, inherited_environment = inherited),
    ]

sysroot_test = rule(
    implementation = _sysroot_test_impl,
    doc = """Runs an existing test target against a sysroot's glibc, with no container.

The test binary is bundled with its closure resolved in `sysroot` and run
through the bundle's launcher from runfiles, so nothing needs to be installed
under `/usr/sysroot` on the machine that runs the test. Sharding,
`TEST_TMPDIR`, XML output and exit codes behave as for the wrapped test, and
a test that re-executes itself through `/proc/self/exe` keeps working. The
wrapped test's `env` (through `RunEnvironmentInfo`) and data files come
along. Its `args` do not (Bazel gives a test rule no way to read another
test's `args`): give them to `sysroot_test` itself, which takes the common
test attributes (`args`, `size`, `shard_count`, `tags`, ...).

Example:

```starlark
sysroot_test(
    name = "app_test_v3",
    test = ":app_test",
    sysroot = "@rules_portable//sysroots:v3",
    args = ["-test.v"],  # the wrapped test's args are not inherited
)
```""",
    attrs = {
        "test": attr.label(
            doc = "The test to run: a `cc_test`, a `go_test` (cgo) or any test whose executable is a dynamic ELF. It is built for the sysroot's platform (see `compile_against_sysroot`). Example: `\":app_test\"`.",
            mandatory = True,
            executable = True,
            cfg = sysroot_transition,
        ),
        "env": attr.string_dict(
            doc = "Extra environment variables for the test, on top of the wrapped test's own. Example: `{\"WANT_GLIBC\": \"2.43\"}`.",
        ),
        "sysroot": attr.label(
            doc = "The `sysroot` whose glibc the test runs against. Example: `\"@rules_portable//sysroots:v3\"`.",
            mandatory = True,
            providers = [SysrootInfo],
        ),
    } | TRANSITION_ATTRS,
    test = True,
    toolchains = [TOOLCHAIN_TYPE],
)

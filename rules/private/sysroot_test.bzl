"""sysroot_test: runs an existing test against another glibc, in the sandbox."""

load("//rules/private/actions:bundle.bzl", "emit_bundle", "emit_launch_script")
load(":providers.bzl", "SysrootInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")
load(":transition.bzl", "TRANSITION_ATTRS", "check_sysroot_platform", "sysroot_transition")

def _sysroot_test_impl(ctx):
    check_sysroot_platform(ctx)
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
        enforce_checksums = ctx.attr.enforce_checksums,
    )
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    emit_launch_script(
        ctx,
        tree = tree,
        binary = binary,
        out = script,
        comment = "Runs %s through its bundle against sysroot %s (glibc %s)." % (test.label, sysroot.version, sysroot.glibc_version),
        record = ctx.attr.record_closure,
    )
    runfiles = ctx.runfiles(files = [tree]).merge(test[DefaultInfo].default_runfiles)

    # What the test runs against, for tests that check it (the user's env
    # and the wrapped test's come on top).
    env = {
        "PORTABLE_SYSROOT_VERSION": sysroot.version,
        "PORTABLE_SYSROOT_GLIBC": sysroot.glibc_version,
    }
    inherited = []
    if RunEnvironmentInfo in test:
        env.update(test[RunEnvironmentInfo].environment)
        inherited = test[RunEnvironmentInfo].inherited_environment
    env.update(ctx.attr.env)
    return [
        DefaultInfo(executable = script, runfiles = runfiles),
        RunEnvironmentInfo(environment = env, inherited_environment = inherited),
        # The bundle the test runs in: --output_groups=+bundle builds it alone.
        OutputGroupInfo(bundle = depset([tree])),
    ]

sysroot_test = rule(
    implementation = _sysroot_test_impl,
    doc = """Runs an existing test target against a sysroot's glibc, with no container.

The test binary is bundled with its closure resolved in `sysroot` and run
through the bundle's launcher from runfiles, so nothing needs to be installed
under `/usr/sysroot` on the machine that runs the test. Sharding,
`TEST_TMPDIR`, XML output and exit codes behave as for the wrapped test, and
a test that re-executes itself through `/proc/self/exe` keeps working.
By default the test is also compiled and linked against the sysroot (see
`compile_against_sysroot`). The test sees `PORTABLE_SYSROOT_VERSION` (e.g.
`v3`) and `PORTABLE_SYSROOT_GLIBC` (e.g. `2.43`) in its environment. The
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
        "enforce_checksums": attr.bool(
            doc = "Bundle the test with `--enforce-checksums`: every object it loads is checked against its sha256 before it runs. Example: `enforce_checksums = True`.",
        ),
        "record_closure": attr.bool(
            doc = "Record every object and glibc data file the test run loads (the bundle's audit module in record mode) as the undeclared output `portable-closure.txt` (in `bazel-testlogs/<package>/<name>/test.outputs/`); compare it with the bundle using `portable diff-closure --record`. Example: `record_closure = True`.",
        ),
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

def sysroot_test_suite(name, test, sysroots, **kwargs):
    """Runs one test against several sysroots: a version matrix in one `bazel test`.

    Declares a `sysroot_test` named `<name>_<sysroot name>` for each sysroot
    (each compiles the test against that sysroot, see
    `compile_against_sysroot`, and runs it on its glibc) and a `test_suite`
    named `name` of them all.

    Example:

    ```starlark
    sysroot_test_suite(
        name = "app_test_matrix",
        test = ":app_test",
        sysroots = [
            "@rules_portable//sysroots:v1",
            "@rules_portable//sysroots:v2",
            "@rules_portable//sysroots:v3",
        ],
    )
    # bazel test //app:app_test_matrix runs app_test_matrix_v1, _v2 and _v3.
    ```

    Args:
      name: the `test_suite`, and the prefix of each test's name.
      test: the test to run, as `sysroot_test`'s `test`.
      sysroots: the `sysroot` targets to run it against; their names must
        differ (`v1`, `v2`, ...).
      **kwargs: passed to each `sysroot_test` (`env`, `args`, `size`,
        `tags`, `compile_against_sysroot`, ...); `tags` and `visibility`
        also to the suite.
    """
    tests = []
    seen = {}
    for s in sysroots:
        suffix = native.package_relative_label(s).name
        if suffix in seen:
            fail("sysroot_test_suite %s: sysroots %s and %s have the same name %r; the tests are named <name>_<sysroot name>" % (name, seen[suffix], s, suffix))
        seen[suffix] = s
        sysroot_test(
            name = name + "_" + suffix,
            test = test,
            sysroot = s,
            **kwargs
        )
        tests.append(":" + name + "_" + suffix)
    native.test_suite(
        name = name,
        tests = tests,
        tags = kwargs.get("tags"),
        visibility = kwargs.get("visibility"),
    )

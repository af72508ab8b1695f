"""helper_binary: the `portable` helper, built where no sysroot's cc toolchain applies."""

load(":go_settings.bzl", "GO_SETTINGS", "go_settings")

# True in the configuration the helper is built in. rules_portable's cc
# toolchains (portable_cc_toolchain) apply only where it is False.
BUILDING_HELPER = "//rules/private:building_helper"

def _impl(_settings, _attr):
    # rules_go's settings fixed too, at what the helper's go_binary
    # (pure = "on") sets itself, so it is built once per build.
    return dict(go_settings(True), **{str(Label(BUILDING_HELPER)): True})

_building_helper = transition(
    implementation = _impl,
    inputs = [],
    outputs = [str(Label(BUILDING_HELPER))] + GO_SETTINGS,
)

def _helper_binary_impl(ctx):
    # A list: the attribute has a transition.
    binary = ctx.attr.binary[0][DefaultInfo]

    # Named like the binary: the helper's messages name it by argv[0].
    out = ctx.actions.declare_file(ctx.label.name + "/" + ctx.executable.binary.basename)
    ctx.actions.symlink(output = out, target_file = ctx.executable.binary, is_executable = True)
    return [DefaultInfo(
        executable = out,
        files = depset([out]),
        runfiles = ctx.runfiles([out]).merge(binary.default_runfiles),
    )]

helper_binary = rule(
    implementation = _helper_binary_impl,
    doc = """The `portable` helper (a pure Go binary) for a helper toolchain.

The sysroots and the bundled compiler that rules_portable's cc toolchains
run are made by the helper, and rules_go gives every go_binary a cc
toolchain. When the execution platform carries a glibc constraint (as with
`--extra_execution_platforms=@rules_portable//platforms:linux_x86_64_glibc_2_36`
on a remote cluster, so that exec-configuration C compiles run the bundled
gcc too), the helper's cc toolchain would be one of those, which needs the
helper: a cycle. This rule builds the helper with those toolchains switched
off (they never compile anything of it: it is pure Go).""",
    attrs = {
        "binary": attr.label(
            doc = "The helper's go_binary.",
            mandatory = True,
            executable = True,
            cfg = _building_helper,
        ),
    },
    executable = True,
)

"""Analysis tests of the portable helper toolchain."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

def _toolchain_provides_tool_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    info = target[platform_common.ToolchainInfo].portable
    asserts.equals(env, "portable", info.tool.basename)
    asserts.true(
        env,
        info.files_to_run.executable == info.tool,
        "files_to_run.executable must be the tool itself",
    )
    asserts.equals(env, "amd64", info.launcher_arch, "the launcher is built for the target platform, x86_64 here")
    return analysistest.end(env)

toolchain_provides_tool_test = analysistest.make(_toolchain_provides_tool_impl)

def _resolved_toolchain_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    asserts.equals(env, "portable", target[OutputGroupInfo].resolved_tool.to_list()[0].basename)
    return analysistest.end(env)

resolved_toolchain_test = analysistest.make(_resolved_toolchain_impl)

def _probe_impl(ctx):
    tc = ctx.toolchains["//rules:toolchain_type"].portable
    return [OutputGroupInfo(resolved_tool = depset([tc.tool]))]

# Resolves the registered toolchain the way every rules_portable rule will.
toolchain_probe = rule(
    implementation = _probe_impl,
    toolchains = ["//rules:toolchain_type"],
)

def toolchain_test_suite(name):
    toolchain_provides_tool_test(
        name = "toolchain_provides_tool_test",
        target_under_test = "//rules:portable_from_source",
    )
    toolchain_probe(name = "toolchain_probe", tags = ["manual"])
    resolved_toolchain_test(
        name = "resolved_toolchain_test",
        target_under_test = ":toolchain_probe",
    )
    native.test_suite(
        name = name,
        tests = [
            ":toolchain_provides_tool_test",
            ":resolved_toolchain_test",
        ],
    )

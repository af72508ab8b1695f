"""launcher_binary: the bundle launcher, compiled by the bundled gcc."""

_PLATFORMS = "//command_line_option:platforms"
_CPU = "//command_line_option:cpu"

# The host platform's labels: a build for it would take the build machine's
# own (autodetected) C toolchain.
_HOST = [str(Label(p)) for p in [
    "@bazel_tools//tools:host_platform",
    "@platforms//host",
    "@local_config_platform//:host",
]]

def _impl(settings, _attr):
    # On an x86_64 build machine (Bazel's --cpu is k8), a launcher for the
    # host platform is built for glibc 2.36's platform instead, whose cc
    # toolchain runs the bundled gcc (//sysroots:compiler). The launcher is
    # freestanding (no libc at all), so the platform's glibc does not show
    # in its bytes; any other platform keeps its own toolchain.
    platforms = [str(p) for p in settings[_PLATFORMS]]
    if settings[_CPU] == "k8" and (not platforms or [p for p in platforms if p in _HOST]):
        return {_PLATFORMS: [str(Label("//platforms:linux_x86_64_glibc_2_36"))]}
    return {_PLATFORMS: settings[_PLATFORMS]}

_hermetic = transition(
    implementation = _impl,
    inputs = [_PLATFORMS, _CPU],
    outputs = [_PLATFORMS],
)

def _launcher_binary_impl(ctx):
    binary = ctx.file.binary
    return [DefaultInfo(files = depset([binary]))]

launcher_binary = rule(
    implementation = _launcher_binary_impl,
    doc = "The launcher cc_binary, built on an x86_64 build machine with the cc toolchain of glibc 2.36's platform (the bundled gcc) rather than the machine's own gcc, so it is the same from every machine and remote worker.",
    attrs = {
        "binary": attr.label(
            doc = "The launcher's cc_binary.",
            mandatory = True,
            allow_single_file = True,
            cfg = _hermetic,
        ),
    },
)

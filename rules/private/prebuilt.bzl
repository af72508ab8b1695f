"""Prebuilt `portable` helpers for releases, registered ahead of the one built from source.

A release archive names its helper binaries in release.bzl. The `prebuilt`
extension then makes one repository per platform, each downloading its binary
(integrity-checked) and declaring a `portable_toolchain` around it, and a hub
repository `rules_portable_helpers` whose `toolchain` targets name them with
their exec constraints. Only the repository of the platform that runs the
actions is fetched. In the source tree release.bzl is empty, the hub declares
no toolchain, and toolchain resolution falls through to the helper built from
source (`//rules:default_toolchain`).
"""

load(":release.bzl", "RELEASE")

# Helper platforms: the name used in release file names and their exec
# constraints.
PLATFORMS = {
    "linux_amd64": ["@platforms//os:linux", "@platforms//cpu:x86_64"],
    "linux_arm64": ["@platforms//os:linux", "@platforms//cpu:aarch64"],
}

_HELPER_BUILD = """\
load("@rules_portable//rules/private:toolchain.bzl", "portable_toolchain")

# The prebuilt `portable` helper {version} for {platform}. Bundles take the
# launcher built into it, so no C toolchain is needed for the launcher.
portable_toolchain(
    name = "toolchain",
    tool = "portable",
    visibility = ["//visibility:public"],
)
"""

def _helper_impl(rctx):
    urls = [u.format(version = rctx.attr.version, platform = rctx.attr.platform) for u in rctx.attr.urls]
    rctx.download(
        url = urls,
        output = "portable",
        integrity = rctx.attr.integrity,
        executable = True,
    )
    rctx.file("BUILD.bazel", _HELPER_BUILD.format(version = rctx.attr.version, platform = rctx.attr.platform))

_helper_repository = repository_rule(
    implementation = _helper_impl,
    doc = "Downloads one prebuilt `portable` helper and declares a portable_toolchain for it.",
    attrs = {
        "version": attr.string(doc = "The release version, e.g. \"0.1.0\".", mandatory = True),
        "platform": attr.string(doc = "The helper's platform, e.g. \"linux_amd64\".", mandatory = True),
        "urls": attr.string_list(doc = "URL templates with {version} and {platform}.", mandatory = True),
        "integrity": attr.string(doc = "The binary's integrity (\"sha256-...\").", mandatory = True),
    },
)

def _hub_impl(rctx):
    lines = [
        "# Toolchains of the prebuilt `portable` helpers of this release (none in",
        "# the source tree: there the helper is built from source).",
    ]
    for platform in sorted(rctx.attr.platforms):
        lines.append("""
toolchain(
    name = "{platform}",
    exec_compatible_with = {constraints},
    toolchain = "@rules_portable_helper_{platform}//:toolchain",
    toolchain_type = "@rules_portable//rules:toolchain_type",
)

toolchain(
    name = "{platform}_helper",
    exec_compatible_with = {constraints},
    toolchain = "@rules_portable_helper_{platform}//:toolchain",
    toolchain_type = "@rules_portable//rules:helper_toolchain_type",
)""".format(platform = platform, constraints = repr(PLATFORMS[platform])))
    rctx.file("BUILD.bazel", "\n".join(lines) + "\n")

_hub_repository = repository_rule(
    implementation = _hub_impl,
    doc = "Declares the toolchains of the prebuilt helpers.",
    attrs = {"platforms": attr.string_list(doc = "Helper platforms that have a binary.")},
)

def _prebuilt_impl(mctx):
    platforms = []
    for platform, integrity in sorted(RELEASE["integrity"].items()):
        if platform not in PLATFORMS:
            fail("release.bzl names a helper for %r; known platforms: %s" % (platform, ", ".join(sorted(PLATFORMS))))
        _helper_repository(
            name = "rules_portable_helper_" + platform,
            version = RELEASE["version"],
            platform = platform,
            urls = RELEASE["urls"],
            integrity = integrity,
        )
        platforms.append(platform)
    _hub_repository(name = "rules_portable_helpers", platforms = platforms)
    return mctx.extension_metadata(reproducible = True)

prebuilt = module_extension(
    implementation = _prebuilt_impl,
    doc = "Makes the repositories of a release's prebuilt `portable` helpers (none in the source tree).",
)

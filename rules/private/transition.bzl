"""The transition that builds a binary for its sysroot's platform."""

_PLATFORMS = "//command_line_option:platforms"

# rules_portable's own sysroots and the platform of each: the glibc of the
# sysroot is the platform's glibc constraint, which selects the cc toolchain
# that compiles against the sysroot's dev flavour.
_KNOWN = {
    Label("//sysroots:v1"): Label("//platforms:linux_x86_64_glibc_2_36"),
    Label("//sysroots:v1_dev"): Label("//platforms:linux_x86_64_glibc_2_36"),
    Label("//sysroots:v2"): Label("//platforms:linux_x86_64_glibc_2_41"),
    Label("//sysroots:v2_dev"): Label("//platforms:linux_x86_64_glibc_2_41"),
    Label("//sysroots:v3"): Label("//platforms:linux_x86_64_glibc_2_43"),
    Label("//sysroots:v3_dev"): Label("//platforms:linux_x86_64_glibc_2_43"),
    Label("//sysroots:v4"): Label("//platforms:linux_x86_64_glibc_2_44"),
    Label("//sysroots:v4_dev"): Label("//platforms:linux_x86_64_glibc_2_44"),
}

def sysroot_platform(sysroot, platform):
    """The platform a binary for this sysroot is built for, or None.

    Args:
      sysroot: the Label of a `sysroot` target.
      platform: the Label of the rule's `platform` attribute, or None.

    Returns:
      platform if given, else the platform of one of rules_portable's own
      sysroots, else None.
    """
    return platform or _KNOWN.get(sysroot)

def _impl(settings, attr):
    platform = sysroot_platform(attr.sysroot, attr.platform) if attr.compile_against_sysroot else None

    # No platform: the rule's check_sysroot_platform fails the target with
    # the fix (a failure here could not say which target, nor be tested).
    return {_PLATFORMS: [str(platform)] if platform else settings[_PLATFORMS]}

def check_sysroot_platform(ctx):
    """Fails when the program must be built for a sysroot whose platform is unknown.

    Args:
      ctx: the context of a rule with TRANSITION_ATTRS and a `sysroot`.
    """
    if not ctx.attr.compile_against_sysroot:
        return
    platform = ctx.attr.platform.label if ctx.attr.platform else None
    if not sysroot_platform(ctx.attr.sysroot.label, platform):
        fail(("sysroot %s is not one of rules_portable's, so the platform to compile against it is not known: " +
              "set platform = a platform with its glibc constraint and a portable_cc_toolchain registered for it " +
              "(see portable_cc_toolchain), or compile_against_sysroot = False to patch a program built for the " +
              "command line's platform (always so for a prebuilt file)") % ctx.attr.sysroot.label, attr = "sysroot")

sysroot_transition = transition(
    implementation = _impl,
    inputs = [_PLATFORMS],
    outputs = [_PLATFORMS],
)

# The attributes every rule with sysroot_transition on its binary has.
TRANSITION_ATTRS = {
    "compile_against_sysroot": attr.bool(
        doc = """Build the program (`binary`; `test` of `sysroot_test`) for the sysroot's platform, so it is compiled and linked against the sysroot's own headers and libraries (its dev flavour) by the cc toolchain of that platform: the glibc it needs is then at most the sysroot's. Changing `sysroot` rebuilds it. `False` keeps it as the build made it for the command line's platform and only patches and bundles it; set it for a prebuilt file, which has nothing to compile. Example: `compile_against_sysroot = False`.""",
        default = True,
    ),
    "platform": attr.label(
        doc = """The platform to build the program for when `compile_against_sysroot` is set. Needed only for a sysroot that is not one of rules_portable's (whose platforms are `@rules_portable//platforms:linux_x86_64_glibc_2_36` and so on); it must carry the glibc constraint of a registered `portable_cc_toolchain` for that sysroot. Example: `platform = "//platforms:linux_x86_64_glibc_2_41_mine"`.""",
        providers = [platform_common.PlatformInfo],
    ),
    "_allowlist_function_transition": attr.label(
        default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
    ),
}

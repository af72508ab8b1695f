"""Analysis tests of building for a sysroot: the glibc platforms select the
sysroot's cc toolchain (compile and link flags, environment), select() on the
glibc constraint, the transition of portable_binary, sysroot_binary and
sysroot_test, and the failures a user can reach."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("@rules_cc//cc:cc_binary.bzl", "cc_binary")
load("//rules:defs.bzl", "portable_binary", "sysroot_binary", "sysroot_test_suite")

# The toolchain's configuration, for a failure case with a run-time sysroot.
load("//rules/private:cc_toolchain.bzl", "portable_cc_toolchain_config")  # buildifier: disable=bzl-visibility
load("//rules/private:slot.bzl", "PATH_MAX")  # buildifier: disable=bzl-visibility
load(":helpers.bzl", "failure_test", "one_action")

_V1 = {"//command_line_option:platforms": str(Label("//platforms:linux_x86_64_glibc_2_36"))}

def _isystem(argv):
    return [argv[i + 1] for i, a in enumerate(argv) if a == "-isystem" and i + 1 < len(argv)]

# A C program for glibc 2.36: v1's headers, no standard include directories.
def _c_compile_impl(ctx):
    env = analysistest.begin(ctx)
    compile = one_action(env, "CppCompile")
    if compile:
        argv = compile.argv
        asserts.true(env, argv[0].endswith("cc_driver.sh"), "the compiler is the driver: %s" % argv[0])
        asserts.true(env, "-nostdinc" in argv, "the build machine's /usr/include must not be searched")
        dirs = _isystem(argv)
        sysroot_dirs = [d for d in dirs if "/sysroots/v1_dev/" in d]
        asserts.true(env, [d for d in sysroot_dirs if d.endswith("/v1_dev/usr/include")], "v1's include directory: %s" % dirs)
        asserts.true(env, [d for d in sysroot_dirs if d.endswith("/v1_dev/usr/include/x86_64-linux-gnu")], "v1's multiarch include directory: %s" % dirs)
        asserts.false(env, [d for d in sysroot_dirs if d.startswith("/")], "sysroot paths must be execroot-relative: %s" % sysroot_dirs)
        asserts.false(env, [d for d in dirs if d.startswith("/usr/include")], "no host include directory: %s" % dirs)
        asserts.true(env, "stdc-predef.h" in argv, "-nostdinc drops stdc-predef.h; it is included again")
        asserts.true(env, "-DSELECTED_GLIBC_2_36" in argv, "select() on //platforms:glibc_2_36 must pick its branch")

        # (PORTABLE_CC, PORTABLE_CC_VERSION and PORTABLE_SYSROOT come from
        # the toolchain's env_sets, which Action.env does not show; the e2e
        # tests see the driver use them.)
        asserts.true(env, [f for f in compile.inputs.to_list() if f.is_directory and f.path.endswith("sysroots/v1_dev")], "the dev sysroot is an input")

        # The compiler is the bundled gcc of //sysroots:gcc_16: an input (its
        # content is in the action key), run through -B, its builtin headers
        # named relative to the execroot. No argument names a host path.
        asserts.true(env, [f for f in compile.inputs.to_list() if f.is_directory and f.path.endswith("sysroots/gcc_16")], "the bundled gcc is an input")
        asserts.true(env, [a for a in argv if a.startswith("-B") and a.endswith("sysroots/gcc_16/bin/")], "-B to the bundled gcc's programs: %s" % argv)
        asserts.true(env, [d for d in dirs if d.endswith("sysroots/gcc_16/lib/gcc/x86_64-linux-gnu/16/include")], "gcc's builtin headers from its bundle: %s" % dirs)

        # __FILE__ names a header as installed, not by its bazel-out path
        # (which names a configuration).
        maps = [a for a in argv if a.startswith("-ffile-prefix-map=")]
        asserts.true(env, [m for m in maps if m.endswith("sysroots/v1_dev=")], "the dev sysroot's directory maps to /: %s" % maps)
        asserts.true(env, [m for m in maps if m.endswith("sysroots/gcc_16=/usr")], "the compiler bundle's maps to /usr: %s" % maps)
        asserts.false(env, [a for a in argv if a.startswith("/") or a.startswith("-B/") or a.startswith("-I/") or a.startswith("--sysroot=/")], "no absolute path in a compile: %s" % [a for a in argv if "/" in a and a.split("=")[-1].startswith("/")])
    return analysistest.end(env)

c_compile_test = analysistest.make(_c_compile_impl, config_settings = _V1)

# C++: libstdc++'s headers of the sysroot (GCC 12 on bookworm), first.
def _cxx_compile_impl(ctx):
    env = analysistest.begin(ctx)
    compile = one_action(env, "CppCompile")
    if compile:
        argv = compile.argv
        asserts.true(env, "-nostdinc++" in argv)
        dirs = _isystem(argv)
        asserts.true(env, len(dirs) > 0 and dirs[0].endswith("/v1_dev/usr/include/c++/12"), "libstdc++ 12's headers come first: %s" % dirs)
        asserts.true(env, [d for d in dirs if d.endswith("/v1_dev/usr/include/x86_64-linux-gnu/c++/12")], "and its multiarch ones: %s" % dirs)
    return analysistest.end(env)

cxx_compile_test = analysistest.make(_cxx_compile_impl, config_settings = _V1)

# The link: the sysroot's crt objects, libgcc and libraries first, and the
# standard loader in a PATH_MAX slot.
def _link_impl(ctx):
    env = analysistest.begin(ctx)
    link = one_action(env, "CppLink")
    if link:
        argv = link.argv
        interp = [a[len("-Wl,--dynamic-linker="):] for a in argv if a.startswith("-Wl,--dynamic-linker=")]
        asserts.equals(env, 1, len(interp), "one --dynamic-linker")
        if interp:
            asserts.equals(env, PATH_MAX - 1, len(interp[0]), "a PATH_MAX slot")
            asserts.true(env, interp[0].endswith("/lib64/ld-linux-x86-64.so.2") and interp[0].startswith("//"), "the standard loader, padded: ...%s" % interp[0][-40:])
        b = [a for a in argv if a.startswith("-B")]
        asserts.true(env, [a for a in b if a.endswith("/v1_dev/usr/lib/gcc/x86_64-linux-gnu/12/")], "crtbegin and libgcc from the sysroot: %s" % b)
        asserts.true(env, [a for a in b if a.endswith("/v1_dev/usr/lib/x86_64-linux-gnu/")], "crt1.o from the sysroot: %s" % b)
        asserts.true(env, "-L=/usr/lib/x86_64-linux-gnu" in argv, "sysroot-relative library directories")
        asserts.true(env, [a for a in argv if a.startswith("--sysroot=") and a.endswith("sysroots/v1_dev")], "the linker's --sysroot")
        asserts.true(env, b and b[0].endswith("sysroots/gcc_16/bin/"), "the bundled gcc's programs (collect2, ld) first: %s" % b)
        asserts.true(env, [f for f in link.inputs.to_list() if f.is_directory and f.path.endswith("sysroots/gcc_16")], "the bundled gcc is an input of the link")
    return analysistest.end(env)

link_test = analysistest.make(_link_impl, config_settings = _V1)

# The host platform keeps the host's toolchain: no sysroot in sight.
def _host_impl(ctx):
    env = analysistest.begin(ctx)
    compile = one_action(env, "CppCompile")
    if compile:
        asserts.false(env, "-nostdinc" in compile.argv, "the host platform must not get a sysroot toolchain")
        asserts.false(env, "-DSELECTED_GLIBC_2_36" in compile.argv, "select() must take the default branch")
    return analysistest.end(env)

# The host platform, whatever --platforms says (--config=remote targets
# glibc 2.36's platform).
_HOST = {"//command_line_option:platforms": str(Label("@bazel_tools//tools:host_platform"))}

host_compile_test = analysistest.make(_host_impl, config_settings = _HOST)

# The rules build their binary for the sysroot's platform (a configuration
# of its own), unless compile_against_sysroot = False.
def _transitioned_impl(ctx):
    env = analysistest.begin(ctx)
    patch = one_action(env, "PortablePatch")
    if patch:
        binary = patch.argv[-1] if patch.argv[-1] != patch.outputs.to_list()[0].path else None
        inputs = [f.path for f in patch.inputs.to_list() if f.basename == "hello"]
        asserts.equals(env, 1, len(inputs), "one input binary: %s (%s)" % (inputs, binary))
        if inputs:
            # Another configuration is another output directory than the
            # rule's own (bazel-out/<config>/bin).
            own = patch.outputs.to_list()[0].path.split("/bin/")[0]
            asserts.equals(env, ctx.attr.transitioned, inputs[0].split("/bin/")[0] != own, "the binary's configuration: %s (the rule's: %s)" % (inputs[0], own))
    return analysistest.end(env)

transitioned_test = analysistest.make(_transitioned_impl, attrs = {"transitioned": attr.bool(mandatory = True)}, config_settings = _HOST)

def cc_toolchain_test_suite(name):
    """Declares the targets under test and the tests.

    Args:
      name: name of the test_suite.
    """
    copts = select({
        "//platforms:glibc_2_36": ["-DSELECTED_GLIBC_2_36"],
        "//conditions:default": [],
    })
    cc_binary(name = "hello_c", srcs = ["hello.c"], copts = copts, tags = ["manual"])
    cc_binary(name = "hello_cxx", srcs = ["hello.cc"], tags = ["manual"])
    c_compile_test(name = "c_compile_test", target_under_test = ":hello_c")
    cxx_compile_test(name = "cxx_compile_test", target_under_test = ":hello_cxx")
    link_test(name = "link_test", target_under_test = ":hello_c")
    host_compile_test(name = "host_compile_test", target_under_test = ":hello_c")

    sysroot_binary(name = "hello_v1", binary = ":hello", sysroot = "//sysroots:v1", tags = ["manual"])
    sysroot_binary(name = "hello_v1_host", binary = ":hello", compile_against_sysroot = False, sysroot = "//sysroots:v1", tags = ["manual"])
    transitioned_test(name = "transitioned_test", target_under_test = ":hello_v1", transitioned = True)
    transitioned_test(name = "not_transitioned_test", target_under_test = ":hello_v1_host", transitioned = False)

    # A sysroot rules_portable does not know needs a platform.
    portable_binary(name = "unknown_sysroot", binary = ":hello", sysroot = ":arm64_v7", tags = ["manual"])
    failure_test(name = "unknown_sysroot_test", target_under_test = ":unknown_sysroot", message = "is not one of rules_portable's, so the platform to compile against it is not known")

    # A toolchain needs the dev flavour.
    portable_cc_toolchain_config(name = "runtime_config", compiler = "@rules_portable_host_gcc//:gcc", sysroot = "//sysroots:v2", tags = ["manual"])
    failure_test(name = "runtime_sysroot_test", target_under_test = ":runtime_config", message = "is not a dev sysroot")

    sysroot_test_suite(name = "matrix", sysroots = ["//sysroots:v1", "//sysroots:v3"], test = ":hello_test", tags = ["manual"])

    native.test_suite(name = name, tests = [
        ":c_compile_test",
        ":cxx_compile_test",
        ":link_test",
        ":host_compile_test",
        ":transitioned_test",
        ":not_transitioned_test",
        ":unknown_sysroot_test",
        ":runtime_sysroot_test",
    ])

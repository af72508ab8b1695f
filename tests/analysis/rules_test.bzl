"""Analysis tests of the public rules: provider fields, action argv and
mnemonics, and one expect_failure case per fail() a user can reach."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("@rules_cc//cc:cc_binary.bzl", "cc_binary")
load("@rules_cc//cc:cc_test.bzl", "cc_test")
load("//rules:defs.bzl", "portable_binary", "sysroot", "sysroot_binary", "sysroot_test")
load("//rules:providers.bzl", "PortableBundleInfo", "SysrootInfo")

# A debian_packages target stands in for a lock of another architecture.
load("//rules/private:debian_packages.bzl", "debian_packages")  # buildifier: disable=bzl-visibility
load(":helpers.bzl", "failure_test", "one_action")

def _flag(argv, name):
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
    return None

# sysroot: SysrootInfo fields and the one offline build action.
def _sysroot_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    info = target[SysrootInfo]
    asserts.equals(env, "v2", info.version)
    asserts.equals(env, "/usr/sysroot/v2", info.install_dir)
    asserts.equals(env, "2.41", info.glibc_version)
    asserts.equals(env, "lib64/ld-linux-x86-64.so.2", info.loader_path)
    asserts.equals(env, ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"], info.library_dirs)
    asserts.equals(env, "v2.tar", info.tar.basename)
    asserts.true(env, info.tree.is_directory, "tree must be a tree artifact")
    action = one_action(env, "PortableSysroot")
    if action:
        argv = action.argv
        asserts.equals(env, ["sysroot", "build"], argv[1:3])
        asserts.true(env, "--offline" in argv, "the build action must never download")
        asserts.equals(env, "v2", _flag(argv, "--label"))
        asserts.equals(env, "usr/sysroot/v2", _flag(argv, "--tar-prefix"))
        asserts.equals(env, info.tar.path, _flag(argv, "--tar"))
        asserts.equals(env, info.loader.path, _flag(argv, "--loader-out"))
        asserts.true(env, _flag(argv, "--lock").endswith("lock.json"))
    return analysistest.end(env)

sysroot_fields_test = analysistest.make(_sysroot_impl)

# portable_binary: PortableBundleInfo and the bundle actions (tar + directory).
def _portable_binary_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    info = target[PortableBundleInfo]
    asserts.equals(env, "bundle_zst.tar.zst", info.tar.basename)
    asserts.true(env, info.directory.is_directory)
    asserts.equals(env, ["hello"], info.entry_points)
    asserts.equals(env, "v2", info.sysroot.version)
    action = one_action(env, "PortableBundle")
    if action:
        argv = action.argv
        asserts.equals(env, "bundle", argv[1])
        asserts.equals(env, info.sysroot.tree.path, _flag(argv, "--sysroot"), "the closure must come from the sysroot tree, read in place")
        asserts.true(env, _flag(argv, "--launcher").endswith("launcher"), "the launcher must be the one Bazel built")
        asserts.true(env, argv[-1].endswith("/hello"))
        asserts.equals(env, info.directory.path, _flag(argv, "-o"), "one action writes the directory...")
        asserts.equals(env, info.tar.path, _flag(argv, "--tar"), "...and the tar")
        asserts.equals(env, "hello", _flag(argv, "--prefix"))
    return analysistest.end(env)

portable_binary_test = analysistest.make(_portable_binary_impl)

# portable_binary's closed-universe attributes reach the helper.
def _closed_bundle_impl(ctx):
    env = analysistest.begin(ctx)
    action = one_action(env, "PortableBundle")
    if action:
        argv = action.argv
        asserts.true(env, "--enforce-checksums" in argv, "enforce_checksums = True")
        asserts.equals(env, "libGL.so.1", _flag(argv, "--host-lib"), "host_lib_names")
        asserts.equals(env, "never", _flag(argv, "--host-libs"))
        asserts.equals(env, "C.UTF-8", _flag(argv, "--locale"), "locales")
    return analysistest.end(env)

closed_bundle_test = analysistest.make(_closed_bundle_impl)

# sysroot_binary: interpreter and RPATH at the installed path, and the glibc gate.
def _sysroot_binary_impl(ctx):
    env = analysistest.begin(ctx)
    patch = one_action(env, "PortablePatch")
    if patch:
        argv = patch.argv
        asserts.equals(env, "/usr/sysroot/v2/lib64/ld-linux-x86-64.so.2", _flag(argv, "--set-interpreter"))
        asserts.equals(env, "/usr/sysroot/v2/lib/x86_64-linux-gnu:/usr/sysroot/v2/usr/lib/x86_64-linux-gnu", _flag(argv, "--set-rpath"))
        asserts.equals(env, "4096", _flag(argv, "--interp-slot"))
        asserts.true(env, "--keep-origin" in argv, "the build's own shared libraries stay reachable through $ORIGIN")
    check = one_action(env, "PortableGlibcCheck")
    if check:
        asserts.true(env, _flag(check.argv, "--sysroot").endswith("sysroots/v2"), "the gate reads the sysroot tree")
    if check and patch:
        stamp = check.outputs.to_list()[0]
        asserts.true(env, stamp in patch.inputs.to_list(), "the patch waits for the glibc check, so a refused binary leaves no output")
    return analysistest.end(env)

sysroot_binary_test = analysistest.make(_sysroot_binary_impl)

# sysroot_test: the wrapped test's environment plus env, and a directory bundle.
def _sysroot_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    asserts.equals(env, {
        "PORTABLE_SYSROOT_GLIBC": "2.43",
        "PORTABLE_SYSROOT_VERSION": "v3",
        "WANT_GLIBC": "2.43",
    }, target[RunEnvironmentInfo].environment)
    bundle = one_action(env, "PortableBundle")
    if bundle:
        asserts.true(env, _flag(bundle.argv, "--sysroot").endswith("sysroots/v3"))
        asserts.true(env, _flag(bundle.argv, "-o").endswith(".bundle"))
    return analysistest.end(env)

sysroot_test_test = analysistest.make(_sysroot_test_impl)

# A sysroot of another architecture: its layout comes from the lock's arch.
def _arm64_impl(ctx):
    env = analysistest.begin(ctx)
    patch = one_action(env, "PortablePatch")
    if patch:
        asserts.equals(env, "/usr/sysroot/v7/lib/ld-linux-aarch64.so.1", _flag(patch.argv, "--set-interpreter"))
        asserts.equals(env, "/usr/sysroot/v7/lib/aarch64-linux-gnu:/usr/sysroot/v7/usr/lib/aarch64-linux-gnu", _flag(patch.argv, "--set-rpath"))
    check = one_action(env, "PortableGlibcCheck")
    if check and patch:
        asserts.true(env, check.outputs.to_list()[0] in patch.inputs.to_list(), "the glibc gate still runs first")
    return analysistest.end(env)

arm64_sysroot_binary_test = analysistest.make(_arm64_impl)

def _arm64_sysroot_impl(ctx):
    env = analysistest.begin(ctx)
    info = analysistest.target_under_test(env)[SysrootInfo]
    asserts.equals(env, "arm64", info.arch)
    asserts.equals(env, "lib/ld-linux-aarch64.so.1", info.loader_path)
    asserts.equals(env, ["lib/aarch64-linux-gnu", "usr/lib/aarch64-linux-gnu"], info.library_dirs)
    return analysistest.end(env)

arm64_sysroot_test = analysistest.make(_arm64_sysroot_impl)

# A bundle for an arm64 sysroot, built for an x86_64 target: the launcher
# Bazel built is x86_64, so the helper must use its own aarch64 copy.
def _arm64_bundle_impl(ctx):
    env = analysistest.begin(ctx)
    action = one_action(env, "PortableBundle")
    if action:
        asserts.equals(env, None, _flag(action.argv, "--launcher"), "an x86_64 launcher must not go into an arm64 bundle")
        asserts.false(env, [f for f in action.inputs.to_list() if f.basename == "launcher"], "the x86_64 launcher is no input")
        asserts.true(env, _flag(action.argv, "--sysroot").endswith("arm64_v7"))
    return analysistest.end(env)

arm64_bundle_test = analysistest.make(_arm64_bundle_impl)

def rules_test_suite(name):
    """Declares the targets under test and the tests.

    Args:
      name: name of the test_suite.
    """
    cc_binary(name = "hello", srcs = ["hello.c"], tags = ["manual"])
    cc_test(name = "hello_test", srcs = ["hello.c"], tags = ["manual"])

    sysroot_fields_test(name = "sysroot_fields_test", target_under_test = "//sysroots:v2")

    portable_binary(name = "bundle_zst", binary = ":hello", compression = "zstd", sysroot = "//sysroots:v2", tags = ["manual"])
    portable_binary_test(name = "portable_binary_test", target_under_test = ":bundle_zst")

    portable_binary(name = "bundle_closed", binary = ":hello", enforce_checksums = True, host_lib_names = ["libGL.so.1"], locales = ["C.UTF-8"], sysroot = "//sysroots:v2", tags = ["manual"])
    closed_bundle_test(name = "closed_bundle_test", target_under_test = ":bundle_closed")

    sysroot_binary(name = "hello_v2", binary = ":hello", sysroot = "//sysroots:v2", tags = ["manual"])
    sysroot_binary_test(name = "sysroot_binary_test", target_under_test = ":hello_v2")

    sysroot_test(name = "hello_test_v3", env = {"WANT_GLIBC": "2.43"}, sysroot = "//sysroots:v3", test = ":hello_test", tags = ["manual"])
    sysroot_test_test(name = "sysroot_test_test", target_under_test = ":hello_test_v3")

    sysroot(name = "bad_version", packages = "@glibc_2_41//:packages", version = "2", tags = ["manual"])
    failure_test(name = "bad_version_test", target_under_test = ":bad_version", message = "is not a version label like \"v2\"")

    sysroot(name = "dev_without_dev_packages", dev = True, packages = "@test_glibc_2_41_runtime", version = "v2", tags = ["manual"])
    failure_test(name = "dev_without_dev_packages_test", target_under_test = ":dev_without_dev_packages", message = "pins no dev packages; lock it with `portable sysroot lock --dev`")

    debian_packages(name = "arm64_packages", arch = "arm64", glibc_version = "2.41", lock = "v2-runtime.lock.json", tags = ["manual"])
    sysroot(name = "arm64_v7", packages = ":arm64_packages", version = "v7", tags = ["manual"])
    arm64_sysroot_test(name = "arm64_sysroot_test", target_under_test = ":arm64_v7")
    sysroot_binary(name = "hello_arm64_v7", binary = ":hello", compile_against_sysroot = False, sysroot = ":arm64_v7", tags = ["manual"])
    arm64_sysroot_binary_test(name = "arm64_sysroot_binary_test", target_under_test = ":hello_arm64_v7")
    portable_binary(name = "bundle_arm64_v7", binary = ":hello", compile_against_sysroot = False, sysroot = ":arm64_v7", tags = ["manual"])
    arm64_bundle_test(name = "arm64_bundle_test", target_under_test = ":bundle_arm64_v7")

    debian_packages(name = "sparc_packages", arch = "sparc64", glibc_version = "2.41", lock = "v2-runtime.lock.json", tags = ["manual"])
    sysroot(name = "sparc_v2", packages = ":sparc_packages", version = "v2", tags = ["manual"])
    failure_test(name = "unknown_arch_test", target_under_test = ":sparc_v2", message = "architecture \"sparc64\" is not one rules_portable knows (amd64, arm64, armel, armhf, i386, loong64, ppc64el, riscv64, s390x)")

    tests = [
        ":arm64_sysroot_test",
        ":arm64_sysroot_binary_test",
        ":arm64_bundle_test",
        ":unknown_arch_test",
        ":dev_without_dev_packages_test",
        ":sysroot_fields_test",
        ":portable_binary_test",
        ":closed_bundle_test",
        ":sysroot_binary_test",
        ":sysroot_test_test",
        ":bad_version_test",
    ]
    native.test_suite(name = name, tests = tests)

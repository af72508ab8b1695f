"""portable_cc_toolchain: a C/C++ toolchain that compiles and links against a dev sysroot."""

load("@rules_cc//cc:action_names.bzl", "ACTION_NAMES")
load(
    "@rules_cc//cc:cc_toolchain_config_lib.bzl",
    "action_config",
    "env_entry",
    "env_set",
    "feature",
    "flag_group",
    "flag_set",
    "tool",
    "with_feature_set",
)
load("@rules_cc//cc:defs.bzl", "cc_toolchain")
load("@rules_cc//cc/common:cc_common.bzl", "cc_common")
load("@rules_cc//cc/toolchains:cc_toolchain_config_info.bzl", "CcToolchainConfigInfo")
load(":arch.bzl", "arch_layout")
load(":compiler.bzl", "PortableCompilerInfo")
load(":go_settings.bzl", "go_neutral_transition")
load(":providers.bzl", "SysrootInfo")
load(":slot.bzl", "padded_interpreter")

_C_COMPILE = [
    ACTION_NAMES.c_compile,
    ACTION_NAMES.assemble,
    ACTION_NAMES.preprocess_assemble,
]

_CXX_COMPILE = [
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.linkstamp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
    ACTION_NAMES.cpp_module_codegen,
    ACTION_NAMES.lto_backend,
]

_LINK_SHARED = [
    ACTION_NAMES.cpp_link_dynamic_library,
    ACTION_NAMES.cpp_link_nodeps_dynamic_library,
]

_LINK = [ACTION_NAMES.cpp_link_executable] + _LINK_SHARED

_ARCHIVE = [ACTION_NAMES.cpp_link_static_library]

def _flags(actions, flags, features = None):
    return flag_set(
        actions = actions,
        flag_groups = [flag_group(flags = flags)],
        with_features = [with_feature_set(features = features)] if features else [],
    )

def _portable_cc_toolchain_config_impl(ctx):
    sysroot = ctx.attr.sysroot[SysrootInfo]
    compiler = ctx.attr.compiler[PortableCompilerInfo]
    if compiler.error:
        fail("%s: %s" % (ctx.attr.compiler.label, compiler.error))
    if not sysroot.dev:
        fail("%s is not a dev sysroot: a toolchain compiles against headers, crt objects and linker scripts; use a sysroot with dev = True" % ctx.attr.sysroot.label, attr = "sysroot")
    layout = arch_layout(sysroot.arch, str(ctx.attr.sysroot.label))
    triplet = layout.triplet
    if compiler.target != triplet:
        fail("%s builds for %s but sysroot %s is %s (%s): give the toolchain a gcc for that target, e.g. compiler.host_gcc(gcc = \"%s-gcc\")" % (
            compiler.gcc,
            compiler.target,
            ctx.attr.sysroot.label,
            sysroot.arch,
            triplet,
            triplet,
        ), attr = "compiler")
    root = sysroot.tree.path
    gcc = sysroot.gcc_version
    desc = "%s (glibc %s, Debian %s)" % (sysroot.version, sysroot.glibc_version, sysroot.suite)

    # Headers: the sysroot's, in gcc's usual order after its own builtin
    # directory, named by execroot-relative paths (gcc would make a relative
    # --sysroot absolute, and every path a sandbox's). C++ first searches the
    # sysroot's libstdc++ headers, not the compiler's, so the GLIBCXX_
    # versions a program needs are capped by the sysroot's libstdc++.so.6.
    # -nostdinc also drops the implicit stdc-predef.h: include it again.
    # A bundled gcc runs the cc1, as and ld of its bundle (-B), each on its
    # own glibc, so the machine that runs the action needs none of them.
    bundled = ["-B" + compiler.bin_dir + "/"] if compiler.bin_dir else []

    # __FILE__ and debug info name a header as it is installed
    # (/usr/include/c++/16/bits/fs_path.h: libstdc++ 15 and later keep it in
    # programs built without -O, for its assertions), not by its directory
    # in bazel-out, which names the configuration the sysroot was built in.
    file_maps = ["-ffile-prefix-map=%s=" % root]
    if compiler.bin_dir:
        file_maps.append("-ffile-prefix-map=%s=/usr" % compiler.bin_dir.removesuffix("/bin"))
    c_includes = ["-nostdinc"]
    for d in compiler.builtin_include_directories:
        c_includes += ["-isystem", d]
    for d in ["usr/include/" + triplet, "usr/include"]:
        c_includes += ["-isystem", root + "/" + d]
    cxx_includes = ["-nostdinc++"]
    if gcc:
        for d in ["usr/include/c++/%s", "usr/include/%s/c++/%%s" % triplet, "usr/include/c++/%s/backward"]:
            cxx_includes += ["-isystem", root + "/" + (d % gcc)]

    # The linker: crt1.o, crti.o, crtbegin.o and libgcc come from the
    # sysroot (-B), and -L= (sysroot-relative) puts the sysroot's library
    # directories ahead of the compiler's own, which on Debian include the
    # build machine's /usr/lib/<triplet>.
    link_flags = list(bundled)
    if gcc:
        link_flags.append("-B%s/usr/lib/gcc/%s/%s/" % (root, triplet, gcc))
    link_flags.append("-B%s/usr/lib/%s/" % (root, triplet))
    if gcc:
        link_flags.append("-L=/usr/lib/gcc/%s/%s" % (triplet, gcc))
    link_flags += [
        "-L=/usr/lib/" + triplet,
        "-L=/lib/" + triplet,
        "-no-canonical-prefixes",
        "-Wl,-z,relro,-z,now",
        "-pass-exit-codes",
    ]

    features = [
        feature(name = "supports_pic", enabled = True),
        feature(name = "supports_dynamic_linker", enabled = True),
        feature(name = "dbg"),
        feature(name = "opt"),
        feature(name = "fastbuild"),
        feature(
            name = "portable_compile_flags",
            enabled = True,
            flag_sets = [
                # C++'s own headers come before the C library's.
                _flags(_CXX_COMPILE, cxx_includes),
                _flags(_C_COMPILE + _CXX_COMPILE, bundled + c_includes + file_maps),
                _flags([ACTION_NAMES.c_compile] + _CXX_COMPILE, ["-include", "stdc-predef.h"]),
                _flags(_C_COMPILE + _CXX_COMPILE, [
                    "-U_FORTIFY_SOURCE",
                    "-fstack-protector",
                    "-Wall",
                    "-fno-omit-frame-pointer",
                    # Paths stay as given (execroot-relative), so .d files
                    # and Bazel's header check see the sysroot's headers.
                    "-no-canonical-prefixes",
                    "-fno-canonical-system-headers",
                    # Reproducible outputs.
                    "-Wno-builtin-macro-redefined",
                    "-D__DATE__=\"redacted\"",
                    "-D__TIMESTAMP__=\"redacted\"",
                    "-D__TIME__=\"redacted\"",
                ]),
                _flags(_C_COMPILE + _CXX_COMPILE, ["-g"], ["dbg"]),
                _flags(_C_COMPILE + _CXX_COMPILE, [
                    "-g0",
                    "-O2",
                    "-D_FORTIFY_SOURCE=1",
                    "-DNDEBUG",
                    "-ffunction-sections",
                    "-fdata-sections",
                ], ["opt"]),
            ],
        ),
        feature(
            name = "portable_link_flags",
            enabled = True,
            flag_sets = [
                _flags(_LINK, link_flags),
                # The standard loader, in a PATH_MAX slot: the program runs
                # on any host with glibc >= the sysroot's, and re-pointing
                # it at /usr/sysroot/<version> (sysroot_binary) or a bundle
                # never has to grow it.
                _flags([ACTION_NAMES.cpp_link_executable], [
                    "-Wl,--dynamic-linker=" + padded_interpreter("/", layout.loader_path),
                ]),
                _flags(_LINK, ["-Wl,--gc-sections"], ["opt"]),
            ],
        ),
        feature(
            name = "portable_env",
            enabled = True,
            env_sets = [env_set(
                actions = _C_COMPILE + _CXX_COMPILE + _LINK,
                env_entries = [
                    env_entry(key = "PORTABLE_CC", value = compiler.gcc),
                    # In the action key: another gcc is another action.
                    env_entry(key = "PORTABLE_CC_VERSION", value = compiler.version),
                    env_entry(key = "PORTABLE_SYSROOT", value = desc),
                    # The flags that find the compiler's programs and the
                    # sysroot's crt objects and libraries, for a caller that
                    # drops them (see cc_driver.sh).
                    env_entry(key = "PORTABLE_CC_SEARCH", value = " ".join([f for f in link_flags if f.startswith("-B") or f.startswith("-L")])),
                ],
            ), env_set(
                actions = _ARCHIVE,
                env_entries = [env_entry(key = "PORTABLE_AR", value = compiler.ar)],
            )],
        ),
        # After the libraries: C++ and libm for the targets that need them.
        feature(
            name = "portable_link_libs",
            enabled = True,
            flag_sets = [_flags(_LINK, [
                "-Wl,--push-state,-as-needed",
                "-lstdc++",
                "-lm",
                "-Wl,--pop-state",
            ])],
        ),
    ]

    driver = ctx.file._driver
    action_configs = [
        action_config(
            action_name = a,
            enabled = True,
            tools = [tool(tool = driver)],
        )
        for a in _C_COMPILE + _CXX_COMPILE + _LINK
    ] + [
        action_config(
            action_name = a,
            enabled = True,
            tools = [tool(tool = ctx.file._ar_driver)],
        )
        for a in _ARCHIVE
    ]

    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        toolchain_identifier = "portable_%s_%s" % (sysroot.version, sysroot.arch),
        host_system_name = "local",
        target_system_name = triplet,
        target_cpu = "k8" if layout.cpu == "x86_64" else layout.cpu,
        target_libc = "glibc_" + sysroot.glibc_version,
        compiler = "gcc",
        abi_version = "gcc",
        abi_libc_version = "glibc_" + sysroot.glibc_version,
        builtin_sysroot = root,
        # The compiler's own headers (stddef.h, stdarg.h, intrinsics). Any
        # other absolute path in a compile's dependencies, such as the build
        # machine's /usr/include, fails Bazel's inclusion check.
        cxx_builtin_include_directories = [d for d in compiler.builtin_include_directories if d.startswith("/")],
        features = features,
        action_configs = action_configs,
    )

portable_cc_toolchain_config = rule(
    implementation = _portable_cc_toolchain_config_impl,
    doc = "The CcToolchainConfigInfo of a `portable_cc_toolchain`; use that macro.",
    attrs = {
        "sysroot": attr.label(
            doc = "The dev sysroot to compile and link against.",
            mandatory = True,
            providers = [SysrootInfo],
            # The same configuration as cc_toolchain's file attributes, so
            # the --sysroot path is the path of the files the actions get.
            cfg = "exec",
        ),
        "compiler": attr.label(
            doc = "The gcc to run.",
            mandatory = True,
            providers = [PortableCompilerInfo],
            cfg = "exec",
        ),
        "_driver": attr.label(
            default = "//rules/private:cc_driver.sh",
            allow_single_file = True,
        ),
        "_ar_driver": attr.label(
            default = "//rules/private:ar_driver.sh",
            allow_single_file = True,
        ),
    },
    provides = [CcToolchainConfigInfo],
)

def _go_neutral_impl(ctx):
    actual = ctx.attr.actual[0]
    providers = [DefaultInfo(files = actual[DefaultInfo].files, runfiles = actual[DefaultInfo].default_runfiles)]
    for p in [PortableCompilerInfo, SysrootInfo, OutputGroupInfo]:
        if p in actual:
            providers.append(actual[p])
    return providers

# The compiler and the dev sysroot of a toolchain, reached from any
# configuration, in one (see go_settings.bzl): a Go target's variant of the
# exec configuration does not build them again.
_go_neutral = rule(
    implementation = _go_neutral_impl,
    doc = "Forwards `actual` (a compiler or a sysroot) built with rules_go's settings fixed.",
    attrs = {
        "actual": attr.label(
            doc = "The compiler or sysroot.",
            mandatory = True,
            cfg = go_neutral_transition,
        ),
    },
)

def portable_cc_toolchain(
        name,
        sysroot,
        target_compatible_with,
        exec_compatible_with = ["@platforms//os:linux", "@platforms//cpu:x86_64"],
        compiler = Label("//sysroots:compiler"),
        visibility = None,
        **kwargs):
    """A C and C++ toolchain that compiles and links against a dev sysroot.

    It runs a gcc (`compiler`: by default gcc 16 bundled from pinned
    packages, `//sysroots:compiler`) against the dev flavour of a sysroot
    (its include directories in place of the standard ones, and
    `--sysroot` for the linker), so programs see that sysroot's glibc,
    kernel and libstdc++ headers and link against its crt objects,
    `libc.so` linker script, libgcc and libstdc++. The highest `GLIBC_` and `GLIBCXX_`
    version a program needs is then at most the sysroot's. Executables name
    the standard loader (e.g. `/lib64/ld-linux-x86-64.so.2`) in a PATH_MAX
    slot, so they run on any host whose glibc is at least the sysroot's and
    can be re-pointed at `/usr/sysroot/<version>` or a bundle in place.

    From the compiler come only its own programs (cc1, cc1plus, as, ld),
    its builtin headers (`stddef.h`, `stdarg.h`, the intrinsics, in the
    directories `gcc -print-file-name=include` names) and, with gcc 16, the
    `libgcc_s_asneeded.so`/`libatomic_asneeded.so` linker scripts that name
    `-lgcc_s`/`-latomic`, which resolve in the sysroot. Any other header of
    the build machine fails Bazel's inclusion check. crt1.o, crti.o,
    crtbegin.o, libgcc.a, libgcc_eh.a, libgcc_s and libstdc++ are the
    sysroot's (its Debian release's GCC runtime), so they match its glibc.

    The toolchain is selected by `target_compatible_with`: give it a
    constraint value of `@rules_portable//platforms:glibc` (or your own
    setting) and build for a platform that has it. rules_portable registers
    one for each of its sysroots (`@rules_portable//sysroots:cc_v1` ...).

    Example:

    ```starlark
    sysroot(name = "mine_dev", packages = "@my_glibc_2_41", version = "v7", dev = True)

    portable_cc_toolchain(
        name = "cc_mine",
        sysroot = ":mine_dev",
        target_compatible_with = [
            "@platforms//os:linux",
            "@platforms//cpu:x86_64",
            "@rules_portable//platforms:glibc_2_41",
        ],
    )
    # MODULE.bazel: register_toolchains("//path/to:cc_mine")
    ```

    Args:
      name: the `toolchain` target to register; `<name>_cc` is its
        `cc_toolchain` and `<name>_config` its configuration.
      sysroot: a `sysroot` with `dev = True`. A lock made with
        `portable sysroot lock --dev --dev-package libstdc++-N-dev` gives
        it C++ too.
      target_compatible_with: the constraints of the platforms this
        toolchain builds for, including a glibc constraint value.
      exec_compatible_with: where the compiler runs. Default: x86_64 Linux.
      compiler: a `portable_gcc` or `portable_compiler` target: the gcc to
        run, its version (part of every action's key) and builtin include
        directories. Default: `//sysroots:compiler`, a label flag whose
        default is gcc 16 bundled from pinned packages (`//sysroots:gcc_16`);
        the build machine's gcc is `@rules_portable_host_gcc//:gcc`, probed
        by the `compiler.host_gcc` extension (make another with it, e.g. a
        cross gcc, and pass it here).
      visibility: of the `toolchain` target.
      **kwargs: passed to every target (e.g. `tags`).
    """
    _go_neutral(
        name = name + "_compiler",
        actual = compiler,
        visibility = ["//visibility:private"],
        **kwargs
    )
    _go_neutral(
        name = name + "_sysroot",
        actual = sysroot,
        visibility = ["//visibility:private"],
        **kwargs
    )
    compiler = ":" + name + "_compiler"
    sysroot = ":" + name + "_sysroot"
    portable_cc_toolchain_config(
        name = name + "_config",
        sysroot = sysroot,
        compiler = compiler,
        visibility = ["//visibility:private"],
        **kwargs
    )
    native.filegroup(
        name = name + "_sysroot_tree",
        srcs = [sysroot],
        output_group = "tree",
        visibility = ["//visibility:private"],
        **kwargs
    )
    native.filegroup(
        name = name + "_files",
        srcs = [
            name + "_sysroot_tree",
            compiler,
            Label("//rules/private:cc_driver.sh"),
            Label("//rules/private:ar_driver.sh"),
        ],
        visibility = ["//visibility:private"],
        **kwargs
    )
    files = ":" + name + "_files"
    cc_toolchain(
        name = name + "_cc",
        all_files = files,
        ar_files = files,
        as_files = files,
        compiler_files = files,
        dwp_files = files,
        linker_files = files,
        objcopy_files = files,
        strip_files = files,
        supports_param_files = True,
        toolchain_config = ":" + name + "_config",
        visibility = ["//visibility:private"],
        **kwargs
    )
    native.toolchain(
        name = name,
        toolchain = ":" + name + "_cc",
        toolchain_type = "@bazel_tools//tools/cpp:toolchain_type",
        target_compatible_with = target_compatible_with,
        exec_compatible_with = exec_compatible_with,
        # Not for the helper itself, which makes the sysroot and compiler
        # this toolchain runs (see helper_binary).
        target_settings = [Label("//rules/private:not_building_helper")],
        visibility = visibility,
        **kwargs
    )

"""portable_python: a Python interpreter bundled from pinned Debian packages."""

load("@bazel_tools//tools/python:toolchain.bzl", "py_runtime_pair")
load("//rules/private/actions:sysroot.bzl", "emit_sysroot_build")
load(":providers.bzl", "DebianPackagesInfo")
load(":toolchain.bzl", "HELPER_TOOLCHAIN_TYPE")

# Runs the bundle's interpreter, which sits beside this script in the same
# package (in runfiles and in bazel-bin alike).
_INTERPRETER = """#!/bin/sh
# Python {version} from {packages}, bundled with its own glibc: runs on any
# Linux of its architecture, whatever the machine has.
exec "${{0%/*}}/{bundle}/bin/python{version}" "$@"
"""

def _portable_python_impl(ctx):
    packages = ctx.attr.packages[DebianPackagesInfo]
    version = packages.python_version
    if not version:
        fail("%s pins no Python (a package python3.X-minimal): lock one with `portable sysroot lock --suite bookworm -p python3.11-minimal -p libpython3.11-stdlib --exclude dpkg --exclude tar`" % ctx.attr.packages.label, attr = "packages")
    tool = ctx.toolchains[HELPER_TOOLCHAIN_TYPE].portable

    # The locked packages unpacked, as a sysroot would be ...
    root = ctx.actions.declare_directory(ctx.label.name + ".root")
    emit_sysroot_build(
        ctx,
        tool = tool,
        packages = packages,
        version = "python" + version,
        dev = False,
        tree = root,
        progress_message = "Unpacking Python %s's packages %%{label}" % version,
    )

    # ... and the interpreter bundled from it, with its standard library
    # (lib/pythonX.Y, where Python finds it from the interpreter's path) and
    # the closure of every extension module in it.
    bundle = ctx.actions.declare_directory(ctx.label.name + ".bundle")
    args = ctx.actions.args()
    args.add("bundle")
    args.add("--sysroot", root.path)
    args.add("--add", "%s/usr/lib/python%s=lib/python%s" % (root.path, version, version))
    args.add("-o", bundle.path)
    args.add("%s/usr/bin/python%s" % (root.path, version))
    ctx.actions.run(
        executable = tool.files_to_run,
        toolchain = HELPER_TOOLCHAIN_TYPE,
        arguments = [args],
        inputs = [root],
        outputs = [bundle],
        mnemonic = "PortableBundle",
        progress_message = "Bundling Python %s %%{label}" % version,
        env = {"SOURCE_DATE_EPOCH": "0"},
    )

    interpreter = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.write(interpreter, _INTERPRETER.format(
        version = version,
        packages = ctx.attr.packages.label,
        bundle = bundle.basename,
    ), is_executable = True)
    return [
        DefaultInfo(
            files = depset([interpreter]),
            executable = interpreter,
            runfiles = ctx.runfiles([interpreter, bundle]),
        ),
        OutputGroupInfo(bundle = depset([bundle])),
    ]

portable_python = rule(
    implementation = _portable_python_impl,
    doc = """A Python interpreter from pinned Debian packages, bundled to run on any Linux of its architecture.

The locked packages are unpacked and the interpreter bundled with its
standard library and its own glibc, so it needs nothing of the machine it
runs on: a remote worker without Python runs it. The target is a script
that runs the bundle (`bazel run //sysroots:python_3_11 -- -c 'print(1)'`);
the output group `bundle` is the bundle's directory.

`portable_py_toolchain` makes a Python toolchain of it, so that py_binary
tools (rules_pkg's `pkg_tar`, say) run on it instead of a `python3` on the
worker's PATH.

Example (MODULE.bazel, then a BUILD file):

```starlark
sysroot = use_extension("@rules_portable//rules:extensions.bzl", "sysroot")
sysroot.debian(name = "my_python", lock = "//:python311.lock.json")
use_repo(sysroot, "my_python")
```

```starlark
portable_python(name = "python", packages = "@my_python")
```

Make the lock with `portable sysroot lock --suite bookworm -p
python3.11-minimal -p libpython3.11-stdlib --exclude dpkg --exclude tar`.""",
    attrs = {
        "packages": attr.label(
            doc = "The pinned Python packages: a repository made by the `sysroot.debian` extension from a lock with a `python3.X-minimal` package. Example: `\"@rules_portable_python_3_11\"`.",
            mandatory = True,
            providers = [DebianPackagesInfo],
        ),
    },
    executable = True,
    toolchains = [HELPER_TOOLCHAIN_TYPE],
)

# The stub that starts a py_binary is Bazel's own bootstrap (Python), made
# runnable by /bin/sh too: its first statement, a docstring to Python, is a
# shell script that finds the bundled interpreter in the runfiles and runs
# the stub on it. So nothing starts it but the kernel and /bin/sh.
_PRELUDE = """%shebang%
''''true
# rules_portable: run this stub on the bundled Python (portable_py_toolchain).
if [ -d "$0.runfiles" ]; then r=$0.runfiles
else
  case $0 in
  *.runfiles/*) r=${0%%.runfiles/*}.runfiles ;;
  *) r=${RUNFILES_DIR:?"cannot find the runfiles of $0: set RUNFILES_DIR"} ;;
  esac
fi
exec "$r/%python_binary%" "$0" "$@"
'''
"""

def _bootstrap_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    prelude = ctx.actions.declare_file(ctx.label.name + ".prelude")
    ctx.actions.write(prelude, _PRELUDE)

    # Bazel's template without its first line (%shebang%, in the prelude).
    ctx.actions.run_shell(
        command = 'cat "$1" >"$3" && tail -n +2 "$2" >>"$3"',
        arguments = [prelude.path, ctx.file.template.path, out.path],
        inputs = [prelude, ctx.file.template],
        outputs = [out],
        mnemonic = "PortablePyBootstrap",
        progress_message = "Writing the py_binary stub template %{label}",
    )
    return [DefaultInfo(files = depset([out]))]

py_bootstrap_template = rule(
    implementation = _bootstrap_impl,
    doc = "Bazel's py_binary stub template, started by /bin/sh on the runtime's interpreter from runfiles. Used by `portable_py_toolchain`.",
    attrs = {
        "template": attr.label(
            doc = "Bazel's bootstrap template.",
            default = "@bazel_tools//tools/python:python_bootstrap_template.txt",
            allow_single_file = True,
        ),
    },
)

def portable_py_toolchain(name, python, target_settings = [Label("//sysroots:bundled_python_on")], visibility = None, **kwargs):
    """A Python toolchain whose interpreter is a `portable_python` bundle.

    py_binary programs, the tools among them (rules_pkg's `build_tar`),
    then start on the bundled interpreter: their stub is begun by /bin/sh
    and finds the interpreter in its runfiles, so a machine or remote
    worker needs no Python of its own.

    The toolchain applies where `--@rules_portable//sysroots:bundled_python`
    is set (the default `target_settings`), so registering it changes
    nothing until a build asks for it; pass `target_settings = []` to use
    it always. rules_portable registers `@rules_portable//sysroots:python_toolchain`
    (Python 3.11 of Debian 12), so the flag alone is enough:

    ```
    build:remote --@rules_portable//sysroots:bundled_python
    ```

    Example (your own interpreter):

    ```starlark
    portable_python(name = "python", packages = "@my_python")
    portable_py_toolchain(name = "python_toolchain", python = ":python")
    # MODULE.bazel: register_toolchains("//path/to:python_toolchain")
    ```

    Args:
      name: the `toolchain` target.
      python: a `portable_python` target.
      target_settings: config_settings that must match for the toolchain
        to apply.
      visibility: of the `toolchain` target.
      **kwargs: passed to every target (e.g. `tags`).
    """
    native.filegroup(
        name = name + "_bundle",
        srcs = [python],
        output_group = "bundle",
        visibility = ["//visibility:private"],
        **kwargs
    )
    py_bootstrap_template(
        name = name + "_bootstrap",
        visibility = ["//visibility:private"],
        **kwargs
    )

    # buildifier: disable=native-python
    native.py_runtime(
        name = name + "_runtime",
        interpreter = python,
        files = [name + "_bundle"],
        python_version = "PY3",
        stub_shebang = "#!/bin/sh",
        bootstrap_template = name + "_bootstrap",
        visibility = ["//visibility:private"],
        **kwargs
    )
    py_runtime_pair(
        name = name + "_pair",
        py3_runtime = name + "_runtime",
        visibility = ["//visibility:private"],
        **kwargs
    )
    native.toolchain(
        name = name,
        toolchain = name + "_pair",
        toolchain_type = "@bazel_tools//tools/python:toolchain_type",
        target_settings = target_settings,
        visibility = visibility,
        **kwargs
    )

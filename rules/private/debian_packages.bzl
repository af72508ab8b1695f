"""debian_packages: the target inside each `sysroot.debian` repository."""

load(":providers.bzl", "DebianPackagesInfo")

def _debian_packages_impl(ctx):
    lock = ctx.file.lock
    return [
        DefaultInfo(files = depset([lock] + ctx.files.debs)),
        DebianPackagesInfo(
            lock = lock,
            debs = ctx.files.debs,
            cache_dir = lock.dirname,
            glibc_version = ctx.attr.glibc_version,
            suite = ctx.attr.suite,
            arch = ctx.attr.arch,
            dev_available = ctx.attr.dev_available,
            gcc_version = ctx.attr.gcc_version,
            compiler_version = ctx.attr.compiler_version,
            python_version = ctx.attr.python_version,
        ),
    ]

debian_packages = rule(
    implementation = _debian_packages_impl,
    doc = "Groups the lockfile and the fetched .deb files of one `sysroot.debian` repository. Generated; not for direct use.",
    attrs = {
        "lock": attr.label(doc = "The lockfile.", allow_single_file = True, mandatory = True),
        "debs": attr.label_list(doc = "The .deb files, named `sha256/<hex>`.", allow_files = True),
        "glibc_version": attr.string(doc = "glibc version of the locked libc6.", mandatory = True),
        "suite": attr.string(doc = "Debian suite of the lock."),
        "arch": attr.string(doc = "Debian architecture of the lock.", default = "amd64"),
        "dev_available": attr.bool(doc = "Whether the lock pins the dev flavour too."),
        "gcc_version": attr.string(doc = "Major version of the dev flavour's libstdc++-N-dev, or empty."),
        "compiler_version": attr.string(doc = "Version of the gcc a compiler lock pins (package gcc-N), or empty."),
        "python_version": attr.string(doc = "Version of the Python a lock pins (package python3.X-minimal), or empty."),
    },
    provides = [DebianPackagesInfo],
)

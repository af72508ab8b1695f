"""Module extensions of rules_portable.

```starlark
sysroot = use_extension("@rules_portable//rules:extensions.bzl", "sysroot")
sysroot.debian(name = "glibc_2_41", lock = "//sysroots:v2.lock.json")
use_repo(sysroot, "glibc_2_41")
```

Then `sysroot(name = "v2", packages = "@glibc_2_41", version = "v2")` in a
BUILD file builds the sysroot from those packages. Each repository also has
the target `:packages` (`@glibc_2_41//:packages`), which keeps working when
`use_repo` gives the repository another name.

The `compiler` extension probes a gcc of the build machine for
`portable_cc_toolchain(compiler = ...)`; rules_portable's own toolchains use
`@rules_portable_host_gcc//:gcc`, made by it:

```starlark
compiler = use_extension("@rules_portable//rules:extensions.bzl", "compiler")
compiler.host_gcc(name = "cross_gcc", gcc = "aarch64-linux-gnu-gcc")
use_repo(compiler, "cross_gcc")
```

All modules that use an extension share one namespace of repository names,
so a module published for others should prefix its names; rules_portable's
own are `rules_portable_glibc_2_36` and so on, and any other name is free.
"""

load("//rules/private:compiler.bzl", "host_gcc_repository")
load("//rules/private:debian_repository.bzl", "debian_packages_repository")

_debian = tag_class(
    doc = "A repository holding the .deb files that a sysroot lockfile pins.",
    attrs = {
        "name": attr.string(
            doc = "Repository name, e.g. `glibc_2_41`. Its default target feeds `sysroot(packages = ...)`.",
            mandatory = True,
        ),
        "lock": attr.label(
            doc = "Lockfile written by `portable sysroot lock`, e.g. `//sysroots:v2.lock.json`.",
            mandatory = True,
        ),
        "mirror": attr.string(
            doc = "Debian mirror URL. `{snapshot}` in it becomes a time a few hours after the lock's newest index date, for a snapshot archive of Debian, which keeps every pool file a lock names. Default: this machine's apt mirror (`/etc/apt/sources.list.d/debian.sources`, else `/etc/apt/sources.list`). The repo env `PORTABLE_DEBIAN_MIRROR` overrides it; so does `--downloader_config` URL rewriting. With no mirror at all, or `PORTABLE_DEBIAN_MIRROR=offline`, the .debs come only from the repository cache or `--distdir` (files named as in the pool). Example: `mirror = \"https://deb.example.org/debian\"`.",
        ),
    },
)

def _unique_tags(mctx, tag_class, what, key):
    """The tags of one class across all modules, once per name.

    The same name declared again with the same key is the same repository
    (two modules may both want it); with another key it is an error.
    """
    seen = {}
    tags = []
    for mod in mctx.modules:
        for tag in getattr(mod.tags, tag_class):
            k = key(tag)
            if tag.name in seen:
                if seen[tag.name] != k:
                    fail("%s: repository %r is declared twice, with %s and %s; give one of them another name" % (what, tag.name, seen[tag.name], k))
                continue
            seen[tag.name] = k
            tags.append(tag)
    return tags

def _sysroot_impl(mctx):
    for tag in _unique_tags(mctx, "debian", "sysroot.debian", lambda t: "lock " + str(t.lock)):
        debian_packages_repository(
            name = tag.name,
            original_name = tag.name,
            lock = tag.lock,
            mirror = tag.mirror,
        )
    return mctx.extension_metadata(reproducible = True)

sysroot = module_extension(
    implementation = _sysroot_impl,
    doc = "Creates repositories of pinned Debian packages for sysroots.",
    tag_classes = {"debian": _debian},
)

_host_gcc = tag_class(
    doc = "A repository whose target `:gcc` describes a gcc of the build machine: its path, version, target triplet and builtin include directories, probed when the repository is made (again on each Bazel server start). The repo env `PORTABLE_CC` overrides which gcc.",
    attrs = {
        "name": attr.string(
            doc = "Repository name, e.g. `host_gcc`; use `@host_gcc//:gcc` as a `portable_cc_toolchain`'s `compiler`.",
            mandatory = True,
        ),
        "gcc": attr.string(
            doc = "The gcc driver: a name looked up on PATH, or an absolute path. Example: `gcc = \"aarch64-linux-gnu-gcc\"`.",
            default = "gcc",
        ),
    },
)

def _compiler_impl(mctx):
    for tag in _unique_tags(mctx, "host_gcc", "compiler.host_gcc", lambda t: "gcc %r" % t.gcc):
        host_gcc_repository(name = tag.name, gcc = tag.gcc)
    return mctx.extension_metadata(reproducible = True)

compiler = module_extension(
    implementation = _compiler_impl,
    doc = "Creates repositories that describe a gcc of the build machine, for `portable_cc_toolchain`.",
    tag_classes = {"host_gcc": _host_gcc},
)

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

All modules that use the extension share one namespace of repository names,
so a module published for others should prefix its names; rules_portable's
own are `rules_portable_glibc_2_36` and so on, and any other name is free.
"""

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

def _sysroot_impl(mctx):
    seen = {}
    for mod in mctx.modules:
        for tag in mod.tags.debian:
            if tag.name in seen:
                if seen[tag.name] != str(tag.lock):
                    fail("sysroot.debian: repository %r is declared twice, with lock %s and %s; give one of them another name" % (tag.name, seen[tag.name], tag.lock))
                continue
            seen[tag.name] = str(tag.lock)
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

"""Repository rule: the .deb files of a sysroot lockfile, fetched with sha256.

Each package is downloaded with Bazel's downloader, so the repository cache,
`--distdir` and `--downloader_config` URL rewriting all apply. The mirror is
`PORTABLE_DEBIAN_MIRROR` (a repo env var), else the `mirror` attribute, else
this machine's apt configuration, the same order as `portable sysroot
build`. `{snapshot}` in the mirror URL becomes a time a few hours after the
lock's newest index date, to fetch from a snapshot archive of Debian, which
keeps every pool file a lock can name.
"""

SNAPSHOT_PLACEHOLDER = "{snapshot}"

# Where apt keeps the machine's Debian mirror (read in this order).
_APT_SOURCES = ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]

# PORTABLE_DEBIAN_MIRROR=offline: take the .debs only from the repository
# cache or --distdir.
OFFLINE = "offline"

# A URL that is never fetched from (.invalid never resolves); it carries the
# file name by which --distdir is searched.
_NO_MIRROR = "http://no-mirror.invalid/debian"

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# Hours added to the index date: the index is published within a few hours of
# its Date and the archive keeps replaced pool files for days after.
_SNAPSHOT_DELAY_HOURS = 6

def _days_in_month(year, month):
    if month == 2:
        leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31

def snapshot_stamp(date, what, delay_hours = _SNAPSHOT_DELAY_HOURS):
    """Turns an RFC 1123 index date into a snapshot archive timestamp.

    Args:
      date: e.g. "Sat, 21 Nov 2026 09:15:44 UTC".
      what: the lockfile, for the error message.
      delay_hours: hours to add.

    Returns:
      e.g. "20261121T151544Z".
    """
    parts = date.replace(",", "").split(" ")
    if len(parts) != 6 or parts[2] not in _MONTHS:
        fail("%s: lockfile index date %r is not an RFC 1123 date like 'Sat, 21 Nov 2026 09:15:44 UTC'; lock it again with `portable sysroot lock`" % (what, date))
    day, month, year = int(parts[1]), _MONTHS.index(parts[2]) + 1, int(parts[3])
    hms = [int(x) for x in parts[4].split(":")]
    hour = hms[0] + delay_hours
    for _ in range(hour // 24):
        day += 1
        if day > _days_in_month(year, month):
            day, month = 1, month + 1
            if month > 12:
                month, year = 1, year + 1
    hour = hour % 24
    return "%s%s%sT%s%s%sZ" % (_pad(year, 4), _pad(month), _pad(day), _pad(hour), _pad(hms[1]), _pad(hms[2]))

def _pad(n, width = 2):
    # Starlark's % has no zero padding.
    s = str(n)
    return "0" * (width - len(s)) + s

def snapshot_mirror(mirror, lock, what):
    """Puts the snapshot state that holds every pool file of a lock into mirror.

    Args:
      mirror: a mirror URL, possibly holding SNAPSHOT_PLACEHOLDER.
      lock: the decoded lockfile.
      what: the lockfile's label, for error messages.

    Returns:
      mirror, with SNAPSHOT_PLACEHOLDER replaced by e.g. "20261121T151544Z".
    """
    if SNAPSHOT_PLACEHOLDER not in mirror:
        return mirror
    dates = [idx["date"] for idx in lock.get("indexes", [])]
    if not dates:
        fail("%s: lockfile records no index date to pick a snapshot from; use a mirror URL without %s" % (what, SNAPSHOT_PLACEHOLDER))
    stamps = sorted([snapshot_stamp(d, what) for d in dates])
    return mirror.replace(SNAPSHOT_PLACEHOLDER, stamps[-1])

def apt_mirror(rctx):
    """The first Debian mirror URL of this machine's apt configuration.

    Args:
      rctx: the repository context.

    Returns:
      The URL, or "" when apt names none.
    """
    for f in _APT_SOURCES:
        p = rctx.path(f)
        if not p.exists:
            continue
        for line in rctx.read(p).split("\n"):
            fields = [x for x in line.replace("\t", " ").split(" ") if x]
            if len(fields) >= 2 and fields[0] == "URIs:":
                return fields[1]
            if len(fields) >= 3 and fields[0] == "deb":
                # The same rules as Parse in tools/internal/aptsrc: past
                # the [options], the first word is the URI.
                in_options = False
                for x in fields[1:]:
                    if x.startswith("[") or in_options:
                        in_options = not x.endswith("]")
                        continue
                    if "://" in x:
                        return x
                    break
    return ""

def _glibc_version(lock, what):
    for p in lock["packages"]:
        if p["name"] == "libc6":
            v = p["version"].split(":")[-1]
            return v.split("-")[0].split("+")[0]
    fail("%s: lockfile has no libc6 package: a sysroot needs glibc; lock it again with `portable sysroot lock -p libc6 ...`" % what)

def _gcc_version(lock):
    # The GCC of the dev flavour's C++ runtime: libgcc-12-dev, libstdc++-12-dev
    # install under usr/lib/gcc/<triplet>/12 and usr/include/c++/12.
    for p in lock["packages"]:
        name = p["name"]
        if p.get("dev", False) and name.startswith("libstdc++-") and name.endswith("-dev"):
            major = name[len("libstdc++-"):-len("-dev")]
            if major.isdigit():
                return major
    return ""

def _compiler_version(lock):
    # The gcc a compiler lock pins (package gcc-N, not a dev extra), as
    # gcc -dumpfullversion says it: 16.2.0-4 -> 16.2.0.
    for p in lock["packages"]:
        name = p["name"]
        if not p.get("dev", False) and name.startswith("gcc-") and name[len("gcc-"):].isdigit():
            return p["version"].split(":")[-1].split("-")[0]
    return ""

def _python_version(lock):
    # The Python a lock pins (package python3.X-minimal), e.g. "3.11".
    for p in lock["packages"]:
        name = p["name"]
        if not p.get("dev", False) and name.startswith("python3.") and name.endswith("-minimal"):
            minor = name[len("python3."):-len("-minimal")]
            if minor.isdigit():
                return "3." + minor
    return ""

_BUILD = """\
load("@rules_portable//rules/private:debian_packages.bzl", "debian_packages")

debian_packages(
    name = "{name}",
    debs = glob(["sha256/*"]),
    dev_available = {dev},
    gcc_version = "{gcc}",
    glibc_version = "{glibc}",
    lock = "lock.json",
    suite = "{suite}",
    arch = "{arch}",
    compiler_version = "{compiler}",
    python_version = "{python}",
    visibility = ["//visibility:public"],
)

# The same under a fixed name, for a module that renamed this repository in
# use_repo (where `@its_name` alone would look for a target of that name).
alias(
    name = "packages",
    actual = ":{name}",
    visibility = ["//visibility:public"],
)
"""

def _debian_packages_repository_impl(rctx):
    lock = json.decode(rctx.read(rctx.attr.lock))
    if lock.get("schema_version") != 1:
        fail("%s: lockfile schema_version %r is not supported (want 1); regenerate it with `portable sysroot lock`" % (rctx.attr.lock, lock.get("schema_version")))
    mirror = rctx.os.environ.get("PORTABLE_DEBIAN_MIRROR") or rctx.attr.mirror or apt_mirror(rctx)

    # With no mirror (or "offline"), the files can still come from the
    # repository cache (by sha256) or --distdir (by file name), which Bazel
    # reads before any network: the URL only has to carry the file name.
    offline = mirror in ("", OFFLINE)
    mirror = _NO_MIRROR if offline else snapshot_mirror(mirror, lock, rctx.attr.lock).rstrip("/")
    pending = []
    for p in lock["packages"]:
        pending.append((p, rctx.download(
            url = "%s/%s" % (mirror, p["filename"]),
            output = "sha256/" + p["sha256"],
            sha256 = p["sha256"],
            block = False,
            allow_fail = offline,
        )))
    for p, d in pending:
        if not d.wait().success:
            why = "PORTABLE_DEBIAN_MIRROR is %s" % OFFLINE if rctx.os.environ.get("PORTABLE_DEBIAN_MIRROR") == OFFLINE else "no Debian mirror is configured"
            fail("%s: %s (sha256 %s) is in neither the repository cache nor --distdir, and %s: set --repo_env=PORTABLE_DEBIAN_MIRROR=URL or the mirror attribute, or configure apt (%s)" % (
                rctx.attr.lock,
                p["filename"].split("/")[-1],
                p["sha256"],
                why,
                " or ".join(_APT_SOURCES),
            ))
    rctx.symlink(rctx.attr.lock, "lock.json")
    rctx.file("BUILD.bazel", _BUILD.format(
        name = rctx.attr.original_name or rctx.name,
        dev = repr(any([p.get("dev", False) for p in lock["packages"]])),
        gcc = _gcc_version(lock),
        compiler = _compiler_version(lock),
        python = _python_version(lock),
        glibc = _glibc_version(lock, rctx.attr.lock),
        suite = lock["suite"],
        arch = lock.get("arch", "amd64"),
    ))

debian_packages_repository = repository_rule(
    implementation = _debian_packages_repository_impl,
    doc = "Downloads the .deb files that a `portable sysroot lock` lockfile pins.",
    attrs = {
        "lock": attr.label(
            doc = "The lockfile, e.g. `//sysroots:v2.lock.json`.",
            mandatory = True,
            allow_single_file = [".json"],
        ),
        "mirror": attr.string(
            doc = "Debian mirror URL; `{snapshot}` in it becomes the lock's snapshot time. Default: this machine's apt mirror. `PORTABLE_DEBIAN_MIRROR` overrides both.",
        ),
        "original_name": attr.string(doc = "The name the user gave, for the target inside the repository."),
    },
    environ = ["PORTABLE_DEBIAN_MIRROR"],
)

"""What a release archive of rules_portable carries about its prebuilt helpers.

In the source tree this is empty, and the `portable` helper is built from
source with rules_go. tools/release/release.sh rewrites this file in the
release archive it makes, so that a module fetched from a registry uses
prebuilt, integrity-checked helper binaries and never needs a Go SDK.
"""

# version: the release's version, e.g. "0.1.0".
# urls: URL templates of a helper binary; {version} and {platform} are
#   replaced, e.g. "https://example.org/v{version}/portable-{platform}".
# integrity: platform ("linux_amd64", "linux_arm64") -> the binary's
#   Subresource Integrity string ("sha256-...").
RELEASE = {
    "version": "",
    "urls": [],
    "integrity": {},
}

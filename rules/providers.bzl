"""Public providers of rules_portable. This file only re-exports."""

load("//rules/private:compiler.bzl", _PortableCompilerInfo = "PortableCompilerInfo")
load(
    "//rules/private:providers.bzl",
    _PortableBundleInfo = "PortableBundleInfo",
    _SysrootInfo = "SysrootInfo",
)
load("//rules/private:toolchain.bzl", _PortableToolInfo = "PortableToolInfo")

PortableBundleInfo = _PortableBundleInfo
PortableCompilerInfo = _PortableCompilerInfo
PortableToolInfo = _PortableToolInfo
SysrootInfo = _SysrootInfo

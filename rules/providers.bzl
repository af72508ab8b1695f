"""Public providers of rules_portable. This file only re-exports."""

load("//rules/private:toolchain.bzl", _PortableToolInfo = "PortableToolInfo")

PortableToolInfo = _PortableToolInfo

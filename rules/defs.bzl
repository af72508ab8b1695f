"""Public API of rules_portable. This file only re-exports: everything
defined outside it (under rules/private/) is private and may change."""

load("//rules/private:toolchain.bzl", _portable_toolchain = "portable_toolchain")

portable_toolchain = _portable_toolchain

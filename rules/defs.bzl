"""Public API of rules_portable. This file only re-exports: everything
defined outside it (under rules/private/) is private and may change."""

load("//rules/private:sysroot.bzl", _sysroot = "sysroot")
load("//rules/private:sysroot_binary.bzl", _sysroot_binary = "sysroot_binary", _sysroot_linkopts = "sysroot_linkopts")
load("//rules/private:toolchain.bzl", _portable_toolchain = "portable_toolchain")

portable_toolchain = _portable_toolchain
sysroot = _sysroot
sysroot_binary = _sysroot_binary
sysroot_linkopts = _sysroot_linkopts

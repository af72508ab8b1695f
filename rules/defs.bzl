"""Public API of rules_portable. This file only re-exports: everything
defined outside it (under rules/private/) is private and may change."""

load("//rules/private:cc_toolchain.bzl", _portable_cc_toolchain = "portable_cc_toolchain")
load("//rules/private:compiler.bzl", _portable_compiler = "portable_compiler", _portable_gcc = "portable_gcc")
load("//rules/private:portable_binary.bzl", _portable_binary = "portable_binary")
load("//rules/private:portable_image.bzl", _portable_image = "portable_image")
load("//rules/private:python.bzl", _portable_py_toolchain = "portable_py_toolchain", _portable_python = "portable_python")
load("//rules/private:sysroot.bzl", _sysroot = "sysroot")
load("//rules/private:sysroot_binary.bzl", _sysroot_binary = "sysroot_binary", _sysroot_linkopts = "sysroot_linkopts")
load("//rules/private:sysroot_test.bzl", _sysroot_test = "sysroot_test", _sysroot_test_suite = "sysroot_test_suite")
load("//rules/private:toolchain.bzl", _portable_toolchain = "portable_toolchain")

portable_binary = _portable_binary
portable_image = _portable_image
portable_cc_toolchain = _portable_cc_toolchain
portable_compiler = _portable_compiler
portable_gcc = _portable_gcc
portable_toolchain = _portable_toolchain
portable_py_toolchain = _portable_py_toolchain
portable_python = _portable_python
sysroot = _sysroot
sysroot_binary = _sysroot_binary
sysroot_linkopts = _sysroot_linkopts
sysroot_test = _sysroot_test
sysroot_test_suite = _sysroot_test_suite

"""What a go_test adds to build its C fixtures with the bundled gcc (see testcc.go)."""

TESTCC_DATA = [
    "//sysroots:gcc_16",
    "//tools/internal/testcc:gcc.sh",
    "//tools/internal/testcc:v1_dev_tree",
]

TESTCC_ENV = {
    "PORTABLE_TEST_CC": "$(rootpath //tools/internal/testcc:gcc.sh)",
    "PORTABLE_TEST_GCC": "$(rootpath //sysroots:gcc_16)",
    "PORTABLE_TEST_SYSROOT": "$(rootpath //tools/internal/testcc:v1_dev_tree)",
}

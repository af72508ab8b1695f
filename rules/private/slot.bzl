"""The PT_INTERP slot: a loader path padded to the most the kernel accepts."""

# The kernel refuses a PT_INTERP longer than PATH_MAX (4096 bytes with its NUL).
PATH_MAX = 4096

def padded_interpreter(directory, loader_path):
    """An absolute loader path padded with slashes to PATH_MAX - 1 bytes.

    A linker given it (`-Wl,--dynamic-linker=`) reserves a PATH_MAX slot, so
    the interpreter can later be re-pointed in place, at any path, without
    growing the file; the extra slashes name the same file.

    Args:
      directory: the absolute directory the path starts with, e.g. "/" or
        "/usr/sysroot/v2/".
      loader_path: the loader's path under it, e.g.
        "lib64/ld-linux-x86-64.so.2".

    Returns:
      e.g. "/usr/sysroot/v2/" + "/" * N + "lib64/ld-linux-x86-64.so.2".
    """
    pad = PATH_MAX - 1 - len(directory) - len(loader_path)
    return directory + "/" * pad + loader_path

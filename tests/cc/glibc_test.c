/* glibc_test: checks that the test was compiled against the glibc it runs
 * on. __GLIBC_MINOR__ comes from the headers at compile time; the version
 * gnu_get_libc_version() reports comes from the libc.so.6 loaded at run
 * time; PORTABLE_SYSROOT_GLIBC is what sysroot_test says it runs against.
 * Built for the host platform (no sysroot) it only checks the first two. */
#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  char headers[32];
  snprintf(headers, sizeof headers, "%d.%d", __GLIBC__, __GLIBC_MINOR__);
  const char *runtime = gnu_get_libc_version();
  const char *want = getenv("PORTABLE_SYSROOT_GLIBC");
  printf("compiled against glibc %s headers, running on glibc %s, sysroot_test says %s\n",
         headers, runtime, want ? want : "(not set)");
  if (strcmp(headers, runtime) != 0) {
    fprintf(stderr, "FAIL: headers of glibc %s, but running on %s\n", headers, runtime);
    return 1;
  }
  if (want && strcmp(want, runtime) != 0) {
    fprintf(stderr, "FAIL: running on glibc %s, want %s\n", runtime, want);
    return 1;
  }
  return 0;
}

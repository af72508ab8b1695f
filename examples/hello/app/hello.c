/* hello: prints which glibc it runs on and where it thinks it lives.
 *
 * Built by a modern toolchain (C23 by default), the strtol call below links
 * against __isoc23_strtol@GLIBC_2.38, so the plain binary does not start on
 * a host with an older glibc. The portable bundle carries its own. */
#include <gnu/libc-version.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  self[n < 0 ? 0 : n] = '\0';
  long code = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
  printf("hello from rules_portable: glibc %s\n", gnu_get_libc_version());
  printf("argv[0]=%s\n/proc/self/exe=%s\n", argc > 0 ? argv[0] : "", self);
  return (int)code;
}

/* hello: prints which glibc it runs on and where it thinks it lives. */
#include <gnu/libc-version.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  self[n < 0 ? 0 : n] = '\0';
  printf("hello from rules_portable: glibc %s\n", gnu_get_libc_version());
  printf("argv[0]=%s\n/proc/self/exe=%s\n", argc > 0 ? argv[0] : "", self);
  return 0;
}

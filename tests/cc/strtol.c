/* strtol: the one-line program that a modern toolchain (gcc >= 14, C23 by
 * default) links against __isoc23_strtol@GLIBC_2.38. Compiled against
 * glibc 2.36's headers it needs no more than 2.36. */
#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  long v = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
  printf("glibc %s, %ld\n", gnu_get_libc_version(), v);
  return 0;
}

/* app: prints the glibc it runs on. Built as C17 so it needs nothing newer
 * than GLIBC_2.34 and runs against every sysroot from v1 (2.36) up. */
#include <gnu/libc-version.h>
#include <stdio.h>

int main(void) {
  printf("glibc %s\n", gnu_get_libc_version());
  return 0;
}

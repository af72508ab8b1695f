/* strlcpy: new in glibc 2.38. Against sysroot v1 (2.36) this must fail to
 * compile, naming the function and the sysroot; against v3 it builds. */
#include <stdio.h>
#include <string.h>

int main(void) {
  char buf[8];
  size_t n = strlcpy(buf, "portable", sizeof buf);
  printf("%s %zu\n", buf, n);
  return 0;
}

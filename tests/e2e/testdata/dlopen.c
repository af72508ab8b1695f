/* dlopen.c: dlopen(argv[1]) (default libz.so.1) and say what happened.
 * Exit 0 when loaded, 3 when not; prints dlerror(). */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "libz.so.1";
	void *h = dlopen(name, RTLD_NOW);
	if (!h) {
		printf("dlopen failed: %s\n", dlerror());
		return 3;
	}
	printf("dlopen ok\n");
	return 0;
}

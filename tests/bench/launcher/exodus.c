/*
 * An exodus-style launcher: exec the bundled loader explicitly with
 * --library-path, the way exodus' C launchers do. Built static with glibc.
 * /proc/self/exe of the program becomes the loader.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char self[PATH_MAX], root[PATH_MAX], ld[PATH_MAX], lib[PATH_MAX], prog[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0) {
		perror("readlink /proc/self/exe");
		return 127;
	}
	self[n] = 0;
	snprintf(root, sizeof root, "%s", dirname(dirname(self)));
	snprintf(ld, sizeof ld, "%s/lib/ld-linux-x86-64.so.2", root);
	snprintf(lib, sizeof lib, "%s/lib", root);
	snprintf(prog, sizeof prog, "%s/libexec/hello", root);
	char *av[argc + 6];
	int k = 0;
	av[k++] = ld;
	av[k++] = "--library-path";
	av[k++] = lib;
	av[k++] = "--argv0";
	av[k++] = argv[0];
	av[k++] = prog;
	for (int i = 1; i < argc; i++)
		av[k++] = argv[i];
	av[k] = NULL;
	execv(ld, av);
	perror(ld);
	return 127;
}

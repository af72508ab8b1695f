/* A tiny dynamically linked program for the elf package's tests. */
#include <stdio.h>

int main(int argc, char **argv) {
	printf("hello from %s\n", argc > 1 ? argv[1] : "elf");
	return argc > 2 ? 3 : 0;
}

/* The program every launcher in the benchmark starts. */
#include <stdio.h>

int main(void)
{
	puts("hello");
	return 0;
}

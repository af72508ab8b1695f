/*
 * Test driver for launcher/zstd.h, built by zstd_test.go with the host's
 * gcc and its sanitizers. Reads requests from stdin until EOF, each
 *   u64 cap, u64 n, n bytes of input
 * (little-endian), decodes the input into a buffer of cap bytes and writes
 *   i64 result, then result bytes when result >= 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zstd.h"

static int readall(void *p, size_t n)
{
	return fread(p, 1, n, stdin) == n;
}

int main(void)
{
	static struct zstd_ws ws;
	unsigned long long cap, n;
	while (readall(&cap, 8) && readall(&n, 8)) {
		unsigned char *in = malloc(n ? n : 1), *out = malloc(cap ? cap : 1);
		if (!in || !out || !readall(in, n))
			return 2;
		/* Poison the workspace: nothing may depend on its old contents. */
		memset(&ws, 0xa5, sizeof ws);
		long long got = zstd_decode(out, cap, in, n, &ws);
		fwrite(&got, 8, 1, stdout);
		if (got > 0)
			fwrite(out, 1, (size_t)got, stdout);
		fflush(stdout);
		free(in);
		free(out);
	}
	return 0;
}

/*
 * Fuzz harness for the audit module's list parser: launcher/audit.c,
 * included below, built with libc and sanitizers.
 *
 * Protocol on stdin/stdout, little-endian:
 *   request  u32 length, then that many bytes: a .portable/audit file
 *   reply    six i64: parse_conf's result, objects, host libraries,
 *            policy, enforce, anchors
 *
 * Build: gcc -fsanitize=address,undefined -DAUDIT_HARNESS -I launcher audit_harness.c
 */
#include "audit.c"

void *malloc(unsigned long);
void free(void *);

static int read_full(void *buf, unsigned long n)
{
	unsigned char *p = buf;
	while (n) {
		long r = x_read(0, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (unsigned long)r;
	}
	return 0;
}

int main(void)
{
	for (;;) {
		unsigned int n;
		if (read_full(&n, 4) != 0)
			return 0;
		/* Exactly n bytes: the sanitizer catches a read past them. */
		char *buf = malloc(n ? n : 1);
		if (read_full(buf, n) != 0)
			return 1;
		memset(&S, 0, sizeof S);
		S.record = -1;
		long r[6];
		r[0] = parse_conf(buf, n);
		r[1] = S.nobj, r[2] = S.nhostlibs, r[3] = S.policy, r[4] = S.enforce, r[5] = S.nanchors;
		if (S.obj)
			x_munmap((long)S.obj, 1); /* the parser's tables: mapped, left for the kernel */
		x_write(1, r, sizeof r);
		free(buf);
	}
}

/*
 * One-line messages, built without libc: the launcher's and the audit
 * module's. The includer defines LINE_CAP (the buffer size) first; put and
 * put_num stop one byte short of it, leaving room for the final newline.
 */
#ifndef LAUNCHER_LINE_H
#define LAUNCHER_LINE_H

struct line {
	char buf[LINE_CAP];
	size_t n;
};

static void put(struct line *l, const char *s)
{
	while (*s && l->n < sizeof l->buf - 1)
		l->buf[l->n++] = *s++;
}

static void put_num(struct line *l, u64 v)
{
	char d[24];
	int i = 0;
	do
		d[i++] = (char)('0' + v % 10);
	while (v /= 10);
	while (i && l->n < sizeof l->buf - 1)
		l->buf[l->n++] = d[--i];
}

#endif

/*
 * Fuzz harness for the launcher's ELF handling: the launcher's own code
 * (launcher/launcher.c, included below) built with libc and sanitizers.
 *
 * Protocol on stdin/stdout, one request at a time, all integers little-endian:
 *   request  u32 length, then that many bytes: the content of an ELF file
 *   reply    i64 read_image result, i64 PT_INTERP index, u64 slot size,
 *            u32 slot path length + the path, i64 map_image result (1 when
 *            not tried), i64 mapping check (0 ok, else 1 + the PT_LOAD whose
 *            bytes in memory differ from the file)
 *
 * read_image parses the headers as the launcher does; map_image maps the
 * segments as the read-only mode does. The harness checks the mapped bytes
 * against the file and unmaps everything before the next request.
 *
 * Build: gcc -fsanitize=address,undefined -DLAUNCHER_HARNESS -I launcher harness.c
 */
#include "launcher.c"

void *malloc(unsigned long);
void free(void *);
void abort(void);

#define SYS_memfd_create 319
#define SYS_ftruncate 77

static int read_full(void *buf, unsigned long n)
{
	unsigned char *p = buf;
	while (n) {
		long r = sys3(SYS_read, 0, (long)p, (long)n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (unsigned long)r;
	}
	return 0;
}

static void write_full(const void *buf, unsigned long n)
{
	const unsigned char *p = buf;
	while (n) {
		long r = sys3(SYS_write, 1, (long)p, (long)n);
		if (r <= 0)
			abort();
		p += r;
		n -= (unsigned long)r;
	}
}

static void put64(long v) { write_full(&v, 8); }

/* load_span is the page range map_image reserves for im. */
static int load_span(const struct image *im, u64 pg, u64 *lo, u64 *hi)
{
	*lo = ~0UL;
	*hi = 0;
	for (int i = 0; i < im->eh.e_phnum; i++) {
		const struct elf_phdr *p = &im->ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		if (page_down(p->p_vaddr, pg) < *lo)
			*lo = page_down(p->p_vaddr, pg);
		if (page_up(p->p_vaddr + p->p_memsz, pg) > *hi)
			*hi = page_up(p->p_vaddr + p->p_memsz, pg);
	}
	return *hi > *lo;
}

/* check_mapping compares every readable segment in memory with the file:
 * p_filesz bytes from p_offset, then zeros up to p_memsz. Segments whose
 * pages overlap another's are skipped (the later mapping wins there), and so
 * are segments over 16 MiB, to keep each input fast. */
static long check_mapping(const struct image *im, u64 bias, const u8 *data, u64 pg)
{
	for (int i = 0; i < im->eh.e_phnum; i++) {
		const struct elf_phdr *p = &im->ph[i];
		if (p->p_type != PT_LOAD || !(p->p_flags & PF_R))
			continue;
		int overlaps = 0;
		for (int j = 0; j < im->eh.e_phnum; j++) {
			const struct elf_phdr *q = &im->ph[j];
			if (j == i || q->p_type != PT_LOAD)
				continue;
			if (page_down(q->p_vaddr, pg) < page_up(p->p_vaddr + p->p_memsz, pg) &&
			    page_down(p->p_vaddr, pg) < page_up(q->p_vaddr + q->p_memsz, pg))
				overlaps = 1;
		}
		if (overlaps)
			continue;
		if (p->p_memsz > (16UL << 20) || bias + p->p_vaddr < 65536)
			continue; /* too big to compare byte by byte; or page 0, which
				   * root may map but UBSan won't let us read */
		const u8 *mem = (const u8 *)(bias + p->p_vaddr);
		for (u64 k = 0; k < p->p_memsz; k++) {
			u8 want = k < p->p_filesz ? data[p->p_offset + k] : 0;
			if (mem[k] != want)
				return 1 + i;
		}
	}
	return 0;
}

int main(void)
{
	static struct image im;
	static u8 scratch[IMAGE_SCRATCH] __attribute__((aligned(8)));
	image_init(&im, scratch);
	long fd = sys3(SYS_memfd_create, (long)"harness", 0, 0);
	if (fd < 0)
		abort();
	for (;;) {
		u32 n;
		if (read_full(&n, 4) < 0)
			return 0;
		u8 *data = malloc(n ? n : 1);
		if (!data || read_full(data, n) < 0)
			abort();
		if (sys3(SYS_ftruncate, fd, 0, 0) < 0 || (n && x_pwrite(fd, data, n, 0) != (long)n))
			abort();

		long r = read_image(fd, &im);
		put64(r);
		put64(r == 0 ? im.interp : -1);
		put64(r == 0 ? (long)im.slot_size : 0);
		u32 slen = 0;
		if (r == 0 && im.interp >= 0)
			while (im.slot[slen])
				slen++;
		write_full(&slen, 4);
		write_full(im.slot, slen);

		long mr = 1, check = 0;
		if (r == 0) {
			u64 bias = ~0UL, lo, hi;
			const char *op;
			mr = map_image(fd, &im, 4096, &bias, &op);
			if (mr == 0)
				check = check_mapping(&im, bias, data, 4096);
			if (bias != ~0UL && load_span(&im, 4096, &lo, &hi))
				x_munmap(bias + lo, hi - lo);
		}
		put64(mr);
		put64(check);
		free(data);
	}
}

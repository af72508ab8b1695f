/*
 * portable-launcher: the program users run from a bundle's bin/ directory.
 *
 * It finds the bundle from /proc/self/exe, then starts the real program in
 * B/libexec/NAME with the bundle's own dynamic loader, in one of three ways:
 *
 *   fast path   the real ELF's PT_INTERP slot already names B/lib/<loader>:
 *               execve it, so /proc/self/exe is the real binary.
 *   fix-up      the slot is stale (the bundle moved) and the bundle is
 *               writable: under a flock on B/.portable/lock, rewrite the
 *               slot of every ELF under B/libexec by writing a patched copy
 *               and rename()ing it over the old file, then take the fast path.
 *   read-only   the slot is stale and nothing may be written: map the loader
 *               and the program in this process, point the auxiliary vector
 *               at them, and jump to the loader ("userland exec").
 *
 * It never touches the environment or argv, and it never opens an existing
 * binary for writing. launcher/README.md is the contract with the bundler.
 *
 * Freestanding: no libc, raw system calls, entry point in arch/<arch>.h.
 */

#include "arch.h"

#define PATH_MAX 4096
#define NAME_MAX 255

/* Exit statuses, as a shell reports them. */
#define EXIT_NOT_FOUND 127 /* anything that stops the program being found or loaded */
#define EXIT_REFUSED 126   /* found but refused: set-ID launcher, not executable */

#define EPERM 1
#define ENOENT 2
#define EINTR 4
#define EIO 5
#define E2BIG 7
#define ENOEXEC 8
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EEXIST 17
#define EXDEV 18
#define ENODEV 19
#define ENOTDIR 20
#define EISDIR 21
#define EINVAL 22
#define ENFILE 23
#define EMFILE 24
#define ETXTBSY 26
#define EFBIG 27
#define ENOSPC 28
#define EROFS 30
#define ENAMETOOLONG 36
#define ENOSYS 38
#define ELOOP 40
#define EOVERFLOW 75
#define EOPNOTSUPP 95
#define EDQUOT 122

#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_CLOEXEC 02000000
#define AT_FDCWD (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define LOCK_EX 2

#define S_IFMT 0170000
#define S_IFREG 0100000
#define S_IFDIR 0040000
#define S_ISUID 04000
#define S_ISGID 02000

#define PROT_NONE 0
#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000

#define DT_UNKNOWN 0
#define DT_DIR 4
#define DT_REG 8

/* Auxiliary vector keys. */
#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_SECURE 23

/* ELF. Only 64-bit little-endian images of the launcher's own machine. */
#define ET_EXEC 2
#define ET_DYN 3
#define PT_LOAD 1
#define PT_INTERP 3
#define PT_PHDR 6
#define PF_X 1
#define PF_W 2
#define PF_R 4
#define MAX_PHNUM 128
#define MAX_ALIGN (1UL << 30)
#define MAX_VADDR (1UL << 47)

struct elf_ehdr {
	u8 e_ident[16];
	u16 e_type;
	u16 e_machine;
	u32 e_version;
	u64 e_entry;
	u64 e_phoff;
	u64 e_shoff;
	u32 e_flags;
	u16 e_ehsize;
	u16 e_phentsize;
	u16 e_phnum;
	u16 e_shentsize;
	u16 e_shnum;
	u16 e_shstrndx;
};

struct elf_phdr {
	u32 p_type;
	u32 p_flags;
	u64 p_offset;
	u64 p_vaddr;
	u64 p_paddr;
	u64 p_filesz;
	u64 p_memsz;
	u64 p_align;
};

struct dirent64 {
	u64 d_ino;
	long d_off;
	u16 d_reclen;
	u8 d_type;
	char d_name[];
};

/*
 * One pread of this many bytes from offset 0 normally returns the ELF
 * header, the program headers and the path in an interp slot placed right
 * after them; when a patcher moved the program headers and the slot to the
 * end of the file, a second window there returns both. Small on purpose:
 * every stack page the fast path touches is a page fault.
 */
#define WINDOW 2048

/* Temp files of the fix-up are named TMP_PREFIX + NAME in NAME's directory. */
#define TMP_PREFIX ".portable-tmp-"
#define TMP_PREFIX_LEN 14

/* How deep the fix-up walks below B/libexec. */
#define MAX_DEPTH 8

/* What the launcher learnt about one ELF file from its headers. */
struct image {
	struct elf_ehdr eh;
	int interp;           /* index of PT_INTERP in ph, or -1 */
	u64 slot_size;        /* p_filesz of PT_INTERP */
	const char *slot;     /* the slot's path, NUL-terminated, in win or slotbuf */
	/* Carved out of the owner's scratch memory by image_init; read_image
	 * touches win and the used part of ph, slotbuf only when win lacks the
	 * slot. */
	u8 *win;              /* WINDOW bytes read in one pread */
	struct elf_phdr *ph;  /* MAX_PHNUM entries */
	char *slotbuf;        /* PATH_MAX bytes */
};

#define IMAGE_SCRATCH (WINDOW + MAX_PHNUM * sizeof(struct elf_phdr) + PATH_MAX)

/* image_init points im's buffers into scratch (IMAGE_SCRATCH bytes, 8-aligned). */
static void image_init(struct image *im, u8 *scratch)
{
	im->win = scratch;
	im->ph = (struct elf_phdr *)(scratch + WINDOW);
	im->slotbuf = (char *)(im->ph + MAX_PHNUM);
}

/* The launcher's own state: where it is and what it runs. */
struct ctx {
	u64 *sp;             /* argc, argv..., envp..., auxv... as the kernel left them */
	char **argv;
	char **envp;
	u64 *auxv;
	u64 pagesz;
	char *self;          /* readlink("/proc/self/exe"): B/bin/NAME */
	size_t root_len;     /* B is self[0:root_len] */
	const char *name;    /* NAME, the last component of self */
	char *real;          /* B/libexec/NAME */
	char *want;          /* the slot the real ELF should hold: B/lib/<loader> */
	size_t want_len;
};

/* ---- the bits of libc the compiler may call ---------------------------- */

#ifndef LAUNCHER_HARNESS /* tests/conformance/testdata/harness.c links with libc */

void *memcpy(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;
	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	u8 *d = dst;
	while (n--)
		*d++ = (u8)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}
#endif

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* ---- system calls ------------------------------------------------------ */

#define sys0(n) sys3(n, 0, 0, 0)
#define sys1(n, a) sys3(n, (long)(a), 0, 0)
#define sys2(n, a, b) sys3(n, (long)(a), (long)(b), 0)

static long x_openat(int dir, const char *path, int flags, int mode)
{
	return sys6(SYS_openat, dir, (long)path, flags, mode, 0, 0);
}
static long x_close(long fd) { return sys1(SYS_close, fd); }
static long x_pread(long fd, void *buf, size_t n, u64 off)
{
	return sys6(SYS_pread64, fd, (long)buf, (long)n, (long)off, 0, 0);
}
static long x_pwrite(long fd, const void *buf, size_t n, u64 off)
{
	return sys6(SYS_pwrite64, fd, (long)buf, (long)n, (long)off, 0, 0);
}
static long x_write(long fd, const void *buf, size_t n) { return sys3(SYS_write, fd, (long)buf, (long)n); }
static long x_fstat(long fd, struct kstat *st) { return sys2(SYS_fstat, fd, st); }
static long x_fstatat(int dir, const char *path, struct kstat *st, int flags)
{
	return sys6(SYS_newfstatat, dir, (long)path, (long)st, flags, 0, 0);
}
static long x_mmap(u64 addr, u64 len, int prot, int flags, long fd, u64 off)
{
	return sys6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, (long)off);
}
static long x_munmap(u64 addr, u64 len) { return sys2(SYS_munmap, addr, len); }
static long x_mprotect(u64 addr, u64 len, int prot) { return sys3(SYS_mprotect, (long)addr, (long)len, prot); }
static long x_unlinkat(int dir, const char *path) { return sys3(SYS_unlinkat, dir, (long)path, 0); }
static long x_renameat(int odir, const char *old, int ndir, const char *new)
{
	return sys6(SYS_renameat, odir, (long)old, ndir, (long)new, 0, 0);
}
static __attribute__((noreturn)) void x_exit(int code)
{
	for (;;)
		sys1(SYS_exit_group, code);
}

/* ---- one-line errors --------------------------------------------------- */

static const char *err_text(long e)
{
	switch (e) {
	case EPERM: return "Operation not permitted";
	case ENOENT: return "No such file or directory";
	case EINTR: return "Interrupted system call";
	case EIO: return "Input/output error";
	case E2BIG: return "Argument list too long";
	case ENOEXEC: return "Exec format error";
	case EBADF: return "Bad file descriptor";
	case EAGAIN: return "Resource temporarily unavailable";
	case ENOMEM: return "Cannot allocate memory";
	case EACCES: return "Permission denied";
	case EFAULT: return "Bad address";
	case EEXIST: return "File exists";
	case EXDEV: return "Invalid cross-device link";
	case ENODEV: return "No such device";
	case ENOTDIR: return "Not a directory";
	case EISDIR: return "Is a directory";
	case EINVAL: return "Invalid argument";
	case ENFILE: return "Too many open files in system";
	case EMFILE: return "Too many open files";
	case ETXTBSY: return "Text file busy";
	case EFBIG: return "File too large";
	case ENOSPC: return "No space left on device";
	case EROFS: return "Read-only file system";
	case ENAMETOOLONG: return "File name too long";
	case ENOSYS: return "Function not implemented";
	case ELOOP: return "Too many levels of symbolic links";
	case EOVERFLOW: return "Value too large for defined data type";
	case EOPNOTSUPP: return "Operation not supported";
	case EDQUOT: return "Disk quota exceeded";
	}
	return "Unknown error";
}

#define LINE_CAP (PATH_MAX + 512)
#include "line.h"

/*
 * die prints "portable-launcher: PATH: OP: TEXT (errno N)[; HINT]" as one
 * write(2) and exits with code.
 */
static __attribute__((noreturn)) void die(const char *path, const char *op, long err, int code,
					  const char *hint)
{
	struct line l;
	if (err < 0)
		err = -err;
	l.n = 0;
	put(&l, "portable-launcher: ");
	put(&l, path);
	put(&l, ": ");
	put(&l, op);
	put(&l, ": ");
	put(&l, err_text(err));
	put(&l, " (errno ");
	put_num(&l, (u64)err);
	put(&l, ")");
	if (hint) {
		put(&l, "; ");
		put(&l, hint);
	}
	l.buf[l.n++] = '\n';
	x_write(2, l.buf, l.n);
	x_exit(code);
}

/* ---- paths ------------------------------------------------------------- */

/* cat writes a + b (+ c) into dst, failing with -ENAMETOOLONG past PATH_MAX. */
static long cat3(char *dst, const char *a, size_t alen, const char *b, const char *c)
{
	size_t n = 0;
	const char *parts[2] = {b, c};
	if (alen >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(dst, a, alen);
	n = alen;
	for (int i = 0; i < 2; i++) {
		for (const char *s = parts[i]; s && *s; s++) {
			if (n >= PATH_MAX - 1)
				return -ENAMETOOLONG;
			dst[n++] = *s;
		}
	}
	dst[n] = 0;
	return (long)n;
}

/* base returns the last component of a path. */
static const char *base(const char *p)
{
	const char *b = p;
	for (; *p; p++)
		if (*p == '/')
			b = p + 1;
	return b;
}

/*
 * want_for computes the slot an image should hold: B/lib/ + the basename of
 * the path it holds now (so the loader name stays the one the bundler chose
 * for this architecture). Returns its length or a negative errno.
 */
static long want_for(const struct ctx *c, const struct image *im, char *dst)
{
	const char *ld = base(im->slot);
	if (!*ld || str_eq(ld, ".") || str_eq(ld, ".."))
		return -ENOEXEC;
	size_t ld_len = 0;
	while (ld[ld_len])
		ld_len++;
	if (ld_len > NAME_MAX)
		return -ENAMETOOLONG; /* no file has such a name */
	return cat3(dst, c->self, c->root_len, "/lib/", ld);
}

static int slot_matches(const struct image *im, const char *want)
{
	return str_eq(im->slot, want);
}

/* ---- ELF headers ------------------------------------------------------- */

/*
 * read_image reads the ELF header, program headers and interp slot of fd.
 * It returns 0, -ENOEXEC for anything that is not a 64-bit little-endian ELF
 * executable of this machine with sane headers, or another negative errno.
 */
static long read_image(long fd, struct image *im)
{
	u64 base = 0; /* win holds file bytes [base, base + n) */
	long n = x_pread(fd, im->win, WINDOW, 0);
	if (n < 0)
		return n;
	if (n < (long)sizeof im->eh)
		return -ENOEXEC;
	memcpy(&im->eh, im->win, sizeof im->eh);
	const struct elf_ehdr *eh = &im->eh;
	if (eh->e_ident[0] != 0x7f || eh->e_ident[1] != 'E' || eh->e_ident[2] != 'L' ||
	    eh->e_ident[3] != 'F' || eh->e_ident[4] != 2 /* ELFCLASS64 */ ||
	    eh->e_ident[5] != 1 /* ELFDATA2LSB */ || eh->e_ident[6] != 1 /* EV_CURRENT */)
		return -ENOEXEC;
	if (eh->e_machine != ARCH_EM || (eh->e_type != ET_EXEC && eh->e_type != ET_DYN) ||
	    eh->e_phentsize != sizeof(struct elf_phdr) || eh->e_phnum == 0 || eh->e_phnum > MAX_PHNUM ||
	    eh->e_phoff >= MAX_VADDR)
		return -ENOEXEC;

	u64 phbytes = (u64)eh->e_phnum * sizeof(struct elf_phdr);
	if (eh->e_phoff + phbytes <= (u64)n) {
		memcpy(im->ph, im->win + eh->e_phoff, phbytes);
	} else if (phbytes <= WINDOW) {
		/*
		 * A patcher that grew the file moved the program headers (and
		 * usually the slot right behind them) to its end: one more
		 * window there normally holds both.
		 */
		base = eh->e_phoff;
		n = x_pread(fd, im->win, WINDOW, base);
		if (n < 0)
			return n;
		if ((u64)n < phbytes)
			return -ENOEXEC;
		memcpy(im->ph, im->win, phbytes);
	} else {
		long r = x_pread(fd, im->ph, phbytes, eh->e_phoff);
		if (r < 0)
			return r;
		if ((u64)r != phbytes)
			return -ENOEXEC;
	}

	im->interp = -1;
	im->slot_size = 0;
	im->slot = "";
	for (int i = 0; i < eh->e_phnum; i++) {
		if (im->ph[i].p_type == PT_INTERP) {
			im->interp = i;
			break;
		}
	}
	if (im->interp < 0)
		return 0;

	const struct elf_phdr *ip = &im->ph[im->interp];
	if (ip->p_filesz == 0 || ip->p_offset >= MAX_VADDR || ip->p_filesz >= MAX_VADDR)
		return -ENOEXEC;
	im->slot_size = ip->p_filesz;
	u64 take = ip->p_filesz < PATH_MAX ? ip->p_filesz : PATH_MAX;
	if (ip->p_offset >= base && ip->p_offset < base + (u64)n) {
		/* The path is usually short: take it from the window if its NUL is there. */
		const u8 *p = im->win + (ip->p_offset - base);
		u64 avail = base + (u64)n - ip->p_offset;
		if (avail > take)
			avail = take;
		for (u64 i = 0; i < avail; i++) {
			if (p[i] == 0) {
				im->slot = (const char *)p;
				return 0;
			}
		}
	}
	long r = x_pread(fd, im->slotbuf, take, ip->p_offset);
	if (r < 0)
		return r;
	/* A slot cut short by the end of the file is read like one in the
	 * window: what counts is a NUL in the bytes that are there (the kernel
	 * will refuse such a file at execve, and that error is reported). */
	for (long i = 0; i < r; i++) {
		if (im->slotbuf[i] == 0) {
			im->slot = im->slotbuf;
			return 0;
		}
	}
	return -ENOEXEC; /* no NUL within PATH_MAX: not a path the kernel would take */
}

/* ---- fix-up: re-point every slot under B/libexec ------------------------- */

enum fix_result { FIX_DONE = 0, FIX_READ_ONLY = 1 };

static int read_only_errno(long e)
{
	return e == -EROFS || e == -EACCES || e == -EPERM;
}

struct walker {
	struct ctx *c;
	char dir[PATH_MAX]; /* the directory being walked, for messages */
	size_t dir_len;
	char path[PATH_MAX]; /* scratch: dir + "/" + name, for messages */
	char want[PATH_MAX];
	u8 slot[PATH_MAX];
	struct image im;
	u8 scratch[IMAGE_SCRATCH] __attribute__((aligned(8)));
	int changed; /* files replaced in this pass */
};

static const char *walker_path(struct walker *w, const char *name)
{
	if (cat3(w->path, w->dir, w->dir_len, "/", name) < 0)
		return w->dir;
	return w->path;
}

/* copy_all copies size bytes from in to out, both at offset 0. */
static long copy_all(long in, long out, u64 size)
{
	long off_in = 0, off_out = 0;
	u64 done = 0;
	while (done < size) {
		long r = sys6(SYS_copy_file_range, in, (long)&off_in, out, (long)&off_out,
			      (long)(size - done), 0);
		if (r == -EINTR)
			continue;
		if (r < 0 && done == 0 && (r == -ENOSYS || r == -EXDEV || r == -EINVAL || r == -EOPNOTSUPP))
			break; /* no in-kernel copy here: fall back to mmap + write */
		if (r < 0)
			return r;
		if (r == 0)
			return -EIO; /* the file shrank under us */
		done += (u64)r;
	}
	if (done == size)
		return 0;
	long m = x_mmap(0, size, PROT_READ, MAP_PRIVATE, in, 0);
	if (m < 0 && m > -4096)
		return m;
	const u8 *src = (const u8 *)m;
	while (done < size) {
		long r = x_write(out, src + done, size - done);
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			x_munmap((u64)m, size);
			return r < 0 ? r : -EIO;
		}
		done += (u64)r;
	}
	x_munmap((u64)m, size);
	return 0;
}

/*
 * write_slot fills the interp slot of the temp copy: the path, then NULs up
 * to p_filesz.
 */
static long write_slot(long fd, const struct elf_phdr *ip, const char *want, size_t want_len, u8 *buf)
{
	u64 off = ip->p_offset, left = ip->p_filesz, first = 1;
	while (left) {
		u64 n = left < PATH_MAX ? left : PATH_MAX;
		memset(buf, 0, n);
		if (first)
			memcpy(buf, want, want_len);
		first = 0;
		long r = x_pwrite(fd, buf, n, off);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return r;
		if (r == 0)
			return -EIO;
		off += (u64)r;
		left -= (u64)r;
	}
	return 0;
}

/*
 * fix_file re-points the slot of dir/name if it is an ELF of this machine
 * with a stale slot that the new path fits in. The new content goes to a
 * temp file that is renamed over name: the old inode is never written, so a
 * copy of it that is running or being exec'd is unaffected.
 */
static long fix_file(struct walker *w, long dfd, const char *name)
{
	long fd = x_openat((int)dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
	if (fd < 0)
		die(walker_path(w, name), "open", fd, EXIT_NOT_FOUND, 0);
	long r = read_image(fd, &w->im);
	if (r == -ENOEXEC || (r == 0 && w->im.interp < 0)) {
		x_close(fd);
		return 0; /* not ours to patch: a script, data, a static program */
	}
	if (r < 0)
		die(walker_path(w, name), "read ELF headers", r, EXIT_NOT_FOUND, 0);
	long want_len = want_for(w->c, &w->im, w->want);
	if (want_len < 0 || slot_matches(&w->im, w->want) ||
	    (u64)want_len + 1 > w->im.slot_size) {
		x_close(fd); /* fresh already, or no room: the program then runs read-only */
		return 0;
	}
	struct kstat st;
	r = x_fstat(fd, &st);
	if (r < 0)
		die(walker_path(w, name), "stat", r, EXIT_NOT_FOUND, 0);
	const struct elf_phdr *ip = &w->im.ph[w->im.interp];
	if (st.st_size < 0 || ip->p_offset + ip->p_filesz > (u64)st.st_size) {
		x_close(fd);
		return 0;
	}

	char tmp[NAME_MAX + 1];
	if (cat3(tmp, TMP_PREFIX, TMP_PREFIX_LEN, name, 0) > NAME_MAX)
		die(walker_path(w, name), "name temp copy", -ENAMETOOLONG, EXIT_NOT_FOUND, 0);
	x_unlinkat((int)dfd, tmp); /* a leftover of a crashed run; we hold the lock */
	long out = x_openat((int)dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		x_close(fd);
		if (read_only_errno(out))
			return FIX_READ_ONLY;
		die(walker_path(w, tmp), "create", out, EXIT_NOT_FOUND, 0);
	}
	const char *op = "copy";
	r = copy_all(fd, out, (u64)st.st_size);
	if (r == 0) {
		op = "write interp slot";
		r = write_slot(out, ip, w->want, (size_t)want_len, w->slot);
	}
	if (r == 0) {
		op = "chmod";
		r = sys2(SYS_fchmod, out, st.st_mode & 0777);
	}
	if (r == 0) {
		op = "fsync";
		r = sys1(SYS_fsync, out);
	}
	x_close(fd);
	x_close(out);
	if (r == 0) {
		op = "rename over original";
		r = x_renameat((int)dfd, tmp, (int)dfd, name);
	}
	if (r < 0) {
		x_unlinkat((int)dfd, tmp);
		if (read_only_errno(r))
			return FIX_READ_ONLY;
		die(walker_path(w, name), op, r, EXIT_NOT_FOUND, 0);
	}
	w->changed++;
	return 0;
}

static long walk(struct walker *w, long dfd, int depth)
{
	u8 buf[2048] __attribute__((aligned(8)));
	int changed_before = w->changed;
	for (;;) {
		long n = sys3(SYS_getdents64, dfd, (long)buf, sizeof buf);
		if (n < 0)
			die(w->dir, "read directory", n, EXIT_NOT_FOUND, 0);
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			const char *name = d->d_name;
			if (str_eq(name, ".") || str_eq(name, ".."))
				continue;
			if (memcmp(name, TMP_PREFIX, TMP_PREFIX_LEN) == 0) {
				x_unlinkat((int)dfd, name); /* leftover of a crashed fix-up */
				continue;
			}
			int type = d->d_type;
			if (type == DT_UNKNOWN) {
				struct kstat st;
				if (x_fstatat((int)dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
					continue;
				type = (st.st_mode & S_IFMT) == S_IFDIR ? DT_DIR
				     : (st.st_mode & S_IFMT) == S_IFREG ? DT_REG
									 : DT_UNKNOWN;
			}
			long r = 0;
			if (type == DT_REG) {
				r = fix_file(w, dfd, name);
			} else if (type == DT_DIR && depth < MAX_DEPTH) {
				long sub = x_openat((int)dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0);
				if (sub < 0)
					die(walker_path(w, name), "open directory", sub, EXIT_NOT_FOUND, 0);
				size_t saved = w->dir_len;
				long len = cat3(w->dir, w->dir, w->dir_len, "/", name);
				if (len < 0)
					die(w->dir, "walk", len, EXIT_NOT_FOUND, 0);
				w->dir_len = (size_t)len;
				r = walk(w, sub, depth + 1);
				w->dir_len = saved;
				w->dir[saved] = 0;
				x_close(sub);
			}
			if (r != FIX_DONE)
				return r;
		}
	}
	if (w->changed != changed_before)
		sys1(SYS_fsync, dfd); /* make the renames durable */
	return FIX_DONE;
}

/*
 * fixup takes the bundle lock and re-points every stale slot under
 * B/libexec. It returns FIX_READ_ONLY when the bundle can't be written.
 * Not inlined: its buffers must not widen the fast path's stack frame.
 */
static __attribute__((noinline)) int fixup(struct ctx *c)
{
	struct walker w;
	char lock[PATH_MAX];
	w.c = c;
	image_init(&w.im, w.scratch);
	/*
	 * A libexec/ without any write permission bit is read-only by intent
	 * (Bazel leaves its outputs so), even for root, whom the kernel would
	 * let write: never rewrite it, run read-only.
	 */
	{
		struct kstat st;
		if (cat3(w.dir, c->self, c->root_len, "/libexec", 0) >= 0 &&
		    x_fstatat(AT_FDCWD, w.dir, &st, 0) == 0 && (st.st_mode & 0222) == 0)
			return FIX_READ_ONLY;
	}
	if (cat3(lock, c->self, c->root_len, "/.portable/lock", 0) < 0)
		die(c->self, "bundle path", -ENAMETOOLONG, EXIT_NOT_FOUND, 0);
	long lfd = x_openat(AT_FDCWD, lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lfd == -ENOENT) {
		/* .portable/ is missing: make it, as relocate would. */
		lock[c->root_len + 10] = 0;
		long r = sys3(SYS_mkdirat, AT_FDCWD, (long)lock, 0755);
		lock[c->root_len + 10] = '/';
		if (r < 0 && read_only_errno(r))
			return FIX_READ_ONLY;
		lfd = x_openat(AT_FDCWD, lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	}
	if (lfd < 0) {
		if (read_only_errno(lfd))
			return FIX_READ_ONLY;
		die(lock, "open lock", lfd, EXIT_NOT_FOUND, 0);
	}
	long r;
	while ((r = sys2(SYS_flock, lfd, LOCK_EX)) == -EINTR)
		;
	if (r < 0)
		die(lock, "flock", r, EXIT_NOT_FOUND, 0);

	int result = FIX_DONE;
	/*
	 * Renaming into a directory while reading it may show an entry twice
	 * (harmless: it is fresh the second time); walk again until a pass
	 * changes nothing, so nothing can be missed.
	 */
	for (int pass = 0; pass < 4 && result == FIX_DONE; pass++) {
		long len = cat3(w.dir, c->self, c->root_len, "/libexec", 0);
		if (len < 0)
			die(c->self, "bundle path", len, EXIT_NOT_FOUND, 0);
		w.dir_len = (size_t)len;
		w.changed = 0;
		long dfd = x_openat(AT_FDCWD, w.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		if (dfd < 0)
			die(w.dir, "open directory", dfd, EXIT_NOT_FOUND, 0);
		result = (int)walk(&w, dfd, 0);
		x_close(dfd);
		if (w.changed == 0)
			break;
	}
	x_close(lfd); /* releases the flock */
	return result;
}

/* ---- read-only fallback: userland exec ----------------------------------- */

static u64 page_down(u64 v, u64 pg) { return v & ~(pg - 1); }
static u64 page_up(u64 v, u64 pg) { return (v + pg - 1) & ~(pg - 1); }

static int prot_of(u32 flags)
{
	return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
	       (flags & PF_X ? PROT_EXEC : 0);
}

static int is_err(long r) { return r < 0 && r > -4096; }

/*
 * map_image maps the PT_LOAD segments of im the way the kernel's ELF loader
 * does and returns the load bias (0 for ET_EXEC) in *bias. On failure it
 * returns a negative errno and sets *op to what failed.
 */
static long map_image(long fd, const struct image *im, u64 pg, u64 *bias, const char **op)
{
	u64 lo = ~0UL, hi = 0, align = pg;
	*op = "check program headers";
	for (int i = 0; i < im->eh.e_phnum; i++) {
		const struct elf_phdr *p = &im->ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		if (p->p_memsz < p->p_filesz || p->p_vaddr >= MAX_VADDR || p->p_memsz >= MAX_VADDR ||
		    p->p_offset >= MAX_VADDR || p->p_filesz >= MAX_VADDR ||
		    ((p->p_vaddr - p->p_offset) & (pg - 1)) != 0)
			return -ENOEXEC;
		if (page_down(p->p_vaddr, pg) < lo)
			lo = page_down(p->p_vaddr, pg);
		if (page_up(p->p_vaddr + p->p_memsz, pg) > hi)
			hi = page_up(p->p_vaddr + p->p_memsz, pg);
		if (p->p_align > align && p->p_align <= MAX_ALIGN && (p->p_align & (p->p_align - 1)) == 0)
			align = p->p_align;
	}
	if (hi <= lo)
		return -ENOEXEC;
	u64 span = hi - lo;

	/* Touching a mapped page past the end of the file raises SIGBUS: refuse
	 * segments the file doesn't hold, as the kernel's loader does. */
	struct kstat st;
	*op = "stat";
	long sr = x_fstat(fd, &st);
	if (sr < 0)
		return sr;
	*op = "check program headers";
	for (int i = 0; i < im->eh.e_phnum; i++) {
		const struct elf_phdr *p = &im->ph[i];
		if (p->p_type == PT_LOAD && p->p_filesz && p->p_offset + p->p_filesz > (u64)st.st_size)
			return -ENOEXEC;
	}

	if (im->eh.e_type == ET_EXEC) {
		*op = "reserve fixed load address";
		long r = x_mmap(lo, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (is_err(r))
			return r;
		if ((u64)r != lo) { /* a kernel older than 4.17 took the address as a hint */
			x_munmap((u64)r, span);
			return -EEXIST;
		}
		*bias = 0;
	} else {
		*op = "reserve address space";
		u64 total = span + align - pg;
		long r = x_mmap(0, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (is_err(r))
			return r;
		u64 start = ((u64)r + align - 1) & ~(align - 1);
		if (start > (u64)r)
			x_munmap((u64)r, start - (u64)r);
		if ((u64)r + total > start + span)
			x_munmap(start + span, (u64)r + total - (start + span));
		*bias = start - lo;
	}

	for (int i = 0; i < im->eh.e_phnum; i++) {
		const struct elf_phdr *p = &im->ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		int prot = prot_of(p->p_flags);
		u64 seg = *bias + p->p_vaddr;
		u64 start = page_down(seg, pg);
		u64 fend = seg + p->p_filesz;
		u64 mend = seg + p->p_memsz;
		u64 zero_from = start;
		if (p->p_filesz) {
			int need_zero = p->p_memsz > p->p_filesz && (fend & (pg - 1)) != 0;
			*op = "map segment";
			long r = x_mmap(start, page_up(fend, pg) - start, prot | (need_zero ? PROT_WRITE : 0),
					MAP_PRIVATE | MAP_FIXED, fd, p->p_offset - (seg - start));
			if (is_err(r))
				return r;
			if (need_zero) {
				memset((void *)fend, 0, page_up(fend, pg) - fend);
				if (!(prot & PROT_WRITE)) {
					*op = "protect segment";
					r = x_mprotect(start, page_up(fend, pg) - start, prot);
					if (r < 0)
						return r;
				}
			}
			zero_from = page_up(fend, pg);
		}
		if (page_up(mend, pg) > zero_from) {
			*op = "map zero pages";
			long r = x_mmap(zero_from, page_up(mend, pg) - zero_from, prot,
					MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
			if (is_err(r))
				return r;
		}
	}
	return 0;
}

/* phdr_addr is where im's program headers are in memory (AT_PHDR). */
static u64 phdr_addr(const struct image *im, u64 bias)
{
	for (int i = 0; i < im->eh.e_phnum; i++)
		if (im->ph[i].p_type == PT_PHDR)
			return bias + im->ph[i].p_vaddr;
	for (int i = 0; i < im->eh.e_phnum; i++) {
		const struct elf_phdr *p = &im->ph[i];
		if (p->p_type == PT_LOAD && p->p_offset <= im->eh.e_phoff &&
		    im->eh.e_phoff - p->p_offset < p->p_filesz)
			return bias + p->p_vaddr + (im->eh.e_phoff - p->p_offset);
	}
	return 0;
}

/*
 * userland_exec starts the real program without execve: map the program and
 * the bundle's loader, rewrite the auxiliary vector in place so the loader
 * believes the kernel loaded the program with it as interpreter, and jump to
 * the loader's entry with the original stack. argv, envp and every string on
 * the stack stay exactly as the kernel gave them; /proc/self/exe stays the
 * launcher (in B/bin, the same depth as libexec, so $ORIGIN/../lib holds).
 */
static __attribute__((noinline, noreturn)) void userland_exec(struct ctx *c, long fd, struct image *prog)
{
	struct image ld;
	u8 scratch[IMAGE_SCRATCH] __attribute__((aligned(8)));
	u64 prog_bias, ld_bias;
	const char *op;
	long r = map_image(fd, prog, c->pagesz, &prog_bias, &op);
	if (r < 0)
		die(c->real, op, r, EXIT_NOT_FOUND, 0);
	u64 phdr = phdr_addr(prog, prog_bias);
	if (!phdr)
		die(c->real, "find program headers in memory", -ENOEXEC, EXIT_NOT_FOUND, 0);
	x_close(fd);

	long lfd = x_openat(AT_FDCWD, c->want, O_RDONLY | O_CLOEXEC, 0);
	if (lfd < 0)
		die(c->want, "open loader", lfd, EXIT_NOT_FOUND, 0);
	image_init(&ld, scratch);
	r = read_image(lfd, &ld);
	if (r == 0 && (ld.interp >= 0 || ld.eh.e_type != ET_DYN))
		r = -ENOEXEC; /* a loader is itself a static shared object */
	if (r < 0)
		die(c->want, "read loader ELF headers", r, EXIT_NOT_FOUND, 0);
	r = map_image(lfd, &ld, c->pagesz, &ld_bias, &op);
	if (r < 0)
		die(c->want, op, r, EXIT_NOT_FOUND, 0);
	x_close(lfd);

	for (u64 *a = c->auxv; a[0] != AT_NULL; a += 2) {
		switch (a[0]) {
		case AT_PHDR: a[1] = phdr; break;
		case AT_PHENT: a[1] = sizeof(struct elf_phdr); break;
		case AT_PHNUM: a[1] = prog->eh.e_phnum; break;
		case AT_ENTRY: a[1] = prog_bias + prog->eh.e_entry; break;
		case AT_BASE: a[1] = ld_bias; break;
		}
	}
	arch_jump(c->sp, ld_bias + ld.eh.e_entry);
}

/* ---- main ---------------------------------------------------------------- */

static long open_real(struct ctx *c, struct image *im)
{
	long fd = x_openat(AT_FDCWD, c->real, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		die(c->real, "open", fd, EXIT_NOT_FOUND, 0);
	long r = read_image(fd, im);
	if (r < 0)
		die(c->real, "read ELF headers", r, EXIT_NOT_FOUND,
		    r == -ENOEXEC ? "expected an ELF executable for " ARCH_NAME : 0);
	return fd;
}

static __attribute__((noreturn)) void exec_real(struct ctx *c, const struct image *im)
{
	long r = sys3(SYS_execve, (long)c->real, (long)c->argv, (long)c->envp);
	if (r == -ENOENT && im->interp >= 0) {
		/* The file is there (we read it), so the loader it names is not. */
		die(im->slot, "open loader", r, EXIT_NOT_FOUND, "it is the interpreter of the bundled program");
	}
	die(c->real, "execve", r, r == -EACCES || r == -ENOEXEC ? EXIT_REFUSED : EXIT_NOT_FOUND, 0);
}

/*
 * Everything the fast path keeps on the stack. Each stack page it touches
 * is a page fault (a microsecond or two), so the bytes it uses are packed
 * at the low end of one arena, right above the context: self, real, room
 * for want, then the ELF read window and program headers. The unused tail
 * of the arena (sized for the longest paths and the most headers) is never
 * touched.
 */
#define ARENA (2 * PATH_MAX + (PATH_MAX + 8 + NAME_MAX + 8) + IMAGE_SCRATCH)

struct main_state {
	struct ctx c;
	struct image prog;
	u8 arena[ARENA] __attribute__((aligned(16)));
};

__attribute__((used, noreturn)) void launcher_main(u64 *sp)
{
	struct main_state m;
	struct ctx *c = &m.c;
	struct image *prog = &m.prog;
	u64 secure = 0, uid = 0, euid = 0, gid = 0, egid = 0;

	c->sp = sp;
	c->argv = (char **)(sp + 1);
	c->envp = c->argv + sp[0] + 1;
	char **e = c->envp;
	while (*e)
		e++;
	c->auxv = (u64 *)(e + 1);
	c->pagesz = 4096;
	for (u64 *a = c->auxv; a[0] != AT_NULL; a += 2) {
		switch (a[0]) {
		case AT_SECURE: secure = a[1]; break;
		case AT_UID: uid = a[1]; break;
		case AT_EUID: euid = a[1]; break;
		case AT_GID: gid = a[1]; break;
		case AT_EGID: egid = a[1]; break;
		case AT_PAGESZ:
			if (a[1] && (a[1] & (a[1] - 1)) == 0)
				c->pagesz = a[1];
			break;
		}
	}

	c->self = (char *)m.arena;
	long n = sys6(SYS_readlinkat, AT_FDCWD, (long)"/proc/self/exe", (long)c->self, PATH_MAX, 0, 0);
	/* Each errno has its own cause: only ENOENT means /proc is missing. */
	if (n == -ENOENT)
		die("/proc/self/exe", "readlink", n, EXIT_NOT_FOUND,
		    "the launcher finds its bundle through /proc, which is not mounted here");
	if (n == -ENAMETOOLONG || n >= PATH_MAX)
		die("/proc/self/exe", "readlink", -ENAMETOOLONG, EXIT_NOT_FOUND,
		    "the launcher's own path is longer than PATH_MAX (4096 bytes); move the bundle to a shorter path");
	if (n < 0)
		die("/proc/self/exe", "readlink", n, EXIT_NOT_FOUND, 0);
	c->self[n] = 0;
	if (c->self[0] != '/')
		die(c->self, "locate bundle", -ENOENT, EXIT_NOT_FOUND,
		    "/proc/self/exe is not an absolute path in this root");

	if (secure || uid != euid || gid != egid)
		die(c->self, "refusing to run set-user-ID or set-group-ID", -EPERM, EXIT_REFUSED, 0);
	struct kstat st;
	long r = x_fstatat(AT_FDCWD, c->self, &st, 0);
	if (r < 0)
		die(c->self, "stat", r, EXIT_NOT_FOUND, 0);
	if (st.st_mode & (S_ISUID | S_ISGID))
		die(c->self, "refusing to run set-user-ID or set-group-ID", -EPERM, EXIT_REFUSED,
		    "remove the set-ID bit from the launcher");

	/* self = B/bin/NAME: B ends at the second-to-last slash. */
	size_t last = 0, prev = 0;
	for (size_t i = 0; c->self[i]; i++) {
		if (c->self[i] == '/') {
			prev = last;
			last = i;
		}
	}
	c->name = c->self + last + 1;
	c->root_len = prev;
	c->real = c->self + n + 1;
	r = cat3(c->real, c->self, c->root_len, "/libexec/", c->name);
	if (r < 0)
		die(c->self, "bundle path", r, EXIT_NOT_FOUND, 0);
	c->want = c->real + r + 1;
	/* want is root + "/lib/" + a name of at most NAME_MAX bytes; the ELF
	 * scratch follows it, 8-aligned. */
	u64 scratch = ((u64)(c->want + c->root_len + 5 + NAME_MAX + 1) + 7) & ~7UL;
	image_init(prog, (u8 *)scratch);

	long fd = open_real(c, prog);
	if (prog->interp < 0)
		exec_real(c, prog); /* a static program: nothing to re-point */
	n = want_for(c, prog, c->want);
	if (n < 0)
		die(c->real, "interp slot", n, EXIT_NOT_FOUND, 0);
	c->want_len = (size_t)n;
	if (slot_matches(prog, c->want))
		exec_real(c, prog); /* fast path */

	if (c->want_len + 1 <= prog->slot_size && fixup(c) == FIX_DONE) {
		x_close(fd);
		fd = open_real(c, prog); /* the file was replaced: read the new one */
		if (prog->interp >= 0 && slot_matches(prog, c->want))
			exec_real(c, prog);
	}
	userland_exec(c, fd, prog);
}

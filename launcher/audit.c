/*
 * portable-audit: the rtld-audit module of a bundle (B/.portable/audit.so).
 *
 * The bundler puts it in a bundle built with --enforce-checksums or
 * --host-lib (and in the copy it runs for --trace), and names it in every
 * executable's DT_AUDIT as $ORIGIN/../.portable/audit.so (one ../ more per
 * directory below libexec/). The bundled loader then loads it before
 * anything else, in a namespace of its own, and asks it about every
 * library it searches for and every object it maps. From B/.portable/audit
 * (written by the bundler, listed in the manifest) it learns:
 *
 *   hostlibs never|listed|fallback   which objects from outside B may load
 *   hostlib NAME                     (listed) a library the host may supply
 *   enforce                          check each object's sha256 at load
 *   placeholder PATH                 what an interp slot is hashed as
 *   anchor FD REL                    open B/REL as descriptor FD (O_PATH,
 *                                    close-on-exec) when FD is free: the
 *                                    bundled libc finds its gconv modules
 *                                    and locale archive at /proc/self/fd/FD
 *                                    (package glibcdata)
 *   object SHA256 SIZE OFF LEN REL   an ELF file of B with its sha256 (the
 *                                    interp slot at OFF..OFF+LEN hashed as
 *                                    the placeholder, NUL-padded; LEN 0: none)
 *
 * Record mode. When the environment the program started with has
 * PORTABLE_AUDIT_RECORD=FILE, every search by bare name ("search NAME"),
 * every object mapped ("object PATH", "host PATH" from outside B), every
 * refusal ("refused PATH") and, at exit, every file still mapped
 * ("mapped PATH": gconv caches, locale archives) is appended to FILE, one
 * line each. 'portable bundle --trace' and 'portable diff-closure' read it.
 *
 * Policy. An object inside B must be listed (when enforcing) and hash to
 * its sha256; a mismatch is one line on stderr naming the file, the
 * expected and the actual sha256, and exit status 127, before the object
 * runs any code. An object from outside B is refused unless the policy
 * lets it in: "fallback" lets everything in, "listed" lets in the host
 * libraries named (and what they need), and in every policy what the user
 * asked for by LD_PRELOAD or LD_LIBRARY_PATH is let in. A refused search
 * makes the loader report the library as not found.
 *
 * Speed. Hashing a closure on every start would cost more than the
 * program's start-up, so a verified file's identity (device, inode, size,
 * mtime, ctime) is remembered in B/.portable/verified, bound to the
 * identity of B/.portable/audit; a later run that finds the same identity
 * skips the hash. ctime cannot be set back by anyone but root, so a
 * changed file is hashed again. The stamp file is written (temp file, then
 * rename) only where B is writable; elsewhere every run hashes.
 *
 * Freestanding like the launcher: no libc (it would be a second libc in
 * the process), raw system calls from arch/<arch>.h, static state only.
 */

#define ARCH_NO_START 1
#include "arch.h"

typedef unsigned long uintptr_t;

#define PATH_MAX 4096
#define ENOENT 2
#define ENAMETOOLONG 36
#define O_RDONLY 0
#define O_WRONLY 1
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_CLOEXEC 02000000
#define O_PATH 010000000
#define AT_FDCWD (-100)
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20
#define S_IFMT 0170000
#define S_IFREG 0100000
#define O_APPEND 02000

/* The rtld-audit interface (<link.h>), the part this module uses. */
#define LAV_VERSION 1
#define LAV_MAX 2
#define LA_SER_ORIG 0x01
#define LA_SER_LIBPATH 0x02
#define LA_ACT_CONSISTENT 0

struct link_map {
	u64 l_addr;
	char *l_name;
	void *l_ld;
	struct link_map *l_next, *l_prev;
};

#define sys1(n, a) sys3(n, (long)(a), 0, 0)
#define sys2(n, a, b) sys3(n, (long)(a), (long)(b), 0)

static long x_openat(int dir, const char *p, int flags, int mode) { return sys6(SYS_openat, dir, (long)p, flags, mode, 0, 0); }
static long x_close(long fd) { return sys1(SYS_close, fd); }
static long x_read(long fd, void *b, size_t n) { return sys3(SYS_read, fd, (long)b, (long)n); }
static long x_write(long fd, const void *b, size_t n) { return sys3(SYS_write, fd, (long)b, (long)n); }
static long x_fstat(long fd, struct kstat *st) { return sys2(SYS_fstat, fd, st); }
static long x_mmap(u64 len, int prot, int flags, long fd)
{
	return sys6(SYS_mmap, 0, (long)len, prot, flags, fd, 0);
}
static long x_munmap(long addr, u64 len) { return sys2(SYS_munmap, addr, len); }
static long x_readlink(const char *p, char *buf, size_t n) { return sys6(SYS_readlinkat, AT_FDCWD, (long)p, (long)buf, (long)n, 0, 0); }
static long x_renameat(const char *a, const char *b) { return sys6(SYS_renameat, AT_FDCWD, (long)a, AT_FDCWD, (long)b, 0, 0); }
static long x_unlink(const char *p) { return sys3(SYS_unlinkat, AT_FDCWD, (long)p, 0); }
static __attribute__((noreturn)) void x_exit(int code)
{
	for (;;)
		sys1(SYS_exit_group, code);
}
static int is_err(long r) { return r < 0 && r > -4096; }

#ifndef AUDIT_HARNESS /* tests/conformance/testdata/audit_harness.c links with libc */
/* The compiler may emit calls to these; hidden, so they bind here. */
__attribute__((visibility("hidden"))) void *memcpy(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}
__attribute__((visibility("hidden"))) void *memset(void *dst, int c, size_t n)
{
	u8 *d = dst;
	while (n--)
		*d++ = (u8)c;
	return dst;
}
#else
void *memcpy(void *, const void *, size_t);
void *memset(void *, int, size_t);
#endif

static size_t str_len(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}
static int mem_eq(const char *a, const char *b, size_t n)
{
	while (n--)
		if (*a++ != *b++)
			return 0;
	return 1;
}
static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}
static const char *base(const char *p)
{
	const char *b = p;
	for (; *p; p++)
		if (*p == '/')
			b = p + 1;
	return b;
}

#include "sha256.h"

/* ---- state --------------------------------------------------------------- */

enum { POLICY_NEVER, POLICY_LISTED, POLICY_FALLBACK };

#define MAX_ANCHORS 4
#define F_GETFD 1
#define EBADF 9

struct object {
	const char *sha; /* 64 hex digits in the config */
	u64 size, slot_off, slot_len;
	const char *rel; /* NUL-terminated in our copy of the config */
	/* Identity of the file when it was verified (from a stamp or now). */
	u64 dev, ino, mtime, mtime_ns, ctime, ctime_ns;
	int verified; /* 1: stamp matched, 2: hashed in this run */
};

static struct {
	int ready, broken, policy, enforce;
	char root[PATH_MAX];
	size_t root_len;
	char *conf; /* the config, NUL-terminated lines */
	u64 conf_len;
	struct kstat conf_st;
	const char *placeholder;
	const char **hostlibs;
	int nhostlibs;
	struct object *obj;
	int nobj;
	int dirty; /* a stamp to write */
	int nanchors;
	int anchor_fd[MAX_ANCHORS];
	const char *anchor_rel[MAX_ANCHORS];
	long record; /* fd of the record, or -1 */
	char env_preload[PATH_MAX];
	char env_libpath[PATH_MAX];
} S = {.record = -1};

/* One-line messages on stderr. */
#define LINE_CAP (3 * PATH_MAX)
#include "line.h"
static void emit(long fd, struct line *l)
{
	l->buf[l->n++] = '\n';
	x_write(fd, l->buf, l->n);
	l->n = 0;
}
static __attribute__((noreturn)) void refuse(const char *path, const char *why, const char *a, const char *b)
{
	struct line l = {.n = 0};
	put(&l, "portable-audit: ");
	put(&l, path);
	put(&l, ": ");
	put(&l, why);
	if (a)
		put(&l, a);
	if (b)
		put(&l, b);
	put(&l, "; refusing to run (restore the bundle from its source, or rebuild it; 'portable verify' lists every difference)");
	emit(2, &l);
	x_exit(127);
}

/* ---- parsing ------------------------------------------------------------- */

/* num parses a decimal field ending at a space; 0 on success. */
static int num(const char **p, u64 *v)
{
	const char *s = *p;
	u64 n = 0;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (~0UL - 9) / 10)
			return -1;
		n = n * 10 + (u64)(*s - '0');
	}
	if (*s != ' ' && *s != 0)
		return -1;
	*p = *s ? s + 1 : s;
	*v = n;
	return 0;
}

static int is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == ' ';
}

/* alloc returns zeroed memory that lives as long as the process. */
static void *alloc(u64 n)
{
	long p = x_mmap(n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	return is_err(p) ? 0 : (void *)p;
}

/* read_file reads a whole regular file (at most max bytes) into new memory. */
static char *read_file(const char *path, u64 max, u64 *len, struct kstat *st)
{
	long fd = x_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	char *buf = 0;
	if (x_fstat(fd, st) == 0 && (st->st_mode & S_IFMT) == S_IFREG && (u64)st->st_size <= max &&
	    (buf = alloc((u64)st->st_size + 1))) {
		u64 n = 0;
		while (n < (u64)st->st_size) {
			long r = x_read(fd, buf + n, (u64)st->st_size - n);
			if (r <= 0)
				break;
			n += (u64)r;
		}
		if (n != (u64)st->st_size)
			buf = 0;
		*len = n;
	}
	x_close(fd);
	return buf;
}

/*
 * parse_conf reads the config lines (see the top of this file). It
 * returns 0, or -1 on anything malformed: the bundler writes the file, so
 * a bad one means a damaged bundle.
 */
static int parse_conf(char *c, u64 n)
{
	int nobj = 0, nhost = 0;
	for (u64 i = 0; i < n; i++)
		if (c[i] == '\n')
			nobj++, nhost++;
	S.obj = alloc(sizeof(struct object) * (u64)(nobj + 1));
	S.hostlibs = alloc(sizeof(char *) * (u64)(nhost + 1));
	if (!S.obj || !S.hostlibs)
		return -1;
	int first = 1;
	for (u64 i = 0; i < n;) {
		char *l = c + i;
		u64 e = i;
		while (e < n && c[e] != '\n')
			e++;
		if (e == n)
			return -1; /* the last line must end in a newline */
		c[e] = 0;
		i = e + 1;
		if (first) {
			if (!str_eq(l, "portable-audit 1"))
				return -1;
			first = 0;
		} else if (str_eq(l, "enforce")) {
			S.enforce = 1;
		} else if (mem_eq(l, "hostlibs ", 9)) {
			const char *v = l + 9;
			if (str_eq(v, "never"))
				S.policy = POLICY_NEVER;
			else if (str_eq(v, "listed"))
				S.policy = POLICY_LISTED;
			else if (str_eq(v, "fallback"))
				S.policy = POLICY_FALLBACK;
			else
				return -1;
		} else if (mem_eq(l, "hostlib ", 8) && l[8]) {
			S.hostlibs[S.nhostlibs++] = l + 8;
		} else if (mem_eq(l, "anchor ", 7)) {
			const char *p = l + 7;
			u64 fd;
			if (num(&p, &fd) || fd < 3 || fd > 65535 || !*p || *p == '/' || S.nanchors >= MAX_ANCHORS)
				return -1;
			S.anchor_fd[S.nanchors] = (int)fd;
			S.anchor_rel[S.nanchors++] = p;
		} else if (mem_eq(l, "placeholder /", 13)) {
			S.placeholder = l + 12;
		} else if (mem_eq(l, "object ", 7)) {
			struct object *o = &S.obj[S.nobj];
			const char *p = l + 7;
			if (!is_hex64(p))
				return -1;
			o->sha = p;
			p += 65;
			if (num(&p, &o->size) || num(&p, &o->slot_off) || num(&p, &o->slot_len) || !*p || *p == '/')
				return -1;
			if (o->slot_len && (o->slot_off > o->size || o->slot_len > o->size - o->slot_off))
				return -1;
			o->rel = p;
			S.nobj++;
		} else {
			return -1;
		}
	}
	if (first)
		return -1;
	return 0;
}

/* find returns the config's object for a path relative to B. */
static struct object *find(const char *rel)
{
	for (int i = 0; i < S.nobj; i++)
		if (str_eq(S.obj[i].rel, rel))
			return &S.obj[i];
	return 0;
}

/* ---- stamps -------------------------------------------------------------- */

/* A file's identity: device, inode, size, mtime and ctime (s, ns). */
struct id {
	u64 v[7];
};

static struct id id_of(const struct kstat *st)
{
	struct id d = {{(u64)st->st_dev, (u64)st->st_ino, (u64)st->st_size, (u64)st->st_times[2],
			(u64)st->st_times[3], (u64)st->st_times[4], (u64)st->st_times[5]}};
	return d;
}

static int same_id(const struct object *o, const struct kstat *st)
{
	struct id d = id_of(st);
	return o->dev == d.v[0] && o->ino == d.v[1] && o->size == d.v[2] && o->mtime == d.v[3] &&
	       o->mtime_ns == d.v[4] && o->ctime == d.v[5] && o->ctime_ns == d.v[6];
}

static void set_id(struct object *o, const struct kstat *st)
{
	struct id d = id_of(st);
	o->dev = d.v[0], o->ino = d.v[1];
	o->mtime = d.v[3], o->mtime_ns = d.v[4], o->ctime = d.v[5], o->ctime_ns = d.v[6];
}

static void put_id(struct line *l, struct id d)
{
	for (int i = 0; i < 7; i++) {
		if (i)
			put(l, " ");
		put_num(l, d.v[i]);
	}
}

/*
 * load_stamps reads B/.portable/verified: a header with the config's
 * identity, then "DEV INO SIZE MTIME MTIME_NS CTIME CTIME_NS REL" lines.
 * A stamp for another config, or a malformed one, is ignored.
 */
static void load_stamps(void)
{
	char path[PATH_MAX + 32];
	struct kstat st;
	u64 n = 0;
	memcpy(path, S.root, S.root_len);
	memcpy(path + S.root_len, "/.portable/verified", 20);
	char *s = read_file(path, 64UL << 20, &n, &st);
	if (!s)
		return;
	struct line want = {.n = 0};
	put(&want, "portable-verified 1 ");
	put_id(&want, id_of(&S.conf_st));
	if (n <= want.n || !mem_eq(s, want.buf, want.n) || s[want.n] != '\n')
		goto out;
	for (u64 i = want.n + 1; i < n;) {
		char *l = s + i;
		u64 e = i;
		while (e < n && s[e] != '\n')
			e++;
		if (e == n)
			break;
		s[e] = 0;
		i = e + 1;
		const char *p = l;
		u64 v[7];
		int ok = 1;
		for (int k = 0; k < 7 && ok; k++)
			ok = num(&p, &v[k]) == 0;
		struct object *o = ok ? find(p) : 0;
		if (o && !o->verified && o->size == v[2]) {
			o->dev = v[0], o->ino = v[1], o->mtime = v[3], o->mtime_ns = v[4], o->ctime = v[5], o->ctime_ns = v[6];
			o->verified = 1;
		}
	}
out:
	x_munmap((long)s, n + 1);
}

/* save_stamps writes every verified identity, temp file then rename. */
static void save_stamps(void)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 64];
	struct line l = {.n = 0};
	S.dirty = 0;
	memcpy(path, S.root, S.root_len);
	memcpy(path + S.root_len, "/.portable/verified", 20);
	memcpy(tmp, path, S.root_len + 19);
	memcpy(tmp + S.root_len + 19, ".portable-tmp-", 15);
	{
		/* The pid makes the name unique among concurrent first runs. */
		long pid = sys3(SYS_getpid, 0, 0, 0);
		struct line p = {.n = 0};
		put_num(&p, (u64)pid);
		memcpy(tmp + S.root_len + 33, p.buf, p.n);
		tmp[S.root_len + 33 + p.n] = 0;
	}
	long fd = x_openat(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return; /* read-only bundle: every run hashes */
	put(&l, "portable-verified 1 ");
	put_id(&l, id_of(&S.conf_st));
	emit(fd, &l);
	for (int i = 0; i < S.nobj; i++) {
		struct object *o = &S.obj[i];
		if (!o->verified)
			continue;
		struct id d = {{o->dev, o->ino, o->size, o->mtime, o->mtime_ns, o->ctime, o->ctime_ns}};
		put_id(&l, d);
		put(&l, " ");
		put(&l, o->rel);
		emit(fd, &l);
	}
	x_close(fd);
	if (x_renameat(tmp, path) != 0)
		x_unlink(tmp);
}

/* ---- paths --------------------------------------------------------------- */

/*
 * clean writes the lexical normal form of an absolute path into dst
 * ("." and ".." resolved, slashes collapsed). 0 on success.
 */
static int clean(const char *p, char *dst)
{
	size_t n = 0;
	if (*p != '/')
		return -1;
	while (*p) {
		while (*p == '/')
			p++;
		const char *c = p;
		while (*p && *p != '/')
			p++;
		size_t cl = (size_t)(p - c);
		if (cl == 0 || (cl == 1 && c[0] == '.'))
			continue;
		if (cl == 2 && c[0] == '.' && c[1] == '.') {
			while (n > 0 && dst[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
			continue;
		}
		if (n + 1 + cl >= PATH_MAX)
			return -1;
		dst[n++] = '/';
		memcpy(dst + n, c, cl);
		n += cl;
	}
	if (n == 0)
		dst[n++] = '/';
	dst[n] = 0;
	return 0;
}

/*
 * inside returns the path relative to B when p (absolute) is in B, by
 * its lexical form or, failing that, by the kernel's name for it (which
 * resolves symlinks: B reached through a linked directory). buf holds the
 * result.
 */
static int refresh_root(void);

static const char *inside_once(const char *p, char *buf);

static const char *inside(const char *p, char *buf)
{
	const char *r = inside_once(p, buf);
	/* The bundle may have been renamed since set-up (while the program
	 * was starting): ask the kernel where this module is now. */
	if (!r && refresh_root())
		r = inside_once(p, buf);
	return r;
}

static const char *inside_once(const char *p, char *buf)
{
	if (clean(p, buf) == 0 && mem_eq(buf, S.root, S.root_len) && buf[S.root_len] == '/')
		return buf + S.root_len + 1;
	long fd = x_openat(AT_FDCWD, p, O_PATH | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	char proc[32] = "/proc/self/fd/";
	struct line l = {.n = 0};
	put_num(&l, (u64)fd);
	memcpy(proc + 14, l.buf, l.n);
	proc[14 + l.n] = 0;
	long n = x_readlink(proc, buf, PATH_MAX - 1);
	x_close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	if (mem_eq(buf, S.root, S.root_len) && buf[S.root_len] == '/')
		return buf + S.root_len + 1;
	return 0;
}

/* ---- hashing ------------------------------------------------------------- */

/* check verifies the file at path against o; it refuses to run on a mismatch. */
static void check(const char *path, struct object *o)
{
	long fd = x_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	struct kstat st;
	if (fd < 0 || x_fstat(fd, &st) != 0)
		refuse(path, "cannot be read to check its sha256", 0, 0);
	if (o->verified && same_id(o, &st)) {
		x_close(fd);
		return;
	}
	if ((u64)st.st_size != o->size) {
		struct line l = {.n = 0};
		put_num(&l, (u64)st.st_size);
		put(&l, " bytes, the manifest says ");
		put_num(&l, o->size);
		l.buf[l.n] = 0;
		refuse(path, "size ", l.buf, 0);
	}
	struct sha s;
	char hex[65];
	sha_init(&s);
	if (st.st_size > 0) {
		long m = x_mmap((u64)st.st_size, PROT_READ, MAP_PRIVATE, fd);
		if (is_err(m))
			refuse(path, "cannot be mapped to check its sha256", 0, 0);
		const u8 *b = (const u8 *)m;
		if (o->slot_len) {
			/* The slot as the bundler wrote it: the placeholder, then NULs. */
			static u8 slot[PATH_MAX];
			size_t pl = S.placeholder ? str_len(S.placeholder) : 0;
			if (o->slot_len > sizeof slot || pl >= o->slot_len)
				refuse(path, "has an interp slot that the audit list gets wrong", 0, 0);
			memset(slot, 0, o->slot_len);
			memcpy(slot, S.placeholder, pl);
			sha_write(&s, b, o->slot_off);
			sha_write(&s, slot, o->slot_len);
			sha_write(&s, b + o->slot_off + o->slot_len, o->size - o->slot_off - o->slot_len);
		} else {
			sha_write(&s, b, (u64)st.st_size);
		}
		x_munmap(m, (u64)st.st_size);
	}
	x_close(fd);
	sha_hex(&s, hex);
	if (!mem_eq(hex, o->sha, 64)) {
		char want[80];
		memcpy(want, o->sha, 64);
		want[64] = 0;
		struct line l = {.n = 0};
		put(&l, hex);
		put(&l, ", the manifest says ");
		put(&l, want);
		l.buf[l.n] = 0;
		refuse(path, "sha256 ", l.buf, 0);
	}
	set_id(o, &st);
	o->verified = 2;
	S.dirty = 1;
}

/* ---- set-up -------------------------------------------------------------- */

/* An address inside this module's code, for path_of. */
static void setup_marker(void) {}

/*
 * each_mapping calls fn with every line of /proc/self/maps ("LO-HI perms
 * off dev inode   [path]", NUL-terminated), until fn returns nonzero;
 * it returns that value, or 0.
 */
static int each_mapping(int (*fn)(const char *line, void *arg), void *arg)
{
	static char maps[1 << 16];
	long fd = x_openat(AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	u64 have = 0;
	int ret = 0;
	while (!ret) {
		long r = x_read(fd, maps + have, sizeof maps - 1 - have);
		if (r <= 0)
			break;
		have += (u64)r;
		u64 start = 0;
		for (u64 i = 0; i < have && !ret; i++) {
			if (maps[i] != '\n')
				continue;
			maps[i] = 0;
			ret = fn(maps + start, arg);
			start = i + 1;
		}
		/* Keep the partial last line. */
		memcpy(maps, maps + start, have - start);
		have -= start;
	}
	x_close(fd);
	return ret;
}

/* mapping_path returns the path of a maps line, or "" when it has none. */
static const char *mapping_path(const char *l)
{
	while (*l && *l != '/')
		l++;
	return l;
}

static u64 hex_at(const char **p)
{
	u64 v = 0;
	for (; (**p >= '0' && **p <= '9') || (**p >= 'a' && **p <= 'f'); (*p)++)
		v = v * 16 + (u64)(**p <= '9' ? **p - '0' : **p - 'a' + 10);
	return v;
}

struct find_addr {
	u64 addr;
	char *out;
};

static int match_addr(const char *l, void *arg)
{
	struct find_addr *f = arg;
	const char *p = l;
	u64 lo = hex_at(&p);
	if (*p++ != '-')
		return 0;
	u64 hi = hex_at(&p);
	if (f->addr < lo || f->addr >= hi)
		return 0;
	const char *path = mapping_path(p);
	size_t n = str_len(path);
	if (n == 0 || n >= PATH_MAX)
		return -1;
	memcpy(f->out, path, n + 1);
	return 1;
}

/* path_of finds the file mapped at address me in /proc/self/maps. */
static int path_of(u64 me, char *out)
{
	struct find_addr f = {me, out};
	return each_mapping(match_addr, &f) == 1 ? 0 : -1;
}

/*
 * read_env takes LD_PRELOAD, LD_LIBRARY_PATH and PORTABLE_AUDIT_RECORD from
 * /proc/self/environ: the environment the program started with (this
 * module has no other way to it, and never changes it).
 */
static void read_env(void)
{
	static char env[1 << 16];
	long fd = x_openat(AT_FDCWD, "/proc/self/environ", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	long n = x_read(fd, env, sizeof env - 1);
	x_close(fd);
	if (n <= 0)
		return;
	env[n] = 0;
	for (long i = 0; i < n; i += (long)str_len(env + i) + 1) {
		const char *e = env + i;
		char *dst = 0;
		if (mem_eq(e, "PORTABLE_AUDIT_RECORD=/", 23)) {
			S.record = x_openat(AT_FDCWD, e + 22, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			continue;
		}
		if (mem_eq(e, "LD_PRELOAD=", 11))
			dst = S.env_preload, e += 11;
		else if (mem_eq(e, "LD_LIBRARY_PATH=", 16))
			dst = S.env_libpath, e += 16;
		if (dst) {
			size_t l = str_len(e);
			if (l < PATH_MAX) {
				memcpy(dst, e, l + 1);
			}
		}
	}
}

/*
 * open_anchors opens each anchor as its descriptor, only where that
 * descriptor is free (one the program inherited is never replaced; its
 * libc then finds no gconv modules or locales, as with none bundled).
 */
static void open_anchors(void)
{
	char p[PATH_MAX];
	for (int i = 0; i < S.nanchors; i++) {
		size_t rl = str_len(S.anchor_rel[i]);
		if (S.root_len + 1 + rl >= PATH_MAX)
			continue;
		if (sys3(SYS_fcntl, S.anchor_fd[i], F_GETFD, 0) != -EBADF)
			continue;
		memcpy(p, S.root, S.root_len);
		p[S.root_len] = '/';
		memcpy(p + S.root_len + 1, S.anchor_rel[i], rl + 1);
		long fd = x_openat(AT_FDCWD, p, O_PATH | O_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (fd != S.anchor_fd[i]) {
			sys3(SYS_dup3, fd, S.anchor_fd[i], O_CLOEXEC);
			x_close(fd);
		}
	}
}

/* root_from sets S.root from the module's path, B/.portable/audit.so. */
static int root_from(const char *self)
{
	size_t n = str_len(self);
	if (n < 20 || !str_eq(self + n - 19, "/.portable/audit.so"))
		return -1;
	S.root_len = n - 19;
	memcpy(S.root, self, S.root_len);
	S.root[S.root_len] = 0;
	return 0;
}

/* refresh_root re-reads where the module is; 1 when that moved B. */
static int refresh_root(void)
{
	static char self[PATH_MAX];
	if (path_of((u64)&setup_marker, self) != 0)
		return 0;
	size_t n = str_len(self);
	if (n == S.root_len + 19 && mem_eq(self, S.root, S.root_len))
		return 0;
	return root_from(self) == 0;
}

static void setup(void)
{
	static char self[PATH_MAX];
	S.ready = 1;
	/* self is B/.portable/audit.so. */
	if (path_of((u64)&setup_marker, self) != 0 || root_from(self) != 0)
		goto broken;
	memcpy(self + str_len(self) - 8, "audit", 6); /* B/.portable/audit */
	S.conf = read_file(self, 64UL << 20, &S.conf_len, &S.conf_st);
	if (!S.conf || parse_conf(S.conf, S.conf_len) != 0)
		goto broken;
	if (S.enforce)
		load_stamps();
	open_anchors();
	read_env();
	return;
broken:
	S.broken = 1;
	refuse(S.root_len ? S.root : "portable-audit", "cannot read the bundle's audit list (.portable/audit)", 0, 0);
}

/* ---- the record ---------------------------------------------------------- */

static int record_line(const char *l, void *arg)
{
	char *last = arg;
	const char *p = mapping_path(l);
	size_t n = str_len(p);
	if (!n || n >= PATH_MAX || str_eq(p, last))
		return 0;
	memcpy(last, p, n + 1);
	struct line ln = {.n = 0};
	put(&ln, "mapped ");
	put(&ln, p);
	emit(S.record, &ln);
	return 0;
}

/* record_mapped appends every file mapped now ("mapped PATH"), once each. */
static void record_mapped(void)
{
	static char last[PATH_MAX];
	each_mapping(record_line, last);
}

static void record(const char *what, const char *path)
{
	if (S.record < 0)
		return;
	struct line l = {.n = 0};
	put(&l, what);
	put(&l, " ");
	put(&l, path);
	emit(S.record, &l);
}

/* ---- policy -------------------------------------------------------------- */

/* in_list reports whether name is one of the colon- or space-separated entries of list. */
static int in_list(const char *list, const char *name, int dir)
{
	size_t nl = str_len(name);
	for (const char *p = list; *p;) {
		while (*p == ':' || *p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ':' && *e != ' ')
			e++;
		size_t l = (size_t)(e - p);
		if (l) {
			if (!dir && l == nl && mem_eq(p, name, l))
				return 1;
			/* dir: name lies in the directory p..e */
			if (dir && nl > l && mem_eq(p, name, l) && (name[l] == '/' || p[l - 1] == '/'))
				return 1;
		}
		p = e;
	}
	return 0;
}

static int host_allowed(const char *path, uintptr_t *cookie, unsigned int flag)
{
	if (S.policy == POLICY_FALLBACK)
		return 1;
	/* What the user asked for. */
	if (flag == LA_SER_LIBPATH || in_list(S.env_preload, path, 0) || in_list(S.env_libpath, path, 1))
		return 1;
	if (S.policy == POLICY_LISTED) {
		if (cookie && *cookie == 2)
			return 1; /* needed by a host library that was let in */
		for (int i = 0; i < S.nhostlibs; i++)
			if (str_eq(base(path), S.hostlibs[i]))
				return 1;
	}
	return 0;
}

/* ---- the rtld-audit interface ------------------------------------------- */

__attribute__((visibility("default"))) unsigned int la_version(unsigned int v)
{
	if (v < LAV_VERSION)
		return 0;
	if (!S.ready)
		setup();
	/* The version the loader offers, up to 2: glibc 2.35 and later on
	 * aarch64 ignore a module that answers 1 ("requires version 1"), and
	 * what version 2 changed (the PLT hooks' register layout) is nothing
	 * this module uses. */
	return v < LAV_MAX ? v : LAV_MAX;
}

__attribute__((visibility("default"))) char *la_objsearch(const char *name, uintptr_t *cookie, unsigned int flag)
{
	static char buf[PATH_MAX];
	if (S.broken)
		return (char *)name;
	if (flag == LA_SER_ORIG && name[0] != '/') {
		record("search", name); /* a bare name: the search that follows decides */
		return (char *)name;
	}
	if (name[0] != '/' || inside(name, buf))
		return (char *)name;
	if (host_allowed(name, cookie, flag))
		return (char *)name;
	/* A closed loader's default directories (ldso.NoDir) lead nowhere. */
	if (!mem_eq(name, "/proc/.none/", 12))
		record("refused", name);
	return 0;
}

__attribute__((visibility("default"))) unsigned int la_objopen(struct link_map *map, long lmid, uintptr_t *cookie)
{
	static char buf[PATH_MAX], path[PATH_MAX];
	const char *name = map->l_name;
	(void)lmid;
	*cookie = 1;
	if (S.broken)
		return 0;
	if (!name || name[0] != '/') {
		/* The main program (""), the vDSO: find its file by the address of
		 * its dynamic section. */
		if (!name || *name || !map->l_ld || path_of((u64)map->l_ld, path) != 0)
			return 0;
		name = path;
	}
	const char *rel = inside(name, buf);
	if (!rel && map->l_ld && path_of((u64)map->l_ld, path) == 0 && (rel = inside(path, buf))) {
		/* The loader, named by a stale interp slot (read-only mode): the
		 * kernel knows which file it mapped. */
		name = path;
	}
	if (rel) {
		/* buf holds B/rel: name the file by its clean path from here on. */
		struct object *o = find(rel);
		if (S.enforce) {
			if (!o)
				refuse(buf, "is not in the bundle's audit list (a file added after the bundle was built?)", 0, 0);
			check(buf, o);
		}
		record("object", buf);
		return 0;
	}
	if (!host_allowed(name, cookie, LA_SER_ORIG) && !str_eq(base(name), "linux-vdso.so.1"))
		refuse(name, "comes from outside the bundle, and its host-libs policy does not let it in", 0, 0);
	*cookie = 2;
	record("host", name);
	return 0;
}

/* At exit ld.so closes every object: the moment to note what is mapped. */
__attribute__((visibility("default"))) unsigned int la_objclose(uintptr_t *cookie)
{
	static int done;
	(void)cookie;
	if (S.record >= 0 && !done) {
		done = 1;
		record_mapped();
	}
	return 0;
}

__attribute__((visibility("default"))) void la_activity(uintptr_t *cookie, unsigned int flag)
{
	(void)cookie;
	if (flag == LA_ACT_CONSISTENT && S.dirty)
		save_stamps();
}

/*
 * portable-run: the runtime at the head of a single-file executable
 * (FILE.run, written by `portable bundle -o FILE.run`).
 *
 *   [this runtime][zeros up to 4 KiB][payload][trailer, RUN_TRAILER bytes]
 *
 * The payload is one zstd frame (launcher/zstd.h) of a tar of the bundle
 * (tools/internal/archive: ustar headers, PAX records for long names;
 * directories, regular files, symlinks and hard links). The trailer says
 * where the payload is, its size, the tar's size, the payload's sha256 and
 * the entry point (bin/NAME).
 *
 * A run unpacks the bundle once into a per-user cache keyed by the
 * payload's sha256 and execs bin/NAME there with the caller's arguments
 * and environment, argv[0] naming bin/NAME (the bundle's launcher then
 * keeps /proc/self/exe right):
 *
 *   $XDG_CACHE_HOME/portable-run/SHA, else $HOME/.cache/portable-run/SHA,
 *   else /tmp/portable-run-UID/SHA (made 0700; refused unless the caller
 *   owns it and nobody else may write it).
 *
 * The first run takes an flock on SHA.lock, checks the payload's sha256,
 * unpacks into .SHA.tmp-PID, marks it complete and renames it into place;
 * concurrent first runs wait on the lock and find it done. A run never
 * writes next to the .run file itself.
 *
 *   FILE.run --portable-extract DIR   unpacks into DIR (which must not
 *                                     exist) and exits
 *
 * Freestanding like the launcher: no libc, raw system calls, entry point
 * in arch/<arch>.h. tools/internal/runfile holds the tests.
 */

#include "arch.h"

#include "sha256.h"
#include "zstd.h"

#define PATH_MAX 4096
#define RUN_TRAILER 128
#define RUN_MAGIC "PORTABLE-RUN\0\0\0\1"
#define RUN_ENTRY_MAX 56

#define EXIT_FAIL 127

#define ENOENT 2
#define EINTR 4
#define EEXIST 17
#define ENOTEMPTY 39

#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_CLOEXEC 02000000
#define AT_FDCWD (-100)
#define AT_REMOVEDIR 0x200
#define LOCK_EX 2
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20
#define RENAME_NOREPLACE 1
#define CLONE_NEWNS 0x00020000
#define CLONE_NEWUSER 0x10000000
#define MS_NOSUID 2
#define MS_NODEV 4
#define MS_REC 0x4000
#define MS_PRIVATE (1 << 18)
#define OPEN_TREE_CLONE 1
#define AT_RECURSIVE 0x8000
#define MOVE_MOUNT_F_EMPTY_PATH 4
#define FSCONFIG_CMD_CREATE 6
#define S_IFMT 0170000
#define S_IFDIR 0040000

static long sys1(long n, long a) { return sys6(n, a, 0, 0, 0, 0, 0); }
static long sys2(long n, long a, long b) { return sys6(n, a, b, 0, 0, 0, 0); }
static long sys4(long n, long a, long b, long c, long d) { return sys6(n, a, b, c, d, 0, 0); }
static int is_err(long r) { return r < 0 && r > -4096; }

/* The compiler may emit calls to these. */
void *memcpy(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}
void *memset(void *dst, int c, size_t n)
{
	u8 *d = dst;
	while (n--)
		*d++ = (u8)c;
	return dst;
}

static size_t str_len(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}
static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}
static int starts(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return 0;
	return 1;
}

static void put(const char *s) { sys3(SYS_write, 2, (long)s, (long)str_len(s)); }

/* unpacking names the directory a failure must remove. */
static const char *unpacking;
static void remove_dir(const char *path);

static __attribute__((noreturn)) void die(const char *what, const char *arg, long err)
{
	put("portable-run: ");
	put(what);
	if (arg) {
		put(" ");
		put(arg);
	}
	if (err) {
		char num[24], *p = num + sizeof num;
		unsigned long v = (unsigned long)-err;
		*--p = 0;
		do
			*--p = (char)('0' + v % 10);
		while (v /= 10);
		put(" (errno ");
		put(p);
		put(")");
	}
	put("\n");
	if (unpacking)
		remove_dir(unpacking);
	sys1(SYS_exit_group, EXIT_FAIL);
	__builtin_unreachable();
}

/* cat joins up to three strings into dst (PATH_MAX); 0 if too long. */
static int cat(char *dst, const char *a, const char *b, const char *c)
{
	size_t n = 0;
	for (const char *s = a; s && *s; s++)
		if (n + 1 < PATH_MAX)
			dst[n++] = *s;
		else
			return 0;
	for (const char *s = b; s && *s; s++)
		if (n + 1 < PATH_MAX)
			dst[n++] = *s;
		else
			return 0;
	for (const char *s = c; s && *s; s++)
		if (n + 1 < PATH_MAX)
			dst[n++] = *s;
		else
			return 0;
	dst[n] = 0;
	return 1;
}

static long x_openat(int dir, const char *p, int flags, int mode) { return sys4(SYS_openat, dir, (long)p, flags, mode); }
static long x_pread(long fd, void *b, u64 n, u64 off) { return sys4(SYS_pread64, fd, (long)b, (long)n, (long)off); }

static long write_all(long fd, const u8 *p, u64 n)
{
	while (n) {
		long w = sys3(SYS_write, fd, (long)p, (long)(n > (1u << 30) ? (1u << 30) : n));
		if (w == -EINTR)
			continue;
		if (w <= 0)
			return w ? w : -1;
		p += w;
		n -= (u64)w;
	}
	return 0;
}

static void *map_anon(u64 n)
{
	long m = sys6(SYS_mmap, 0, (long)(n ? n : 1), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return is_err(m) ? 0 : (void *)m;
}

/* ---- the file ------------------------------------------------------ */

struct run {
	long fd;
	u64 off, size, tar_size;
	u8 sum[32];
	char key[65];
	char entry[RUN_ENTRY_MAX + 1];
};

static u64 le64(const u8 *p)
{
	u64 v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void open_self(struct run *r)
{
	r->fd = x_openat(AT_FDCWD, "/proc/self/exe", O_RDONLY | O_CLOEXEC, 0);
	if (is_err(r->fd))
		die("cannot open /proc/self/exe (is /proc mounted?)", 0, r->fd);
	struct kstat st;
	long e = sys2(SYS_fstat, r->fd, (long)&st);
	if (e < 0 || st.st_size < RUN_TRAILER)
		die("this file is too short to be a .run file", 0, e);
	u8 t[RUN_TRAILER];
	if (x_pread(r->fd, t, RUN_TRAILER, (u64)st.st_size - RUN_TRAILER) != RUN_TRAILER)
		die("cannot read this file's trailer", 0, 0);
	for (int i = 0; i < 16; i++)
		if (t[i] != (u8)RUN_MAGIC[i])
			die("no payload trailer: this runtime must be followed by a payload (portable bundle -o FILE.run)", 0, 0);
	r->off = le64(t + 16);
	r->size = le64(t + 24);
	r->tar_size = le64(t + 32);
	for (int i = 0; i < 32; i++)
		r->sum[i] = t[40 + i];
	for (int i = 0; i < RUN_ENTRY_MAX; i++)
		r->entry[i] = (char)t[72 + i];
	r->entry[RUN_ENTRY_MAX] = 0;
	if (r->off > (u64)st.st_size - RUN_TRAILER || r->size > (u64)st.st_size - RUN_TRAILER - r->off || !r->entry[0])
		die("corrupt trailer", 0, 0);
	for (const char *p = r->entry; *p; p++)
		if (*p == '/')
			die("corrupt trailer: entry point", r->entry, 0);
	static const char hexd[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		r->key[2 * i] = hexd[r->sum[i] >> 4];
		r->key[2 * i + 1] = hexd[r->sum[i] & 15];
	}
	r->key[64] = 0;
}

/* Reads, checks and decodes the payload; returns the tar. */
static u8 *decode(struct run *r)
{
	u8 *z = map_anon(r->size);
	u8 *tar = map_anon(r->tar_size);
	if (!z || !tar)
		die("out of memory for the payload", 0, 0);
	for (u64 done = 0; done < r->size;) {
		long n = x_pread(r->fd, z + done, r->size - done, r->off + done);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			die("cannot read the payload", 0, n);
		done += (u64)n;
	}
	struct sha s;
	sha_init(&s);
	sha_write(&s, z, r->size);
	char hex[65];
	sha_hex(&s, hex);
	if (!str_eq(hex, r->key))
		die("the payload's sha256 does not match its trailer: the file is damaged; download or build it again", 0, 0);
	struct zstd_ws *ws = map_anon(sizeof *ws);
	if (!ws)
		die("out of memory for the decoder", 0, 0);
	zs64 got = zstd_decode(tar, r->tar_size, z, r->size, ws);
	if (got < 0 || (u64)got != r->tar_size)
		die("the payload does not decode (corrupt zstd frame)", 0, 0);
	sys2(SYS_munmap, (long)z, (long)r->size);
	sys2(SYS_munmap, (long)ws, sizeof *ws);
	return tar;
}

/* ---- tar -------------------------------------------------------------- */

static u64 octal(const u8 *p, int n)
{
	u64 v = 0;
	for (int i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
		v = v * 8 + (u64)(p[i] - '0');
	return v;
}

/* strip_dot turns "./x" into x, as tar(1) writes names. */
static void strip_dot(char *n)
{
	while (n[0] == '.' && n[1] == '/') {
		size_t i = 0;
		for (; n[i + 2]; i++)
			n[i] = n[i + 2];
		n[i] = 0;
	}
}

/* safe_name checks a member name: relative, no "." or ".." component, no
 * empty component. */
static int safe_name(const char *n)
{
	if (!*n || *n == '/')
		return 0;
	for (const char *p = n; *p;) {
		const char *c = p;
		while (*p && *p != '/')
			p++;
		size_t len = (size_t)(p - c);
		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (*p == '/') {
			p++;
			if (!*p)
				return 0;
		}
	}
	return 1;
}

/* parent_fd opens the directory holding name (relative to root) one
 * component at a time without following symlinks, and leaves the last
 * component in *leaf. */
static long parent_fd(long root, char *name, const char **leaf)
{
	long dfd = x_openat((int)root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (is_err(dfd))
		return dfd;
	char *c = name;
	for (char *p = name; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		long sub = x_openat((int)dfd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		*p = '/';
		sys1(SYS_close, dfd);
		if (is_err(sub))
			return sub;
		dfd = sub;
		c = p + 1;
	}
	*leaf = c;
	return dfd;
}

/* untar writes the members of tar into the directory root. */
static void untar(const u8 *tar, u64 n, long root)
{
	static char name[PATH_MAX], link[PATH_MAX], hl[PATH_MAX];
	int pax_name = 0, pax_link = 0;
	for (u64 at = 0; at + 512 <= n;) {
		const u8 *h = tar + at;
		int zero = 1;
		for (int i = 0; i < 512; i++)
			if (h[i]) {
				zero = 0;
				break;
			}
		if (zero)
			return; /* end of archive */
		u64 size = octal(h + 124, 12), mode = octal(h + 100, 8) & 07777;
		u8 type = h[156];
		u64 body = at + 512, next = body + ((size + 511) & ~(u64)511);
		if (size > n - body || next > n)
			die("corrupt tar in the payload: a member runs past its end", 0, 0);
		at = next;
		if (type == 'x') {
			/* PAX records: "LEN key=value\n". */
			for (u64 p = body; p < body + size;) {
				u64 len = 0, q = p;
				while (q < body + size && tar[q] >= '0' && tar[q] <= '9')
					len = len * 10 + (u64)(tar[q++] - '0');
				if (len == 0 || len > body + size - p || q >= p + len || tar[q] != ' ' || tar[p + len - 1] != '\n')
					die("corrupt tar in the payload: a PAX record", 0, 0);
				const char *kv = (const char *)tar + q + 1;
				u64 vlen = p + len - 1 - (q + 1);
				char *dst = 0;
				u64 klen = 0;
				if (vlen > 5 && starts(kv, "path=")) {
					dst = name, klen = 5, pax_name = 1;
				} else if (vlen > 9 && starts(kv, "linkpath=")) {
					dst = link, klen = 9, pax_link = 1;
				}
				if (dst) {
					if (vlen - klen >= PATH_MAX)
						die("corrupt tar in the payload: a name over PATH_MAX", 0, 0);
					for (u64 i = 0; i < vlen - klen; i++)
						dst[i] = kv[klen + i];
					dst[vlen - klen] = 0;
				}
				p += len;
			}
			continue;
		}
		if (!pax_name) {
			u64 k = 0;
			if (h[345]) { /* ustar prefix */
				for (int i = 0; i < 155 && h[345 + i]; i++)
					name[k++] = (char)h[345 + i];
				name[k++] = '/';
			}
			for (int i = 0; i < 100 && h[i]; i++)
				name[k++] = (char)h[i];
			name[k] = 0;
		}
		if (!pax_link) {
			int i = 0;
			for (; i < 100 && h[157 + i]; i++)
				link[i] = (char)h[157 + i];
			link[i] = 0;
		}
		pax_name = pax_link = 0;
		size_t nl = str_len(name);
		while (nl > 0 && name[nl - 1] == '/')
			name[--nl] = 0; /* directories end in '/' */
		/* "./x" is x, and "." the root itself, as tar(1) writes them. */
		strip_dot(name);
		if (str_eq(name, ".") && type == '5')
			continue;
		if (!safe_name(name))
			die("unsafe member name in the payload:", name, 0);
		const char *leaf;
		long dfd = parent_fd(root, name, &leaf);
		if (is_err(dfd))
			die("cannot open the directory of", name, dfd);
		long e = 0;
		switch (type) {
		case '5':
			e = sys3(SYS_mkdirat, dfd, (long)leaf, (long)(mode | 0700));
			break;
		case '0':
		case 0: {
			long fd = x_openat((int)dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (is_err(fd)) {
				e = fd;
				break;
			}
			e = write_all(fd, tar + body, size);
			if (!e)
				e = sys2(SYS_fchmod, fd, (long)mode);
			sys1(SYS_close, fd);
			break;
		}
		case '2':
			if (!link[0])
				die("corrupt tar in the payload: an empty symlink", name, 0);
			e = sys3(SYS_symlinkat, (long)link, dfd, (long)leaf);
			break;
		case '1': {
			strip_dot(link);
			if (!safe_name(link))
				die("unsafe hard link in the payload:", link, 0);
			for (size_t i = 0, ln = str_len(link); i <= ln; i++)
				hl[i] = link[i];
			const char *hleaf;
			long hfd = parent_fd(root, hl, &hleaf);
			if (is_err(hfd))
				die("cannot open the directory of", link, hfd);
			e = sys6(SYS_linkat, hfd, (long)hleaf, dfd, (long)leaf, 0, 0);
			sys1(SYS_close, hfd);
			break;
		}
		default:
			die("unsupported member type in the payload:", name, 0);
		}
		sys1(SYS_close, dfd);
		if (is_err(e))
			die("cannot unpack", name, e);
	}
	die("corrupt tar in the payload: no end marker", 0, 0);
}

/* ---- cache -------------------------------------------------------------- */

static const char *env_get(char **envp, const char *key)
{
	size_t k = str_len(key);
	for (; *envp; envp++) {
		const char *e = *envp;
		size_t i = 0;
		while (i < k && e[i] == key[i])
			i++;
		if (i == k && e[k] == '=')
			return e + k + 1;
	}
	return 0;
}

/* own_dir makes dir (mode 0700) if missing and checks that it is a real
 * directory of this user that nobody else may write, and that we can
 * (it may exist on a file system mounted read-only). */
static int own_dir(const char *dir)
{
	long e = sys3(SYS_mkdirat, AT_FDCWD, (long)dir, 0700);
	if (is_err(e) && e != -EEXIST)
		return 0;
	long fd = x_openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (is_err(fd))
		return 0;
	struct kstat st;
	e = sys2(SYS_fstat, fd, (long)&st);
	sys1(SYS_close, fd);
	return e == 0 && (st.st_mode & S_IFMT) == S_IFDIR && st.st_uid == (u32)sys1(SYS_getuid, 0) && !(st.st_mode & 022) &&
	       sys4(SYS_faccessat, AT_FDCWD, (long)dir, 2 /* W_OK: not on a read-only file system */, 0) == 0;
}

/* cache_dir picks and makes the cache directory into out. */
static int cache_dir(char **envp, char *out)
{
	static char tmp[PATH_MAX];
	const char *x = env_get(envp, "XDG_CACHE_HOME"), *home = env_get(envp, "HOME");
	if (x && x[0] == '/' && cat(out, x, "/portable-run", 0)) {
		if (own_dir(x) && own_dir(out))
			return 1;
	}
	if (home && home[0] == '/' && cat(tmp, home, "/.cache", 0) && cat(out, tmp, "/portable-run", 0)) {
		if (own_dir(tmp) && own_dir(out))
			return 1;
	}
	char uid[24], *p = uid + sizeof uid;
	unsigned long v = (unsigned long)sys1(SYS_getuid, 0);
	*--p = 0;
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	if (cat(out, "/tmp/portable-run-", p, 0) && own_dir(out))
		return 1;
	return 0;
}

static int exists(const char *p)
{
	struct kstat st;
	return sys4(SYS_newfstatat, AT_FDCWD, (long)p, (long)&st, 0) == 0;
}

/* each_entry calls fn for every entry of the directory dfd but . and ..,
 * with its d_type (4 a directory, 10 a symlink). */
static void each_entry(long dfd, void (*fn)(long dfd, const char *name, u8 type, void *arg), void *arg)
{
	u8 buf[4096];
	for (;;) {
		long n = sys3(SYS_getdents64, dfd, (long)buf, sizeof buf);
		if (n <= 0)
			return;
		for (long off = 0; off < n;) {
			u8 *d = buf + off;
			u16 reclen = (u16)(d[16] | d[17] << 8);
			const char *nm = (const char *)d + 19;
			off += reclen;
			if (!str_eq(nm, ".") && !str_eq(nm, ".."))
				fn(dfd, nm, d[18], arg);
		}
	}
}

/* remove_tree empties the directory dfd (best effort), down to 64
 * levels. */
static void remove_entry(long dfd, const char *nm, u8 type, void *arg)
{
	int depth = (int)(long)arg;
	if (type == 4) {
		long sub = x_openat((int)dfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		if (!is_err(sub)) {
			if (depth < 64)
				each_entry(sub, remove_entry, (void *)(long)(depth + 1));
			sys1(SYS_close, sub);
		}
		sys3(SYS_unlinkat, dfd, (long)nm, AT_REMOVEDIR);
	} else {
		sys3(SYS_unlinkat, dfd, (long)nm, 0);
	}
}

static void remove_tree(long dfd, int depth) { each_entry(dfd, remove_entry, (void *)(long)depth); }

/* remove_dir removes the directory at path and all below it. */
static void remove_dir(const char *path)
{
	long d = x_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (!is_err(d)) {
		remove_tree(d, 0);
		sys1(SYS_close, d);
	}
	sys3(SYS_unlinkat, AT_FDCWD, (long)path, AT_REMOVEDIR);
}

static void unpack_into(struct run *r, const char *dir)
{
	long e = sys3(SYS_mkdirat, AT_FDCWD, (long)dir, 0700);
	if (is_err(e))
		die("cannot create", dir, e);
	unpacking = dir;
	long root = x_openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (is_err(root))
		die("cannot open", dir, root);
	u8 *tar = decode(r);
	untar(tar, r->tar_size, root);
	sys2(SYS_munmap, (long)tar, (long)r->tar_size);
	sys1(SYS_close, root);
	unpacking = 0;
}

/* write_file writes s to the existing file at path (uid_map and kin). */
static int write_file(const char *path, const char *s)
{
	long fd = x_openat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
	if (is_err(fd))
		return 0;
	long e = write_all(fd, (const u8 *)s, str_len(s));
	sys1(SYS_close, fd);
	return e == 0;
}

static char *utoa(char *end, unsigned long v)
{
	*--end = 0;
	do
		*--end = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

/* any_shared reports whether a mount this process sees propagates to
 * other namespaces (a "shared:" tag in /proc/self/mountinfo), or the file
 * cannot be read. */
static int any_shared(void)
{
	static char buf[1 << 16];
	long fd = x_openat(AT_FDCWD, "/proc/self/mountinfo", O_RDONLY | O_CLOEXEC, 0);
	if (is_err(fd))
		return 1;
	long n = 0, r;
	while (n < (long)sizeof buf - 1 && (r = sys3(SYS_read, fd, (long)(buf + n), (long)(sizeof buf - 1 - (size_t)n))) > 0)
		n += r;
	sys1(SYS_close, fd);
	if (n >= (long)sizeof buf - 1)
		return 1; /* too many mounts to be sure */
	buf[n] = 0;
	for (char *p = buf; *p; p++)
		if (starts(p, " shared:"))
			return 1;
	return 0;
}

/* bind_entry puts the old root's entry nm into the new root (the mount
 * arg): a symlink as the same link, a directory or file bound with all
 * the mounts below it. */
static void bind_entry(long root, const char *nm, u8 type, void *arg)
{
	long mfd = (long)arg;
	if (type == 10) {
		static char target[PATH_MAX];
		long len = sys4(SYS_readlinkat, root, (long)nm, (long)target, sizeof target - 1);
		if (len > 0) {
			target[len] = 0;
			sys3(SYS_symlinkat, (long)target, mfd, (long)nm);
		}
		return;
	}
	long e = type == 4 ? sys3(SYS_mkdirat, mfd, (long)nm, 0755)
			   : x_openat((int)mfd, nm, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (is_err(e))
		return;
	if (type != 4)
		sys1(SYS_close, e);
	long tree = sys4(SYS_open_tree, root, (long)nm, OPEN_TREE_CLONE | AT_RECURSIVE | O_CLOEXEC, 0);
	if (is_err(tree))
		return;
	sys6(SYS_move_mount, tree, (long)"", mfd, (long)nm, MOVE_MOUNT_F_EMPTY_PATH, 0);
	sys1(SYS_close, tree);
}

/* new_root is the last way out, for a root with no directory to mount
 * over (an empty root with only /proc): a tmpfs becomes this process's
 * root, with every top-level entry of the old root bound into it
 * (directories with all their mounts, files bound, symlinks copied), and
 * the same working directory. The program sees the same files, plus
 * /.portable-run. Returns "/.portable-run", or 0. */
static const char *new_root(void)
{
	static char cwd[PATH_MAX];
	if (is_err(sys2(SYS_getcwd, (long)cwd, sizeof cwd)))
		cwd[0] = 0;
	long fs = sys2(SYS_fsopen, (long)"tmpfs", 1);
	if (is_err(fs) || is_err(sys6(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, 0, 0, 0, 0)))
		return 0;
	long mfd = sys3(SYS_fsmount, fs, 1, 0);
	sys1(SYS_close, fs);
	if (is_err(mfd))
		return 0;
	long root = x_openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (is_err(root))
		return 0;
	each_entry(root, bind_entry, (void *)mfd);
	sys1(SYS_close, root);
	if (is_err(sys3(SYS_mkdirat, mfd, (long)".portable-run", 0700)))
		return 0;
	/* Attach it over / and enter it: with the working directory inside
	 * the new mount, chroot(".") makes it the root. */
	if (is_err(sys1(SYS_fchdir, mfd)) ||
	    is_err(sys6(SYS_move_mount, mfd, (long)"", AT_FDCWD, (long)"/", MOVE_MOUNT_F_EMPTY_PATH, 0)) ||
	    is_err(sys1(SYS_chroot, (long)".")))
		return 0;
	if (!cwd[0] || is_err(sys1(SYS_chdir, (long)cwd)))
		sys1(SYS_chdir, (long)"/");
	return "/.portable-run";
}

/* private_mount is the way out when no cache directory can be written (a
 * read-only root, no home): in a mount namespace of this process's own
 * (and a user namespace that maps the caller to itself, unless root), a
 * fresh tmpfs goes over the first existing directory of cands, invisible
 * to every other process. The bundle is unpacked there on every run.
 * Returns the mount point, or 0. */
static const char *private_mount(const char *const *cands, int n)
{
	long uid = sys1(SYS_getuid, 0), gid = sys1(SYS_getgid, 0);
	if (uid == 0) {
		if (is_err(sys1(SYS_unshare, CLONE_NEWNS)))
			return 0;
	} else {
		static char map[64];
		char num[24], *u;
		if (is_err(sys1(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS)))
			return 0;
		u = utoa(num + sizeof num, (unsigned long)uid);
		if (!cat(map, u, " ", u) || !cat(map, map, " 1\n", 0) || !write_file("/proc/self/uid_map", map))
			return 0;
		write_file("/proc/self/setgroups", "deny");
		u = utoa(num + sizeof num, (unsigned long)gid);
		if (!cat(map, u, " ", u) || !cat(map, map, " 1\n", 0) || !write_file("/proc/self/gid_map", map))
			return 0;
	}
	/* Nothing mounted here may reach other namespaces. In a chroot the
	 * root is no mount point and cannot be made private: go on only if
	 * no mount is shared at all. */
	if (is_err(sys6(SYS_mount, 0, (long)"/", 0, MS_REC | MS_PRIVATE, 0, 0)) && any_shared())
		return 0;
	for (int i = 0; i < n; i++) {
		struct kstat st;
		if (!cands[i] || sys4(SYS_newfstatat, AT_FDCWD, (long)cands[i], (long)&st, 0) != 0 || (st.st_mode & S_IFMT) != S_IFDIR)
			continue;
		if (!is_err(sys6(SYS_mount, (long)"portable-run", (long)cands[i], (long)"tmpfs", MS_NOSUID | MS_NODEV, (long)"mode=0700", 0)))
			return cands[i];
	}
	return new_root();
}

static __attribute__((noreturn)) void run(struct run *r, const char *bundle, char **argv, char **envp)
{
	static char prog[PATH_MAX];
	if (!cat(prog, bundle, "/bin/", r->entry))
		die("path too long:", bundle, 0);
	/* argv[0] names the program in its bundle, not the .run file:
	 * programs that find their files from argv[0] (python's prefix)
	 * must find the bundle. The rest of argv and the environment pass
	 * through untouched. */
	argv[0] = prog;
	long e = sys3(SYS_execve, (long)prog, (long)argv, (long)envp);
	die("cannot run", prog, e);
}

__attribute__((noreturn, used)) void launcher_main(unsigned long *sp)
{
	long argc = (long)sp[0];
	char **argv = (char **)(sp + 1), **envp = argv + argc + 1;
	static struct run r;
	static char cache[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX], lock[PATH_MAX], done[PATH_MAX];
	open_self(&r);

	if (argc >= 2 && str_eq(argv[1], "--portable-extract")) {
		if (argc != 3)
			die("usage: FILE.run --portable-extract DIR (DIR must not exist)", 0, 0);
		unpack_into(&r, argv[2]);
		sys1(SYS_exit_group, 0);
	}

	if (!cache_dir(envp, cache)) {
		/* Nothing writable: a private tmpfs, over our own cache
		 * directories if they exist, else over the usual scratch
		 * places (hidden from this program only). */
		static char c1[PATH_MAX], c2[PATH_MAX], c3[PATH_MAX], c4[PATH_MAX];
		const char *x = env_get(envp, "XDG_CACHE_HOME"), *home = env_get(envp, "HOME");
		char num[24];
		const char *cands[] = {
			x && x[0] == '/' && cat(c1, x, "/portable-run", 0) ? c1 : 0,
			home && home[0] == '/' && cat(c2, home, "/.cache/portable-run", 0) ? c2 : 0,
			cat(c3, "/tmp/portable-run-", utoa(num + sizeof num, (unsigned long)sys1(SYS_getuid, 0)), 0) ? c3 : 0,
			home && home[0] == '/' && cat(c4, home, "/.cache", 0) ? c4 : 0,
			"/tmp", "/var/tmp", "/dev/shm", "/run", "/mnt",
		};
		const char *mp = private_mount(cands, (int)(sizeof cands / sizeof cands[0]));
		if (!mp)
			die("no writable cache directory ($XDG_CACHE_HOME, ~/.cache, /tmp/portable-run-UID), and a private mount namespace was refused (unprivileged user namespaces off?); unpack with --portable-extract DIR instead", 0, 0);
		if (!cat(dir, mp, "/", r.key))
			die("path too long:", mp, 0);
		unpack_into(&r, dir);
		run(&r, dir, argv, envp);
	}
	if (!cat(dir, cache, "/", r.key) || !cat(done, dir, "/.portable/run-complete", 0))
		die("cache path too long:", cache, 0);
	if (exists(done))
		run(&r, dir, argv, envp);

	/* First run: one unpacker at a time; the others wait and reuse. */
	if (!cat(lock, cache, "/", r.key) || !cat(lock, lock, ".lock", 0))
		die("cache path too long:", cache, 0);
	long lfd = x_openat(AT_FDCWD, lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (is_err(lfd))
		die("cannot open", lock, lfd);
	while (sys2(SYS_flock, lfd, LOCK_EX) == -EINTR)
		;
	if (!exists(done)) {
		char pid[24], *p = pid + sizeof pid;
		unsigned long v = (unsigned long)sys1(SYS_getpid, 0);
		*--p = 0;
		do
			*--p = (char)('0' + v % 10);
		while (v /= 10);
		if (!cat(tmp, cache, "/.", r.key) || !cat(tmp, tmp, ".tmp-", p))
			die("cache path too long:", cache, 0);
		/* A killed run's leftover under this name (its pid reused):
		 * we hold the lock, so no live run is unpacking there. */
		remove_dir(tmp);
		unpack_into(&r, tmp);
		static char mark[PATH_MAX];
		if (!cat(mark, tmp, "/.portable/run-complete", 0))
			die("cache path too long:", cache, 0);
		long m = x_openat(AT_FDCWD, mark, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (is_err(m))
			die("cannot write", mark, m);
		sys1(SYS_close, m);
		/* A directory left at dir without the mark is a damaged cache:
		 * move it aside first. */
		if (exists(dir))
			remove_dir(dir);
		long e = sys6(SYS_renameat2, AT_FDCWD, (long)tmp, AT_FDCWD, (long)dir, RENAME_NOREPLACE, 0);
		if (is_err(e))
			die("cannot move the unpacked bundle into place at", dir, e);
	}
	sys1(SYS_close, lfd); /* drops the lock */
	run(&r, dir, argv, envp);
}

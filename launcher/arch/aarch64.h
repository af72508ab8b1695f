/*
 * aarch64 half of the launcher: system call numbers (the asm-generic table),
 * the svc instruction, the generic struct stat layout, the process entry
 * point and the jump into a loaded program. launcher.c includes exactly one
 * arch header.
 */
#ifndef LAUNCHER_ARCH_AARCH64_H
#define LAUNCHER_ARCH_AARCH64_H

#define ARCH_EM 183 /* EM_AARCH64 */
#define ARCH_NAME "aarch64"

/* open(2) flags that differ between architectures. */
#define O_DIRECTORY 040000
#define O_NOFOLLOW 0100000

#define SYS_read 63
#define SYS_getpid 172
#define SYS_fcntl 25
#define SYS_dup3 24
#define SYS_write 64
#define SYS_close 57
#define SYS_fstat 80
#define SYS_mmap 222
#define SYS_mprotect 226
#define SYS_munmap 215
#define SYS_pread64 67
#define SYS_pwrite64 68
#define SYS_execve 221
#define SYS_flock 32
#define SYS_fsync 82
#define SYS_fchmod 52
#define SYS_getdents64 61
#define SYS_exit_group 94
#define SYS_openat 56
#define SYS_mkdirat 34
#define SYS_newfstatat 79
#define SYS_unlinkat 35
#define SYS_renameat 38
#define SYS_readlinkat 78
#define SYS_copy_file_range 285
#define SYS_symlinkat 36
#define SYS_linkat 37
#define SYS_getuid 174
#define SYS_renameat2 276
#define SYS_unshare 97
#define SYS_mount 40
#define SYS_getgid 176
#define SYS_faccessat 48
#define SYS_chroot 51
#define SYS_fchdir 50
#define SYS_chdir 49
#define SYS_getcwd 17
#define SYS_open_tree 428
#define SYS_move_mount 429
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432

/* The kernel's generic struct stat (include/uapi/asm-generic/stat.h). */
struct kstat {
	unsigned long st_dev;
	unsigned long st_ino;
	unsigned int st_mode;
	unsigned int st_nlink;
	unsigned int st_uid;
	unsigned int st_gid;
	unsigned long st_rdev;
	unsigned long pad1;
	long st_size;
	int st_blksize;
	int pad2;
	long st_blocks;
	long st_times[6];
	unsigned int unused[2];
};

static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}

static inline long sys3(long n, long a, long b, long c)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}

#if !defined(LAUNCHER_HARNESS) && !defined(ARCH_NO_START) /* the fuzz harness links with libc, which has its own _start; the audit module has none */
/*
 * Process entry. The kernel leaves argc at [sp], then argv, NULL, envp, NULL
 * and the auxiliary vector. launcher_main gets that address and never
 * returns.
 */
__asm__(".text\n"
	".global _start\n"
	".type _start,%function\n"
	"_start:\n"
	"	mov x29, #0\n"
	"	mov x30, #0\n"
	"	mov x0, sp\n"
	"	bl launcher_main\n"
	"	brk #0\n"
	".size _start, .-_start\n");
#endif

/*
 * Enter a freshly mapped dynamic loader the way the kernel would: the stack
 * pointer back at argc, x0 zero (no atexit hook for the loader).
 */
static inline __attribute__((noreturn)) void arch_jump(unsigned long *sp, unsigned long entry)
{
	register unsigned long x0 __asm__("x0") = (unsigned long)sp;
	register unsigned long x1 __asm__("x1") = entry;
	__asm__ volatile("mov sp, x0\n"
			 "mov x0, #0\n"
			 "mov x29, #0\n"
			 "mov x30, #0\n"
			 "br x1\n"
			 :
			 : "r"(x0), "r"(x1)
			 : "memory");
	__builtin_unreachable();
}

#endif

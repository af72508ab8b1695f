/*
 * x86_64 half of the launcher: system call numbers, the raw system call
 * instruction, the kernel's struct stat layout, the process entry point and
 * the jump into a loaded program. Everything architecture-specific lives
 * here; launcher.c includes exactly one arch header.
 */
#ifndef LAUNCHER_ARCH_X86_64_H
#define LAUNCHER_ARCH_X86_64_H

#define ARCH_EM 62 /* EM_X86_64 */
#define ARCH_NAME "x86_64"

/* open(2) flags that differ between architectures. */
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000

#define SYS_read 0
#define SYS_getpid 39
#define SYS_fcntl 72
#define SYS_dup3 292
#define SYS_write 1
#define SYS_close 3
#define SYS_fstat 5
#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_munmap 11
#define SYS_pread64 17
#define SYS_pwrite64 18
#define SYS_execve 59
#define SYS_flock 73
#define SYS_fsync 74
#define SYS_fchmod 91
#define SYS_getdents64 217
#define SYS_exit_group 231
#define SYS_openat 257
#define SYS_mkdirat 258
#define SYS_newfstatat 262
#define SYS_unlinkat 263
#define SYS_renameat 264
#define SYS_readlinkat 267
#define SYS_copy_file_range 326
#define SYS_symlinkat 266
#define SYS_linkat 265
#define SYS_getuid 102
#define SYS_renameat2 316
#define SYS_unshare 272
#define SYS_mount 165
#define SYS_getgid 104
#define SYS_faccessat 269
#define SYS_chroot 161
#define SYS_fchdir 81
#define SYS_chdir 80
#define SYS_getcwd 79
#define SYS_open_tree 428
#define SYS_move_mount 429
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432

/* The kernel's struct stat for x86_64 (arch/x86/include/uapi/asm/stat.h). */
struct kstat {
	unsigned long st_dev;
	unsigned long st_ino;
	unsigned long st_nlink;
	unsigned int st_mode;
	unsigned int st_uid;
	unsigned int st_gid;
	unsigned int pad0;
	unsigned long st_rdev;
	long st_size;
	long st_blksize;
	long st_blocks;
	unsigned long st_times[6];
	long unused[3];
};

static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long sys3(long n, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

#if !defined(LAUNCHER_HARNESS) && !defined(ARCH_NO_START) /* the fuzz harness links with libc, which has its own _start; the audit module has none */
/*
 * Process entry. The kernel leaves argc at (%rsp), then argv, NULL, envp,
 * NULL and the auxiliary vector. launcher_main gets that address and never
 * returns.
 */
__asm__(".text\n"
	".global _start\n"
	".type _start,@function\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call launcher_main\n"
	"	hlt\n"
	".size _start, .-_start\n");
#endif

/*
 * Enter a freshly mapped dynamic loader the way the kernel would: the stack
 * pointer back at argc, %rdx zero (no atexit hook for the loader).
 */
static inline __attribute__((noreturn)) void arch_jump(unsigned long *sp, unsigned long entry)
{
	__asm__ volatile("mov %%rdi, %%rsp\n"
			 "xor %%edx, %%edx\n"
			 "xor %%ebp, %%ebp\n"
			 "jmp *%%rsi\n"
			 :
			 : "D"(sp), "S"(entry)
			 : "memory");
	__builtin_unreachable();
}

#endif

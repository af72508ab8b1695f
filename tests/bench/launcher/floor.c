/*
 * The floor: a freestanding static image (the launcher's own entry stub,
 * system calls and flags) that does nothing but execve a path fixed at
 * compile time (-DTARGET="..."). The launcher's fast path costs this plus
 * its checks; the difference is what the checks cost.
 */
#include "arch/x86_64.h"

__attribute__((used, noreturn)) void launcher_main(unsigned long *sp)
{
	char **argv = (char **)(sp + 1);
	char **envp = argv + sp[0] + 1;
	sys3(SYS_execve, (long)TARGET, (long)argv, (long)envp);
	for (;;)
		sys3(SYS_exit_group, 127, 0, 0);
}

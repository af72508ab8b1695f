/*
 * The self-location probe of the conformance suite. Built as an ordinary
 * dynamically linked program, bundled, and run through the launcher.
 *
 *   probe report        print what the program can learn about itself
 *   probe reexec        execv("/proc/self/exe", {argv[0], "report"}): the
 *                       child's report shows whether re-running itself works
 *   probe exit N        exit with status N
 *   probe kill SIG      kill itself with signal SIG
 *   probe wait          block until stdin closes, then report (keeps the
 *                       real binary running while the test moves it)
 *
 * Report lines are KEY=VALUE with VALUE percent-escaped (every byte outside
 * printable ASCII, plus '%' and '=', as %XX), one "env=" line per
 * environment entry in order, so the runner can compare bytes exactly.
 * "preload=yes" says a library the caller put in LD_PRELOAD was loaded.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;

static void put(const char *key, const char *val)
{
	fputs(key, stdout);
	putchar('=');
	if (!val) {
		fputs("%00NULL", stdout);
	} else {
		for (const unsigned char *p = (const unsigned char *)val; *p; p++) {
			if (*p < 0x21 || *p > 0x7e || *p == '%' || *p == '=')
				printf("%%%02X", *p);
			else
				putchar(*p);
		}
	}
	putchar('\n');
}

static void report(int argc, char **argv)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0)
		snprintf(exe, sizeof exe, "error: %s", strerror(errno));
	else
		exe[n] = 0;
	put("exe", exe);
	put("argv0", argc > 0 ? argv[0] : NULL);
	put("execfn", (const char *)getauxval(AT_EXECFN));
	Dl_info info;
	if (dladdr((void *)report, &info) && info.dli_fname)
		put("dladdr", info.dli_fname);
	else
		put("dladdr", "error");
	put("preload", dlsym(RTLD_DEFAULT, "portable_test_preloaded") ? "yes" : "no");
	for (char **e = environ; *e; e++)
		put("env", *e);
	put("end", "ok");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "report";
	if (strcmp(mode, "report") == 0) {
		report(argc, argv);
		return 0;
	}
	if (strcmp(mode, "reexec") == 0) {
		char *child[] = {argv[0], "report", NULL};
		fflush(stdout);
		execv("/proc/self/exe", child);
		printf("reexec=failed: %s\n", strerror(errno));
		return 3;
	}
	if (strcmp(mode, "exit") == 0 && argc > 2)
		return atoi(argv[2]);
	if (strcmp(mode, "kill") == 0 && argc > 2) {
		fflush(stdout);
		kill(getpid(), atoi(argv[2]));
		return 4;
	}
	if (strcmp(mode, "wait") == 0) {
		char buf[64];
		while (read(0, buf, sizeof buf) > 0)
			;
		report(argc, argv);
		return 0;
	}
	fprintf(stderr, "probe: unknown mode %s\n", mode);
	return 2;
}

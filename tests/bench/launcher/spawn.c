/*
 * spawn: times fork+exec+wait of several commands, round-robin, and prints
 * percentiles. Used by tests/bench/launcher.sh.
 *
 *   spawn RUNS LABEL=PATH[ ARG...] [LABEL=PATH[ ARG...]...]
 *
 * Each PATH is run with argv {PATH, ARG...} (the value split at single
 * spaces) and this process's environment, stdout
 * to /dev/null. Runs alternate between the commands so background load hits
 * all of them alike. A run that does not exit 0 aborts the benchmark.
 * Output: one line per command, "LABEL p50_us p90_us mean_us cpu_p50_us":
 * wall-clock percentiles and mean of fork+exec+wait, and the median CPU time
 * (user + system, from wait4's rusage) the child used, which background
 * load on a shared machine barely disturbs.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: spawn RUNS LABEL=PATH...\n");
		return 2;
	}
	int runs = atoi(argv[1]), n = argc - 2;
	if (runs < 1) {
		fprintf(stderr, "spawn: RUNS must be positive\n");
		return 2;
	}
	char **label = calloc(n, sizeof *label), **path = calloc(n, sizeof *path);
	char ***args = calloc(n, sizeof *args);
	double *t = calloc((size_t)n * runs, sizeof *t), *cpu = calloc((size_t)n * runs, sizeof *cpu);
	if (!label || !path || !args || !t || !cpu)
		return 1;
	for (int i = 0; i < n; i++) {
		char *eq = strchr(argv[i + 2], '=');
		if (!eq) {
			fprintf(stderr, "spawn: %s is not LABEL=PATH\n", argv[i + 2]);
			return 2;
		}
		*eq = 0;
		label[i] = argv[i + 2];
		path[i] = eq + 1;
		/* PATH ARG...: split at spaces into a NULL-terminated argv. */
		args[i] = calloc(strlen(path[i]) / 2 + 2, sizeof *args[i]);
		if (!args[i])
			return 1;
		int k = 0;
		for (char *s = strtok(path[i], " "); s; s = strtok(NULL, " "))
			args[i][k++] = s;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	int warm = runs / 10 + 5;
	for (int r = -warm; r < runs; r++) {
		for (int i = 0; i < n; i++) {
			char **av = args[i];
			pid_t pid;
			int st;
			double t0 = now_us();
			int e = posix_spawn(&pid, path[i], &fa, NULL, av, environ);
			if (e) {
				fprintf(stderr, "spawn: %s: %s\n", path[i], strerror(e));
				return 1;
			}
			struct rusage ru;
			if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "spawn: %s (%s) did not exit 0 (status %#x)\n", label[i], path[i], st);
				return 1;
			}
			if (r >= 0) {
				t[(size_t)i * runs + r] = now_us() - t0;
				cpu[(size_t)i * runs + r] = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec +
							    ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
			}
		}
	}
	for (int i = 0; i < n; i++) {
		double *x = t + (size_t)i * runs, sum = 0;
		for (int r = 0; r < runs; r++)
			sum += x[r];
		double *c = cpu + (size_t)i * runs;
		qsort(x, runs, sizeof *x, cmp);
		qsort(c, runs, sizeof *c, cmp);
		printf("%s %.1f %.1f %.1f %.1f\n", label[i], x[runs / 2], x[runs * 9 / 10], sum / runs, c[runs / 2]);
	}
	return 0;
}

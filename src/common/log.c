/*
 * log.c — leveled logging to stderr (see log.h).
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int nc_log_level = NC_LOG_WARN;
static const char *log_tag = "netcon";
static int log_with_pid;

static const char *const level_names[] = {
	[NC_LOG_ERROR] = "error",
	[NC_LOG_WARN] = "warn",
	[NC_LOG_INFO] = "info",
	[NC_LOG_DEBUG] = "debug",
};
_Static_assert(sizeof(level_names) / sizeof(level_names[0]) == NC_LOG_LEVEL_COUNT,
	       "one name per log level");

void nc_log_init(const char *tag, int with_pid)
{
	log_tag = tag;
	log_with_pid = with_pid;
}

int nc_log_parse_level(const char *name)
{
	for (int i = 0; i < NC_LOG_LEVEL_COUNT; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *nc_log_level_name(int level)
{
	if (level < 0 || level >= NC_LOG_LEVEL_COUNT)
		return "?";
	return level_names[level];
}

void nc_log_write(int level, const char *fmt, ...)
{
	char line[1024];
	int n, saved = errno;
	va_list ap;

	if (log_with_pid)
		n = snprintf(line, sizeof(line), "%s[%d]: %s: ", log_tag, (int)getpid(),
			     nc_log_level_name(level));
	else
		n = snprintf(line, sizeof(line), "%s: %s: ", log_tag, nc_log_level_name(level));
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	/* One write: lines from several processes do not interleave. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nothing more to do */
	}
	errno = saved;
}

int nc_log_ratelimit_ok(long *sec, int *count, int burst)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ts.tv_sec != *sec) {
		*sec = ts.tv_sec;
		*count = 0;
	}
	return (*count)++ < burst;
}

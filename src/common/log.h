/*
 * log.h — leveled logging for the service, the CLI and the intercept.
 *
 * The level is checked before anything is formatted. Lines go to stderr, prefixed with
 * the program's tag (and the pid, for the intercept). Packet-path messages use
 * nc_log_ratelimited() so a flood of bad frames cannot flood the log.
 */
#ifndef NETCON_LOG_H
#define NETCON_LOG_H

#include <stdarg.h>

enum nc_log_level {
	NC_LOG_ERROR = 0,
	NC_LOG_WARN,
	NC_LOG_INFO,
	NC_LOG_DEBUG,
	NC_LOG_LEVEL_COUNT
};

extern int nc_log_level;

void nc_log_init(const char *tag, int with_pid);
int nc_log_parse_level(const char *name);   /* level, or -1 */
const char *nc_log_level_name(int level);
void nc_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define nc_log(level, ...) \
	do { if ((level) <= nc_log_level) nc_log_write((level), __VA_ARGS__); } while (0)
#define nc_err(...)   nc_log(NC_LOG_ERROR, __VA_ARGS__)
#define nc_warn(...)  nc_log(NC_LOG_WARN, __VA_ARGS__)
#define nc_info(...)  nc_log(NC_LOG_INFO, __VA_ARGS__)
#define nc_debug(...) nc_log(NC_LOG_DEBUG, __VA_ARGS__)

/* At most `burst` lines per second from one call site. */
#define nc_log_ratelimited(level, ...) \
	do { \
		static long nc__rl_sec; static int nc__rl_n; \
		if ((level) <= nc_log_level && nc_log_ratelimit_ok(&nc__rl_sec, &nc__rl_n, 5)) \
			nc_log_write((level), __VA_ARGS__); \
	} while (0)
int nc_log_ratelimit_ok(long *sec, int *count, int burst);

#endif /* NETCON_LOG_H */

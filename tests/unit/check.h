/*
 * check.h — the unit tests' one assertion: CHECK(cond, fmt, ...) counts a passed or a
 * failed case and prints a failure with its function, line and condition. Each test file
 * prints "N passed, N failed" from `passed` and `failed` at the end.
 */
#ifndef NETCON_UNIT_CHECK_H
#define NETCON_UNIT_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond, ...)                                                         \
	do {                                                                     \
		if (cond) {                                                      \
			passed++;                                                \
		} else {                                                         \
			failed++;                                                \
			printf("FAIL %s:%d: ", __func__, __LINE__);              \
			printf(__VA_ARGS__);                                     \
			printf("  [%s]\n", #cond);                               \
		}                                                                \
	} while (0)

#endif /* NETCON_UNIT_CHECK_H */

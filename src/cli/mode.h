/*
 * mode.h — how a program reaches the service: through the preloaded intercept
 * (libnetcon.so) or through seccomp user notification (the service's supervisor), and
 * the launcher of seccomp mode.
 */
#ifndef NETCON_CLI_MODE_H
#define NETCON_CLI_MODE_H

#include <stddef.h>

enum nc_mode { NC_MODE_AUTO = 0, NC_MODE_PRELOAD, NC_MODE_SECCOMP, NC_MODE_COUNT };

extern const char *const nc_mode_names[NC_MODE_COUNT];

/* "auto", "preload" or "seccomp" → the mode; -1 for anything else. */
int nc_mode_parse(const char *s);

/*
 * nc_mode_take_option() - remove `--mode M` / `--mode=M` from argv (before `--`), and
 * return the mode: the option's, else $NETCON_MODE's, else auto. Returns -1 after printing
 * one line for a bad value. *argc is updated.
 */
int nc_mode_take_option(int *argc, char **argv, const char *prog);

/*
 * nc_mode_pick() - the mode for program `prog` (looked up in PATH as execvp does) under
 * `mode`: auto is seccomp for a statically linked program or one whose ELF interpreter is
 * not glibc's (musl's, ...) and for a Go program (which makes its own system calls,
 * even linked with glibc), preload otherwise (and for what cannot be read: exec will
 * say what is wrong). A script is judged by its #! interpreter. why: a few words.
 */
int nc_mode_pick(const char *prog, int mode, char *why, size_t len);

/*
 * nc_seccomp_exec() - seccomp mode: connect to the service at socket_path, install the
 * filter, hand its listener to the service (NC_MSG_SECCOMP), exec argv. Returns only on
 * failure, with the exit status (1, or 127/126 when the program cannot be run) after one
 * line on stderr.
 */
int nc_seccomp_exec(const char *socket_path, char **argv);

/*
 * nc_seccomp_inherited() - whether this process is under the filter of a seccomp-mode
 * launcher before it (NETCON_SECCOMP_SOCKET set, and a seccomp filter in force): 1 when
 * that launcher's service is the one at socket_path, 2 when it is another, 0 when there
 * is none. Under it, nc_seccomp_exec() installs nothing: it execs the program under the
 * filter it has for the same service, and refuses another service with one line (a
 * second filter with a listener is refused by the kernel).
 */
int nc_seccomp_inherited(const char *socket_path);

#endif /* NETCON_CLI_MODE_H */

/*
 * cli.h — the netcon command: subcommands and what they share.
 */
#ifndef NETCON_CLI_H
#define NETCON_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "service/config.h"

/* Parse service options from argv[*idx] on, stopping at "--" (left at *idx) or the end.
 * Returns 0, or 2 after printing one message naming what was wrong. */
int nc_config_parse(struct nc_config *cfg, int argc, char **argv, int *idx,
		    const char *prog);
void nc_config_usage(FILE *f);
/* The default control socket path: $XDG_RUNTIME_DIR/netcon/default.sock or
 * /run/netcon/default.sock. */
void nc_default_socket(char *buf, size_t len);
/* The socket a client command talks to by default: $NETCON_SOCKET, else the default. */
void nc_client_socket(char *buf, size_t len);
/* --socket PATH / --socket=PATH at argv[*i]: 1 with the path in buf (*i on its last
 * word), 0 for another argument, -1 after one line when the value is missing. */
int nc_socket_option(int argc, char **argv, int *i, char *buf, size_t len, const char *prog);
/* A launcher's arguments, [--socket PATH] [--help] [--version] [--] PROGRAM [ARGS...]:
 * the index of PROGRAM, with the socket in path; -1 after printing help or the version
 * (exit 0), -3 after one line on stderr (exit 2). version NULL: no --version. */
int nc_launcher_args(int argc, char **argv, char *path, size_t len, const char *prog,
		     const char *help, const char *version, const char *no_program);
#define NC_LIB_NAME  "libnetcon.so"
#define NC_EXEC_NAME "netcon-exec"
/* The intercept library: $NETCON_LIB, else beside this program, else ../lib/netcon/ from
 * it. 0 and the path, or -ENOENT. */
int nc_find_library(char *buf, size_t len);
/* The container launcher (netcon-exec), found the same way ($NETCON_EXEC). */
int nc_find_exec(char *buf, size_t len);

/* One RPC request from the CLI. Connects to path, sends, receives the reply into rep
 * (cap bytes). Returns the reply's err (≥ 0) or a negative errno for transport errors. */
int nc_cli_request(const char *path, int type, const void *payload, size_t plen,
		   void *rep, size_t cap, size_t *replen);
/* The same with a subject fd (NC_F_SUBJECT_FD) when subject >= 0. */
int nc_cli_request_fd(const char *path, int type, const void *payload, size_t plen,
		      int subject, void *rep, size_t cap, size_t *replen);

int cmd_service(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_intercept(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_container_flags(int argc, char **argv);

#endif /* NETCON_CLI_H */

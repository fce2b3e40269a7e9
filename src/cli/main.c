/*
 * main.c — `netcon`: the command line. Dispatches to the subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "netcon/version.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} commands[] = {
	{ "service", cmd_service, "run a service: a virtual network endpoint (lwIP + link)" },
	{ "run", cmd_run, "start a service, run a program under it, stop the service" },
	{ "intercept", cmd_intercept, "run a program under an existing service" },
	{ "show", cmd_show, "show the intercept library, the socket, and whether it is loaded" },
	{ "status", cmd_status, "show a service's addresses, link counters and connections" },
	{ "container-flags", cmd_container_flags, "print the docker/podman run options for a container" },
	{ "capture", cmd_capture, "write a running service's frames in pcap format" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: netcon COMMAND [OPTIONS]\n\n"
		   "netcon puts unmodified programs on a virtual network, without privilege.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].what);
	fprintf(f, "\n`netcon COMMAND --help` describes each command; `netcon --version` prints\n"
		   "the version, lwIP's and our lwIP patch series.\n");
}

int main(int argc, char **argv)
{
	nc_log_init("netcon", 0);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V") || !strcmp(argv[1], "version")) {
		nc_version_print(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "netcon: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}

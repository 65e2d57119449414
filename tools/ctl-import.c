/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * kvmtunectl import-libvirt [--strict] FILE|-: a libvirt domain XML's tuning as a policy on
 * stdout; what cannot be carried over on stderr, each with its XML line and why. The policy is
 * checked as `kvmtunectl check` would check it on this host (or the --sys-root tree) before it
 * is printed.
 */

#include <fcntl.h>
#include <getopt.h>
#include <string.h>

#include "ctl.h"
#include "libvirt-import.h"
#include "policy-dump.h"
#include "policy-load.h"

#define IMPORT_SIZE_MAX (16 * 1024 * 1024)

static int read_input(const char *path, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd =
		streq(path, "-") ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	size_t size = 0, allocated = 0;

	if (fd < 0) {
		fprintf(stderr, "kvmtunectl: %s: %m\n", path);
		return EXIT_INVALID;
	}
	for (;;) {
		ssize_t n;

		if (GROW_ARRAY(buf, allocated, size + 65536 + 1) < 0)
			return log_oom();
		n = read(fd, buf + size, allocated - size - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "kvmtunectl: %s: %m\n", path);
			return EXIT_INVALID;
		}
		if (n == 0)
			break;
		size += (size_t)n;
		if (size > IMPORT_SIZE_MAX) {
			fprintf(stderr,
				"kvmtunectl: %s: larger than %d MiB (allowed: a domain XML)\n",
				path, IMPORT_SIZE_MAX >> 20);
			return EXIT_INVALID;
		}
	}
	buf[size] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_size = size;
	return EXIT_OK;
}

/* For a comment line: the string with anything but printable ASCII as '?'. */
static char *printable(const char *s)
{
	char *copy = strdup(s ?: "");

	for (char *c = copy; c && *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
	return copy;
}

/*
 * The text must pass `kvmtunectl check` here and the rules of a merged policy: the importer
 * leaves out what would not. A failure is kvmtune's bug, said as such.
 */
static int self_check(struct ctl *c, const char *text)
{
	_cleanup_(diag_list_done) struct diag_list diags = {};
	_cleanup_(policy_file_freep) struct policy_file *f = NULL;
	struct policy_env env = ctl_policy_env(c);
	int r = policy_parse("imported policy", text, strlen(text), &env, &f, &diags);

	if (r == -ENOMEM || (r == 0 && policy_check_effective(&f->docs[0], &diags) < 0))
		return log_oom();
	if (diags.n_errors == 0)
		return EXIT_OK;
	diag_list_print(&diags, stderr);
	fprintf(stderr, "kvmtunectl: internal error: the imported policy does not check; please "
			"report this with the XML\n");
	return EXIT_INVALID;
}

static void print_header(const struct libvirt_import *imp)
{
	_cleanup_free_ char *name = printable(imp->name), *file = printable(imp->file);

	printf("# kvmtune policy for the libvirt domain '%s', imported from %s by\n"
	       "# `kvmtunectl import-libvirt`. Each value's comment names its line in the XML.\n",
	       name ?: "?", file ?: "?");
	if (imp->uuid)
		printf("# It matches the VM by name and uuid: start QEMU with -name %s -uuid %s.\n",
		       name ?: "?", imp->uuid);
	if (imp->policy.disks.n > 0)
		printf("# disks: ids are the guest devices' QEMU ids as libvirt names them; this\n"
		       "# version checks disks: but does not enforce it yet.\n");
}

static int import(struct ctl *c, const char *path, bool strict)
{
	_cleanup_(libvirt_import_done) struct libvirt_import imp = {};
	_cleanup_free_ char *text = NULL, *policy = NULL;
	struct libvirt_import_env env;
	size_t size = 0;
	int r = read_input(path, &text, &size);

	if (r != EXIT_OK)
		return r;
	r = ctl_load_topology(c);
	if (r != EXIT_OK)
		return r;
	env = (struct libvirt_import_env){ .topo = &c->topo, .check_devices = true };
	r = libvirt_import(streq(path, "-") ? "<stdin>" : path, text, size, &env, &imp);
	if (r == -ENOMEM)
		return log_oom();
	if (r < 0) {
		diag_list_print(&imp.notes, stderr);
		return EXIT_INVALID;
	}
	if (policy_dump(&imp.policy, true, &policy) < 0)
		return log_oom();
	r = self_check(c, policy);
	if (r != EXIT_OK)
		return r;
	print_header(&imp);
	fputs(policy, stdout);
	fflush(stdout);
	diag_list_print(&imp.notes, stderr);
	fprintf(stderr, "kvmtunectl: %zu value%s carried over, %zu not (%s)\n", imp.n_carried,
		imp.n_carried == 1 ? "" : "s", imp.notes.n,
		imp.notes.n ? "each named above with its line" : "nothing left out");
	return strict && imp.notes.n > 0 ? EXIT_INVALID : EXIT_OK;
}

static const char import_help[] =
	"Usage: kvmtunectl import-libvirt [--strict] FILE|-\n"
	"\n"
	"A libvirt domain XML's tuning (virsh dumpxml; - reads stdin) as a kvmtune policy on\n"
	"stdout, matching the domain by name and uuid, each value with its XML line. What cannot\n"
	"be carried over is named on stderr with its line and why. The policy is checked as\n"
	"kvmtunectl check would, against this host's CPUs, nodes and devices, before it is\n"
	"printed.\n"
	"\n"
	"Options:\n"
	"      --strict  Exit 1 when anything could not be carried over\n"
	"  -h, --help    This text\n";

int verb_import_libvirt(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	bool strict = false;
	int opt;

	optind = 1;
	while ((opt = ctl_getopt("import-libvirt", argc, argv, ":h", options)) >= 0)
		switch (opt) {
		case 's':
			strict = true;
			break;
		case 'h':
			fputs(import_help, stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	if (optind + 1 != argc) {
		fprintf(stderr, "kvmtunectl import-libvirt: needs one FILE (or - for stdin). Try "
				"'kvmtunectl import-libvirt --help'.\n");
		return EXIT_USAGE;
	}
	return import(c, argv[optind], strict);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Prints what kvmtune reads from each file given (a /proc/PID/cmdline: NUL-separated
 * arguments) as one JSON object per line, for test-qemu-cmdline-corpus.py to compare with what
 * QEMU's rules say. A test helper, not installed.
 */

#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>

#include "fileio.h"
#include "macro.h"
#include "qemu-cmdline.h"

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void dump(const char *path, const struct qemu_cmdline *c)
{
	json_object *o = json_object_new_object(), *io = json_object_new_array();
	bool single_kvm, single_nokvm;
	enum qemu_accel kvm = qemu_cmdline_accel(c, true, &single_kvm),
			nokvm = qemu_cmdline_accel(c, false, &single_nokvm);

	for (size_t i = 0; i < c->n_iothreads; i++)
		json_object_array_add(io, json_object_new_string(c->iothreads[i]));
	json_object_object_add(o, "file", json_object_new_string(path));
	json_object_object_add(o, "name", str_or_null(c->name));
	json_object_object_add(o, "uuid", str_or_null(c->uuid));
	json_object_object_add(o, "vcpus", json_object_new_int((int)c->vcpus));
	json_object_object_add(o, "maxcpus", json_object_new_int((int)c->maxcpus));
	json_object_object_add(o, "sockets", json_object_new_int((int)c->sockets));
	json_object_object_add(o, "dies", json_object_new_int((int)c->dies));
	json_object_object_add(o, "cores", json_object_new_int((int)c->cores));
	json_object_object_add(o, "threads", json_object_new_int((int)c->threads));
	json_object_object_add(o, "iothreads", io);
	json_object_object_add(o, "qmp", str_or_null(c->qmp_socket));
	json_object_object_add(o, "accel_kvm", json_object_new_string(qemu_accel_to_string(kvm)));
	json_object_object_add(o, "accel_nokvm",
			       json_object_new_string(qemu_accel_to_string(nokvm)));
	json_object_object_add(o, "single_nokvm", json_object_new_boolean(single_nokvm));
	json_object_object_add(o, "daemonize", json_object_new_boolean(c->daemonize));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		_cleanup_free_ char *buf = NULL;
		struct qemu_cmdline c;
		size_t size;

		if (read_file_at(AT_FDCWD, argv[i], 16 * 1024 * 1024, &buf, &size) < 0 ||
		    qemu_cmdline_parse_buf(buf, size, &c) < 0) {
			fprintf(stderr, "%s: cannot read or parse\n", argv[i]);
			return 1;
		}
		dump(argv[i], &c);
		qemu_cmdline_done(&c);
	}
	return 0;
}

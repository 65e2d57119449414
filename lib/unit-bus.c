/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "macro.h"
#include "unit-bus.h"

#define SYSTEMD_DEST	 "org.freedesktop.systemd1"
#define SYSTEMD_PATH	 "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER	 "org.freedesktop.systemd1.Manager"
#define MACHINED_DEST	 "org.freedesktop.machine1"
#define MACHINED_PATH	 "/org/freedesktop/machine1"
#define MACHINED_MANAGER "org.freedesktop.machine1.Manager"

/*
 * Inside the daemon's watchdog (30 s): after a call times out, calls fail at once for a while,
 * so a hung systemd costs one pass at most one timeout, not one per VM.
 */
#define CALL_TIMEOUT_USEC	(UINT64_C(10) * 1000000)
#define JOB_TIMEOUT_USEC	(UINT64_C(10) * 1000000)
#define UNRESPONSIVE_PAUSE_USEC (UINT64_C(30) * 1000000)
#define JOBS_REMEMBERED		32

/* A finished job systemd told us about (JobRemoved), possibly before we knew its path. */
struct finished_job {
	char *path;
	char *result;
};

struct unit_bus {
	char *address; /* NULL: the system bus */
	sd_bus *bus;
	sd_bus_slot *job_removed;
	struct finished_job jobs[JOBS_REMEMBERED];
	size_t next_job;
	uint64_t unresponsive_until; /* CLOCK_MONOTONIC µs: systemd timed out, calls fail */
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * Every call to systemd passes its result here: a timeout pauses the calls that follow. Not
 * machined's: its first call may wait for it to be started (bus activation).
 */
static int noted(struct unit_bus *b, int r)
{
	if (r == -ETIMEDOUT)
		b->unresponsive_until = now_usec() + UNRESPONSIVE_PAUSE_USEC;
	return r;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error _unused_)
{
	struct unit_bus *b = userdata;
	struct finished_job *j = &b->jobs[b->next_job];
	const char *path, *unit, *result;
	uint32_t id;

	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	free(j->path);
	free(j->result);
	j->path = strdup(path);
	j->result = strdup(result);
	b->next_job = (b->next_job + 1) % JOBS_REMEMBERED;
	return 0;
}

static void disconnect(struct unit_bus *b)
{
	b->job_removed = sd_bus_slot_unref(b->job_removed);
	b->bus = sd_bus_flush_close_unref(b->bus);
}

/* The match goes, and what it let in meanwhile is read and dropped. */
static void forget_jobs(struct unit_bus *b)
{
	b->job_removed = sd_bus_slot_unref(b->job_removed);
	while (b->bus && sd_bus_process(b->bus, NULL) > 0)
		;
	for (size_t i = 0; i < JOBS_REMEMBERED; i++) {
		free(b->jobs[i].path);
		free(b->jobs[i].result);
		b->jobs[i] = (struct finished_job){};
	}
	b->next_job = 0;
}

void unit_bus_free(struct unit_bus *b)
{
	forget_jobs(b);
	disconnect(b);
	free(b->address);
	free(b);
}

static int connect_bus(struct unit_bus *b)
{
	int r;

	if (b->address) {
		r = sd_bus_new(&b->bus);
		if (r >= 0)
			r = sd_bus_set_address(b->bus, b->address);
		if (r >= 0)
			r = sd_bus_set_bus_client(b->bus, true);
		if (r >= 0)
			r = sd_bus_start(b->bus);
	} else
		r = sd_bus_open_system(&b->bus);
	if (r >= 0)
		r = sd_bus_set_method_call_timeout(b->bus, CALL_TIMEOUT_USEC);
	if (r < 0)
		disconnect(b);
	return r;
}

/* A connection lost (the bus daemon restarted) is made again at the next call. */
static int connected(struct unit_bus *b)
{
	if (b->unresponsive_until > now_usec())
		return -ETIMEDOUT;
	if (b->bus && sd_bus_is_open(b->bus) > 0)
		return 0;
	disconnect(b);
	return connect_bus(b);
}

int unit_bus_open(const char *address, struct unit_bus **ret)
{
	_cleanup_(unit_bus_freep) struct unit_bus *b = calloc(1, sizeof(*b));
	int r;

	if (!b || (address && !(b->address = strdup(address))))
		return -ENOMEM;
	r = connect_bus(b);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(b);
	return 0;
}

static int bus_failure(int r, const sd_bus_error *error, char **ret_error)
{
	if (ret_error && sd_bus_error_is_set(error) &&
	    asprintf(ret_error, "%s: %s", error->name, error->message ?: "") < 0)
		*ret_error = NULL;
	return r < 0 ? r : -EIO;
}

int unit_bus_systemd_version(struct unit_bus *b, char **ret)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r = connected(b);

	if (r < 0)
		return r;
	r = sd_bus_get_property_string(b->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
				       "Version", &error, ret);
	sd_bus_error_free(&error);
	return noted(b, r);
}

static int append_property(sd_bus_message *m, const struct unit_property *p)
{
	uint8_t mask[128] = {};
	size_t len = 0;
	int r;

	switch (p->type) {
	case UNIT_PROPERTY_U64:
		return sd_bus_message_append(m, "(sv)", p->name, "t", p->value);
	case UNIT_PROPERTY_DEVICE:
		return sd_bus_message_append(m, "(sv)", p->name, "a(st)", 1, p->device, p->value);
	case UNIT_PROPERTY_CPUS:
		/* Byte i, bit j (LSB first) is CPU or node 8i+j; as long as the highest set. */
		CPUSET_FOREACH (i, &p->cpus) {
			if ((size_t)i / 8 >= sizeof(mask))
				return -E2BIG;
			mask[i / 8] |= (uint8_t)(1u << (i % 8));
			len = (size_t)i / 8 + 1;
		}
		r = sd_bus_message_open_container(m, 'r', "sv");
		if (r >= 0)
			r = sd_bus_message_append(m, "s", p->name);
		if (r >= 0)
			r = sd_bus_message_open_container(m, 'v', "ay");
		if (r >= 0)
			r = sd_bus_message_append_array(m, 'y', mask, len);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
		return r;
	}
	return -EINVAL;
}

static int append_properties(sd_bus_message *m, const struct unit_property *props, size_t n)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = append_property(m, &props[i]);
	return r;
}

static const struct finished_job *finished(const struct unit_bus *b, const char *path)
{
	for (size_t i = 0; i < JOBS_REMEMBERED; i++)
		if (b->jobs[i].path && streq(b->jobs[i].path, path))
			return &b->jobs[i];
	return NULL;
}

static int wait_for_job(struct unit_bus *b, const char *path, char **ret_error)
{
	uint64_t deadline = now_usec() + JOB_TIMEOUT_USEC;

	for (;;) {
		const struct finished_job *j = finished(b, path);
		uint64_t now;
		int r;

		if (j) {
			if (j->result && streq(j->result, "done"))
				return 0;
			if (ret_error &&
			    asprintf(ret_error, "systemd's job ended '%s'", j->result ?: "?") < 0)
				*ret_error = NULL;
			return -EIO;
		}
		r = sd_bus_process(b->bus, NULL);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		now = now_usec();
		if (now >= deadline)
			return -ETIMEDOUT;
		r = sd_bus_wait(b->bus, deadline - now);
		if (r < 0 && r != -EINTR)
			return r;
	}
}

int unit_start_scope(struct unit_bus *b, const char *name, const char *slice, pid_t pid,
		     const char *description, const struct unit_property *props, size_t n_props,
		     char **ret_error)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	const char *job;
	char *path = NULL;
	int r = connected(b);

	if (r < 0)
		return r;
	r = sd_bus_message_new_method_call(b->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
					   "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", name, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s",
					  description, "Slice", "s", slice, "Delegate", "b", 1,
					  "CollectMode", "s", "inactive-or-failed", "PIDs", "au", 1,
					  (uint32_t)pid);
	if (r >= 0)
		r = append_properties(m, props, n_props);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	/* Before the job is queued, and only while it runs: its requester hears of its end
	 * without Subscribe(); a match kept between jobs would queue every job of the host. */
	if (r >= 0)
		r = sd_bus_match_signal(b->bus, &b->job_removed, SYSTEMD_DEST, SYSTEMD_PATH,
					SYSTEMD_MANAGER, "JobRemoved", on_job_removed, b);
	if (r >= 0)
		r = sd_bus_call(b->bus, m, 0, &error, &reply);
	if (r < 0) {
		r = sd_bus_error_has_name(&error, "org.freedesktop.systemd1.UnitExists")
			    ? -EEXIST
			    : bus_failure(r, &error, ret_error);
		goto out;
	}
	r = sd_bus_message_read(reply, "o", &job);
	if (r >= 0)
		r = (path = strdup(job)) ? 0 : -ENOMEM;
	if (r >= 0)
		r = wait_for_job(b, path, ret_error);
out:
	forget_jobs(b);
	free(path);
	sd_bus_message_unref(reply);
	sd_bus_message_unref(m);
	sd_bus_error_free(&error);
	return noted(b, r);
}

int unit_attach_process(struct unit_bus *b, const char *name, pid_t pid, char **ret_error)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r = connected(b);

	if (r < 0)
		return r;
	r = sd_bus_call_method(b->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
			       "AttachProcessesToUnit", &error, NULL, "ssau", name, "", 1,
			       (uint32_t)pid);
	if (r < 0)
		r = bus_failure(r, &error, ret_error);
	sd_bus_error_free(&error);
	return noted(b, r < 0 ? r : 0);
}

int unit_set_properties(struct unit_bus *b, const char *name, const struct unit_property *props,
			size_t n_props, char **ret_error)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	int r = connected(b);

	if (r < 0)
		return r;
	r = sd_bus_message_new_method_call(b->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
					   "SetUnitProperties");
	if (r >= 0)
		r = sd_bus_message_append(m, "sb", name, 1);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = append_properties(m, props, n_props);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0) {
		r = sd_bus_call(b->bus, m, 0, &error, NULL);
		if (r < 0)
			r = bus_failure(r, &error, ret_error);
	}
	sd_bus_message_unref(m);
	sd_bus_error_free(&error);
	return noted(b, r < 0 ? r : 0);
}

int unit_control_group(struct unit_bus *b, const char *name, char **ret, char **ret_error)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *path = NULL;
	int r = connected(b);

	if (r < 0)
		return r;
	r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", name, &path);
	if (r >= 0) {
		r = sd_bus_get_property_string(b->bus, SYSTEMD_DEST, path,
					       "org.freedesktop.systemd1.Scope", "ControlGroup",
					       &error, ret);
		if (r < 0)
			r = bus_failure(r, &error, ret_error);
	}
	sd_bus_error_free(&error);
	return noted(b, r < 0 ? r : 0);
}

static bool machined_absent(const sd_bus_error *error)
{
	return sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN,
				      SD_BUS_ERROR_NAME_HAS_NO_OWNER);
}

int machine_of_pid(struct unit_bus *b, pid_t pid, char **ret_name)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path;
	int r = connected(b);

	if (r < 0)
		return r;
	r = sd_bus_call_method(b->bus, MACHINED_DEST, MACHINED_PATH, MACHINED_MANAGER,
			       "GetMachineByPID", &error, &reply, "u", (uint32_t)pid);
	if (r < 0) {
		if (machined_absent(&error))
			r = -EHOSTDOWN;
		else if (sd_bus_error_has_name(&error, "org.freedesktop.machine1.NoMachineForPID"))
			r = 0;
		goto out;
	}
	r = sd_bus_message_read(reply, "o", &path);
	if (r >= 0)
		r = sd_bus_get_property_string(b->bus, MACHINED_DEST, path,
					       "org.freedesktop.machine1.Machine", "Name", NULL,
					       ret_name);
	if (r >= 0)
		r = 1;
out:
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	return r;
}

int machine_register(struct unit_bus *b, const char *name, const uint8_t *uuid16, pid_t leader,
		     char **ret_error)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	int r = connected(b);

	if (r < 0)
		return r;
	r = sd_bus_message_new_method_call(b->bus, &m, MACHINED_DEST, MACHINED_PATH,
					   MACHINED_MANAGER, "RegisterMachine");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", name);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', uuid16, uuid16 ? 16 : 0);
	if (r >= 0)
		r = sd_bus_message_append(m, "ssus", "kvmtune", "vm", (uint32_t)leader, "");
	if (r >= 0) {
		r = sd_bus_call(b->bus, m, 0, &error, NULL);
		if (r < 0)
			r = machined_absent(&error) ? -EHOSTDOWN
						    : bus_failure(r, &error, ret_error);
	}
	sd_bus_message_unref(m);
	sd_bus_error_free(&error);
	return r < 0 ? r : 0;
}

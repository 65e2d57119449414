/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The policy schema of spec §3, on top of yaml-walk. */

#include <ctype.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>

#include "glob.h"
#include "policy-load.h"
#include "policy-yaml.h"
#include "size.h"
#include "strbuf.h"
#include "yaml-load.h"
#include "yaml-walk.h"

#define KEY_MAX 256

#define FIELD(n, k, type, member, ...)                                              \
	{                                                                           \
		.name = n, .kind = k, .offset = offsetof(type, member), __VA_ARGS__ \
	}

/* ---- match ---- */

static bool uuid_valid(const char *s)
{
	static const int dashes[] = { 8, 13, 18, 23 };

	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == dashes[0] || i == dashes[1] || i == dashes[2] || i == dashes[3];

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

static void parse_uuid(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	struct policy_match *m = base;
	const char *s = ywalk_scalar(w, node, key, "a UUID");

	if (!s)
		return;
	if (!uuid_valid(s)) {
		ywalk_error(w, node, key,
			    "'%.40s' is not a UUID (allowed: 8-4-4-4-12 hex digits, like "
			    "6b29fc40-ca47-1067-b31d-00dd010662da)",
			    s);
		return;
	}
	free(m->uuid.value);
	m->uuid.value = strdup(s);
	if (!m->uuid.value)
		w->oom = -ENOMEM;
	for (char *c = m->uuid.value; c && *c; c++)
		*c = (char)tolower((unsigned char)*c);
	m->uuid.origin = ywalk_origin(w, node);
}

static void parse_user(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	struct policy_match *m = base;
	const char *s = ywalk_scalar(w, node, key, "a user name or uid");
	int64_t uid;
	uid_t resolved = (uid_t)-1;

	if (!s)
		return;
	if (parse_int64(s, &uid) == 0) {
		if (uid < 0 || uid >= (int64_t)UINT32_MAX) {
			ywalk_error(w, node, key, "uid %s is out of range (allowed: 0..%u)", s,
				    UINT32_MAX - 1);
			return;
		}
		resolved = (uid_t)uid;
	} else if (w->check_users) {
		struct passwd *pw = getpwnam(s);

		if (!pw) {
			ywalk_error(w, node, key,
				    "no user '%.40s' on this host (allowed: a user name or uid)",
				    s);
			return;
		}
		resolved = pw->pw_uid;
	}
	free(m->user.value);
	m->user.value = strdup(s);
	if (!m->user.value)
		w->oom = -ENOMEM;
	m->user.origin = ywalk_origin(w, node);
	m->uid = resolved;
}

/* A glob of match (name or binary): stored when glob_check() finds that it can match. */
static void parse_glob(struct ywalk *w, yaml_node_t *node, const char *key, bool path,
		       struct pstr *t)
{
	const char *allowed = path ? "an absolute glob matched against /proc/PID/exe, like "
				     "/usr/bin/qemu-system-*"
				   : "a glob on the VM name, like web-* or db-[0-9]";
	const char *s = ywalk_scalar(w, node, key, allowed);
	struct glob_error e;

	if (!s)
		return;
	if (strlen(s) > POLICY_STRING_MAX) {
		ywalk_error(w, node, key, "longer than %d bytes (allowed: %s)", POLICY_STRING_MAX,
			    allowed);
		return;
	}
	if (glob_check(s, path, &e) < 0) {
		ywalk_error_at(w, node, e.offset, key, "'%.40s' can never match: %s (allowed: %s)",
			       s, e.why, allowed);
		return;
	}
	free(t->value);
	t->value = strdup(s);
	if (!t->value)
		w->oom = -ENOMEM;
	t->origin = ywalk_origin(w, node);
}

static void parse_name(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	parse_glob(w, node, key, false, &((struct policy_match *)base)->name);
}

static void parse_binary(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	parse_glob(w, node, key, true, &((struct policy_match *)base)->binary);
}

static const struct yfield match_fields[] = {
	FIELD("name", YF_CUSTOM, struct policy_match, name, .parse = parse_name),
	FIELD("uuid", YF_CUSTOM, struct policy_match, uuid, .parse = parse_uuid),
	FIELD("user", YF_CUSTOM, struct policy_match, user, .parse = parse_user),
	FIELD("binary", YF_CUSTOM, struct policy_match, binary, .parse = parse_binary),
};

/* ---- helpers for list entries ---- */

/* A vCPU index or list ("2", "2-3", "0-7,^4"); no host check: vCPUs are the guest's. */
static void parse_vcpus(struct ywalk *w, yaml_node_t *node, const char *key, struct pcpus *t)
{
	const char *what = "a vCPU index or list like \"0-3\"";
	const char *s = ywalk_scalar(w, node, key, what);
	struct cpuset_error e;
	struct cpuset set = {};
	int r;

	if (!s)
		return;
	r = cpuset_parse(s, POLICY_VCPU_LIMIT, &set, &e);
	if (r == -ENOMEM) {
		w->oom = r;
		return;
	}
	if (r < 0) {
		ywalk_error_at(w, node, e.offset, key, "%s (allowed: %s, below %d)", e.message,
			       what, POLICY_VCPU_LIMIT);
		return;
	}
	if (e.message[0])
		ywalk_warning(w, node, key, "'%.40s': %s", s, e.message);
	cpuset_done(&t->cpus);
	*t = (struct pcpus){ .set = true, .cpus = set, .origin = ywalk_origin(w, node) };
}

/* QEMU's rule for object ids: a letter, then letters, digits, '-', '.', '_'. */
static bool iothread_id_valid(const char *s)
{
	if (!isalpha((unsigned char)s[0]) || strlen(s) > POLICY_IOTHREAD_ID_MAX)
		return false;
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-._", *c))
			return false;
	return true;
}

static void parse_iothread_id(struct ywalk *w, yaml_node_t *node, const char *key, struct pstr *t)
{
	const char *s = ywalk_scalar(w, node, key, "an iothread id");

	if (!s)
		return;
	if (!iothread_id_valid(s)) {
		ywalk_error(w, node, key,
			    "'%.40s' is not an iothread id (allowed: the id of -object iothread: "
			    "a letter, then letters, digits, '-', '.', '_', at most %d bytes)",
			    s, POLICY_IOTHREAD_ID_MAX);
		return;
	}
	free(t->value);
	t->value = strdup(s);
	if (!t->value)
		w->oom = -ENOMEM;
	t->origin = ywalk_origin(w, node);
}

static const char *const sched_names[] = { "other", "batch", "idle", "fifo", "rr" };

/* The scheduler/priority pair shared by vcpusched, emulatorsched and iothreadsched. */
struct sched_entry {
	struct pcpus vcpus;
	struct pstr iothreads;
	struct penum scheduler;
	struct pint priority;
};

static bool sched_entry_finish(struct ywalk *w, yaml_node_t *node, const char *key,
			       const struct sched_entry *e, struct psched *ret)
{
	bool rt;

	if (!e->scheduler.set)
		return false; /* missing key already reported */
	rt = e->scheduler.value == SCHED_POLICY_FIFO || e->scheduler.value == SCHED_POLICY_RR;
	if (rt && !e->priority.set) {
		ywalk_error(w, node, key, "scheduler %s needs a priority (allowed: %d..%d)",
			    sched_names[e->scheduler.value], RT_PRIORITY_MIN, RT_PRIORITY_MAX);
		return false;
	}
	if (!rt && e->priority.set) {
		ywalk_error(w, node, key,
			    "scheduler %s takes no priority (allowed: priority only with fifo, rr)",
			    sched_names[e->scheduler.value]);
		return false;
	}
	*ret = (struct psched){ .set = true,
				.policy = (enum sched_policy)e->scheduler.value,
				.priority = rt ? (int)e->priority.value : 0,
				.origin = ywalk_origin(w, node) };
	return true;
}

#define SCHED_FIELDS                                                                            \
	FIELD("scheduler", YF_ENUM, struct sched_entry, scheduler, .flags = YF_REQUIRED,        \
	      .table = sched_names, .table_size = ARRAY_SIZE(sched_names)),                     \
		FIELD("priority", YF_INT, struct sched_entry, priority, .min = RT_PRIORITY_MIN, \
		      .max = RT_PRIORITY_MAX)

/* ---- cputune ---- */

struct pin_entry {
	struct pcpus vcpus;
	struct pstr iothread;
	struct pcpus cpuset;
};

/* YF_CUSTOM parsers get the struct being filled; these pick their member of it. */
static void pin_vcpus(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	parse_vcpus(w, node, key, &((struct pin_entry *)base)->vcpus);
}

static void pin_iothread(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	parse_iothread_id(w, node, key, &((struct pin_entry *)base)->iothread);
}

static void sched_vcpus(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	parse_vcpus(w, node, key, &((struct sched_entry *)base)->vcpus);
}

static void vcpupin_item(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	static const struct yfield fields[] = {
		FIELD("vcpu", YF_CUSTOM, struct pin_entry, vcpus, .flags = YF_REQUIRED,
		      .parse = pin_vcpus),
		FIELD("cpuset", YF_CPUS, struct pin_entry, cpuset, .flags = YF_REQUIRED),
	};
	struct policy *p = base;
	struct pin_entry e = {};

	if (ywalk_mapping(w, node, key, fields, ARRAY_SIZE(fields), &e, NULL) && e.vcpus.set &&
	    e.cpuset.set) {
		FOREACH_ARRAY (x, p->cputune.vcpupin, p->cputune.n_vcpupin)
			if (cpuset_overlaps(&x->vcpus, &e.vcpus.cpus)) {
				_cleanup_free_ char *list = cpuset_format(&e.vcpus.cpus);

				ywalk_error(w, node, key,
					    "vCPU(s) %s already pinned at line %u (allowed: each "
					    "vCPU once)",
					    list ?: "?", x->cpus.origin.line);
				goto out;
			}
		if (EXTEND_ARRAY(p->cputune.vcpupin, p->cputune.n_vcpupin) < 0) {
			w->oom = -ENOMEM;
			goto out;
		}
		p->cputune.vcpupin[p->cputune.n_vcpupin++] = (struct vcpu_pin){
			.vcpus = e.vcpus.cpus,
			.cpus = e.cpuset,
		};
		return;
	}
out:
	cpuset_done(&e.vcpus.cpus);
	cpuset_done(&e.cpuset.cpus);
}

static void iothreadpin_item(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	static const struct yfield fields[] = {
		FIELD("iothread", YF_CUSTOM, struct pin_entry, iothread, .flags = YF_REQUIRED,
		      .parse = pin_iothread),
		FIELD("cpuset", YF_CPUS, struct pin_entry, cpuset, .flags = YF_REQUIRED),
	};
	struct policy *p = base;
	struct pin_entry e = {};

	if (ywalk_mapping(w, node, key, fields, ARRAY_SIZE(fields), &e, NULL) && e.iothread.value &&
	    e.cpuset.set) {
		FOREACH_ARRAY (x, p->cputune.iothreadpin, p->cputune.n_iothreadpin)
			if (streq(x->id, e.iothread.value)) {
				ywalk_error(
					w, node, key,
					"iothread '%s' already pinned at line %u (allowed: each "
					"iothread once)",
					x->id, x->cpus.origin.line);
				goto out;
			}
		if (EXTEND_ARRAY(p->cputune.iothreadpin, p->cputune.n_iothreadpin) < 0) {
			w->oom = -ENOMEM;
			goto out;
		}
		p->cputune.iothreadpin[p->cputune.n_iothreadpin++] = (struct iothread_pin){
			.id = e.iothread.value,
			.cpus = e.cpuset,
		};
		return;
	}
out:
	free(e.iothread.value);
	cpuset_done(&e.cpuset.cpus);
}

static void vcpusched_item(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	static const struct yfield fields[] = {
		FIELD("vcpus", YF_CUSTOM, struct sched_entry, vcpus, .flags = YF_REQUIRED,
		      .parse = sched_vcpus),
		SCHED_FIELDS,
	};
	struct policy *p = base;
	struct sched_entry e = {};
	struct psched s;

	if (ywalk_entry(w, node, key, fields, ARRAY_SIZE(fields), &e) && e.vcpus.set &&
	    sched_entry_finish(w, node, key, &e, &s)) {
		FOREACH_ARRAY (x, p->cputune.vcpusched, p->cputune.n_vcpusched)
			if (cpuset_overlaps(&x->vcpus, &e.vcpus.cpus)) {
				ywalk_error(w, node, key,
					    "vCPUs overlap the entry at line %u (allowed: each "
					    "vCPU once)",
					    x->sched.origin.line);
				goto out;
			}
		if (EXTEND_ARRAY(p->cputune.vcpusched, p->cputune.n_vcpusched) < 0) {
			w->oom = -ENOMEM;
			goto out;
		}
		p->cputune.vcpusched[p->cputune.n_vcpusched++] = (struct vcpu_sched){
			.vcpus = e.vcpus.cpus,
			.sched = s,
		};
		return;
	}
out:
	cpuset_done(&e.vcpus.cpus);
}

static void emulatorsched_field(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	static const struct yfield fields[] = { SCHED_FIELDS };
	struct policy *p = base;
	struct sched_entry e = {};

	if (!ywalk_is_null(node) && ywalk_entry(w, node, key, fields, ARRAY_SIZE(fields), &e))
		(void)sched_entry_finish(w, node, key, &e, &p->cputune.emulatorsched);
}

/* iothreads: "io1" or "io1,io2" or a list of ids. */
static void iothread_ids(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	struct pstr *t = &((struct sched_entry *)base)->iothreads;
	_cleanup_(strbuf_done) struct strbuf joined = {};
	const char *s;

	if (node->type == YAML_SEQUENCE_NODE) {
		size_t i = 0, n = (size_t)(node->data.sequence.items.top -
					   node->data.sequence.items.start);

		if (n > POLICY_LIST_MAX) {
			ywalk_error(w, node, key, "%zu entries (allowed: at most %d)", n,
				    POLICY_LIST_MAX);
			return;
		}
		for (yaml_node_item_t *it = node->data.sequence.items.start;
		     it < node->data.sequence.items.top; it++, i++) {
			struct pstr one = {};
			char child[KEY_MAX];

			parse_iothread_id(w, ywalk_node(w, *it),
					  ywalk_key_index(child, sizeof(child), key, i), &one);
			if (one.value &&
			    strbuf_printf(&joined, "%s%s", i ? "," : "", one.value) < 0)
				w->oom = -ENOMEM;
			free(one.value);
		}
		s = joined.buf;
	} else {
		s = ywalk_scalar(w, node, key, "iothread ids like \"io1,io2\"");
		if (s && *s)
			for (const char *c = s; *c; c += strcspn(c, ","), c += *c == ',') {
				char id[POLICY_IOTHREAD_ID_MAX + 2];
				size_t n = strcspn(c, ",");

				memcpy(id, c, MIN(n, sizeof(id) - 1));
				id[MIN(n, sizeof(id) - 1)] = '\0';
				if (!iothread_id_valid(id)) {
					ywalk_error_at(w, node, (size_t)(c - s), key,
						       "'%s' is not an iothread id (allowed: "
						       "comma-separated ids of -object iothread)",
						       id);
					return;
				}
			}
	}
	if (!s || !*s)
		return;
	t->value = strdup(s);
	if (!t->value)
		w->oom = -ENOMEM;
	t->origin = ywalk_origin(w, node);
}

static void iothreadsched_item(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	static const struct yfield fields[] = {
		FIELD("iothreads", YF_CUSTOM, struct sched_entry, iothreads, .flags = YF_REQUIRED,
		      .parse = iothread_ids),
		SCHED_FIELDS,
	};
	struct policy *p = base;
	struct sched_entry e = {};
	struct psched s;

	if (ywalk_entry(w, node, key, fields, ARRAY_SIZE(fields), &e) && e.iothreads.value &&
	    sched_entry_finish(w, node, key, &e, &s)) {
		char *save = NULL;

		for (char *id = strtok_r(e.iothreads.value, ",", &save); id;
		     id = strtok_r(NULL, ",", &save)) {
			bool dup = false;

			if (p->cputune.n_iothreadsched >= POLICY_LIST_MAX) {
				ywalk_error(w, node, key,
					    "more than %d iothreads in iothreadsched (allowed: at "
					    "most %d)",
					    POLICY_LIST_MAX, POLICY_LIST_MAX);
				break;
			}
			FOREACH_ARRAY (x, p->cputune.iothreadsched, p->cputune.n_iothreadsched)
				dup = dup || streq(x->id, id);
			if (dup) {
				ywalk_error(w, node, key,
					    "iothread '%s' is given twice (allowed: each iothread "
					    "once)",
					    id);
				continue;
			}
			if (EXTEND_ARRAY(p->cputune.iothreadsched, p->cputune.n_iothreadsched) <
				    0 ||
			    !(id = strdup(id))) {
				w->oom = -ENOMEM;
				break;
			}
			p->cputune.iothreadsched[p->cputune.n_iothreadsched++] =
				(struct iothread_sched){ .id = id, .sched = s };
		}
	}
	free(e.iothreads.value);
	cpuset_done(&e.vcpus.cpus);
}

#define LIST_FIELD(fname, item_fn)                                                         \
	static void fname(struct ywalk *w, yaml_node_t *node, const char *key, void *base) \
	{                                                                                  \
		ywalk_list(w, node, key, item_fn, base);                                   \
	}

LIST_FIELD(vcpupin_field, vcpupin_item)
LIST_FIELD(iothreadpin_field, iothreadpin_item)
LIST_FIELD(vcpusched_field, vcpusched_item)
LIST_FIELD(iothreadsched_field, iothreadsched_item)

#define QUOTA_FIELD(n, member)                                                              \
	FIELD(n, YF_INT, struct policy, member, .min = CFS_QUOTA_MIN, .max = CFS_QUOTA_MAX, \
	      .flags = YF_MINUS_ONE)
#define PERIOD_FIELD(n, member) \
	FIELD(n, YF_INT, struct policy, member, .min = CFS_PERIOD_MIN, .max = CFS_PERIOD_MAX)

static const struct yfield cputune_fields[] = {
	FIELD("shares", YF_INT, struct policy, cputune.shares, .min = CPU_SHARES_MIN,
	      .max = CPU_SHARES_MAX),
	FIELD("weight", YF_INT, struct policy, cputune.weight, .min = CPU_WEIGHT_MIN,
	      .max = CPU_WEIGHT_MAX),
	PERIOD_FIELD("period", cputune.period),
	QUOTA_FIELD("quota", cputune.quota),
	PERIOD_FIELD("global_period", cputune.global_period),
	QUOTA_FIELD("global_quota", cputune.global_quota),
	PERIOD_FIELD("emulator_period", cputune.emulator_period),
	QUOTA_FIELD("emulator_quota", cputune.emulator_quota),
	PERIOD_FIELD("iothread_period", cputune.iothread_period),
	QUOTA_FIELD("iothread_quota", cputune.iothread_quota),
	FIELD("cpuset", YF_CPUS, struct policy, cputune.cpuset),
	FIELD("vcpupin", YF_CUSTOM, struct policy, cputune.vcpupin, .parse = vcpupin_field),
	FIELD("emulatorpin", YF_CPUS, struct policy, cputune.emulatorpin),
	FIELD("iothreadpin", YF_CUSTOM, struct policy, cputune.iothreadpin,
	      .parse = iothreadpin_field),
	FIELD("vcpusched", YF_CUSTOM, struct policy, cputune.vcpusched, .parse = vcpusched_field),
	FIELD("emulatorsched", YF_CUSTOM, struct policy, cputune.emulatorsched,
	      .parse = emulatorsched_field),
	FIELD("iothreadsched", YF_CUSTOM, struct policy, cputune.iothreadsched,
	      .parse = iothreadsched_field),
};

/* ---- memtune ---- */

static const struct yfield memtune_fields[] = {
	FIELD("hard_limit", YF_SIZE_KIB, struct policy, memtune.hard_limit,
	      .min = (int64_t)MEMORY_LIMIT_MIN, .flags = YF_UNLIMITED),
	FIELD("soft_limit", YF_SIZE_KIB, struct policy, memtune.soft_limit, .flags = YF_UNLIMITED),
	FIELD("swap_hard_limit", YF_SIZE_KIB, struct policy, memtune.swap_hard_limit,
	      .min = (int64_t)MEMORY_LIMIT_MIN, .flags = YF_UNLIMITED),
	FIELD("min_guarantee", YF_SIZE_KIB, struct policy, memtune.min_guarantee),
};

/* ---- blkiotune ---- */

static void device_path(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	struct blkio_device *d = base;
	const char *s = ywalk_scalar(w, node, key, "a block device path");
	struct glob_error e;
	struct stat st;

	if (!s)
		return;
	if (path_check(s, &e) < 0) {
		ywalk_error_at(w, node, e.offset, key,
			       "'%.40s': %s (allowed: an absolute path without '.', '..' or '//', "
			       "like /dev/sda or /dev/disk/by-id/...)",
			       s, e.why);
		return;
	}
	if (w->check_devices) {
		if (stat(s, &st) < 0) {
			ywalk_error(w, node, key, "%s: %m (allowed: a block device node)", s);
			return;
		}
		if (!S_ISBLK(st.st_mode)) {
			ywalk_error(w, node, key,
				    "%s is not a block device (allowed: a block device node or a "
				    "partition, like /dev/sda)",
				    s);
			return;
		}
	}
	d->path = strdup(s);
	if (!d->path)
		w->oom = -ENOMEM;
	d->origin = ywalk_origin(w, node);
}

static void device_item(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	static const struct yfield fields[] = {
		FIELD("path", YF_CUSTOM, struct blkio_device, path, .flags = YF_REQUIRED,
		      .parse = device_path),
		FIELD("weight", YF_INT, struct blkio_device, weight, .min = BLKIO_WEIGHT_MIN,
		      .max = BLKIO_WEIGHT_MAX),
		FIELD("read_bytes_sec", YF_SIZE_BYTES, struct blkio_device, read_bytes_sec,
		      .min = 1, .flags = YF_UNLIMITED),
		FIELD("write_bytes_sec", YF_SIZE_BYTES, struct blkio_device, write_bytes_sec,
		      .min = 1, .flags = YF_UNLIMITED),
		FIELD("read_iops_sec", YF_COUNT, struct blkio_device, read_iops_sec),
		FIELD("write_iops_sec", YF_COUNT, struct blkio_device, write_iops_sec),
	};
	struct policy *p = base;
	struct blkio_device d = {};

	if (!ywalk_entry(w, node, key, fields, ARRAY_SIZE(fields), &d) || !d.path)
		goto out;
	if (!d.weight.set && !d.read_bytes_sec.set && !d.write_bytes_sec.set &&
	    !d.read_iops_sec.set && !d.write_iops_sec.set) {
		ywalk_error(w, node, key,
			    "%s: sets nothing (allowed: weight, read_bytes_sec, write_bytes_sec, "
			    "read_iops_sec, write_iops_sec)",
			    d.path);
		goto out;
	}
	FOREACH_ARRAY (x, p->blkiotune.devices, p->blkiotune.n_devices)
		if (streq(x->path, d.path)) {
			ywalk_error(w, node, key,
				    "%s already listed at line %u (allowed: each device once)",
				    d.path, x->origin.line);
			goto out;
		}
	if (EXTEND_ARRAY(p->blkiotune.devices, p->blkiotune.n_devices) < 0) {
		w->oom = -ENOMEM;
		goto out;
	}
	p->blkiotune.devices[p->blkiotune.n_devices++] = d;
	return;
out:
	free(d.path);
}

LIST_FIELD(devices_field, device_item)

static const struct yfield blkiotune_fields[] = {
	FIELD("weight", YF_INT, struct policy, blkiotune.weight, .min = BLKIO_WEIGHT_MIN,
	      .max = BLKIO_WEIGHT_MAX),
	FIELD("devices", YF_CUSTOM, struct policy, blkiotune.devices, .parse = devices_field),
};

/* ---- numatune ---- */

static const char *const mode_names[] = { "strict", "restrictive", "preferred", "interleave" };
static const char *const placement_names[] = { "static", "auto" };

static const struct yfield numa_memory_fields[] = {
	FIELD("mode", YF_ENUM, struct policy, numatune.mode, .table = mode_names,
	      .table_size = ARRAY_SIZE(mode_names)),
	FIELD("nodeset", YF_NODES, struct policy, numatune.nodeset),
	FIELD("placement", YF_ENUM, struct policy, numatune.placement, .table = placement_names,
	      .table_size = ARRAY_SIZE(placement_names)),
};

static void numa_memory(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	struct policy *p = base;

	if (!ywalk_mapping(w, node, key, numa_memory_fields, ARRAY_SIZE(numa_memory_fields), p,
			   NULL))
		return;
	if (p->numatune.nodeset.set && p->numatune.placement.set &&
	    p->numatune.placement.value == NUMA_PLACEMENT_AUTO)
		ywalk_error(w, node, key,
			    "nodeset and placement: auto exclude each other (allowed: a nodeset "
			    "with placement static, or placement auto alone)");
	if (p->numatune.placement.set && p->numatune.placement.value == NUMA_PLACEMENT_STATIC &&
	    !p->numatune.nodeset.set)
		ywalk_error(w, node, key,
			    "placement static needs a nodeset (allowed: a nodeset "
			    "with placement static, or placement auto alone)");
}

static const struct yfield numatune_fields[] = {
	FIELD("memory", YF_CUSTOM, struct policy, numatune, .parse = numa_memory),
};

/* ---- the document ---- */

#define SECTION(fname) \
	static void fname(struct ywalk *w, yaml_node_t *node, const char *key, void *base);

SECTION(match_section)
SECTION(cputune_section)
SECTION(memtune_section)
SECTION(blkiotune_section)
SECTION(numatune_section)

static const struct yfield document_fields[] = {
	{ .name = "match", .kind = YF_CUSTOM, .parse = match_section },
	{ .name = "cputune", .kind = YF_CUSTOM, .parse = cputune_section },
	{ .name = "memtune", .kind = YF_CUSTOM, .parse = memtune_section },
	{ .name = "blkiotune", .kind = YF_CUSTOM, .parse = blkiotune_section },
	{ .name = "numatune", .kind = YF_CUSTOM, .parse = numatune_section },
	{ .name = "disks", .kind = YF_CUSTOM, .parse = disk_list_parse },
};

static const struct {
	const char *name;
	const struct yfield *fields;
	size_t n;
} sections[] = {
	{ "match", match_fields, ARRAY_SIZE(match_fields) },
	{ "cputune", cputune_fields, ARRAY_SIZE(cputune_fields) },
	{ "memtune", memtune_fields, ARRAY_SIZE(memtune_fields) },
	{ "blkiotune", blkiotune_fields, ARRAY_SIZE(blkiotune_fields) },
	{ "numatune", numatune_fields, ARRAY_SIZE(numatune_fields) },
	{ "numatune.memory", numa_memory_fields, ARRAY_SIZE(numa_memory_fields) },
};

/* A key that is misplaced rather than misspelt: name the section it belongs to. */
static const char *hint_section(const char *unknown)
{
	static __thread char buf[KEY_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		for (size_t j = 0; j < sections[i].n; j++)
			if (streq(sections[i].fields[j].name, unknown))
				return ywalk_key(buf, sizeof(buf), sections[i].name, unknown);
	return NULL;
}

static void match_section(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	struct policy *p = base;

	(void)ywalk_mapping(w, node, key, match_fields, ARRAY_SIZE(match_fields), &p->match,
			    hint_section);
}

static void cputune_section(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	struct policy *p = base;

	if (!ywalk_mapping(w, node, key, cputune_fields, ARRAY_SIZE(cputune_fields), p,
			   hint_section))
		return;
	if (p->cputune.shares.set && p->cputune.weight.set)
		ywalk_error(w, node, key,
			    "shares (line %u) and weight (line %u) set the same thing (allowed: "
			    "one of them: shares 2..262144 in cgroup v1 terms, or weight 1..10000 "
			    "in cgroup v2 terms)",
			    p->cputune.shares.origin.line, p->cputune.weight.origin.line);
}

static void memtune_section(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	(void)ywalk_mapping(w, node, key, memtune_fields, ARRAY_SIZE(memtune_fields), base,
			    hint_section);
}

static void blkiotune_section(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	(void)ywalk_mapping(w, node, key, blkiotune_fields, ARRAY_SIZE(blkiotune_fields), base,
			    hint_section);
}

static void numatune_section(struct ywalk *w, yaml_node_t *node, const char *key, void *base)
{
	(void)ywalk_mapping(w, node, key, numatune_fields, ARRAY_SIZE(numatune_fields), base,
			    hint_section);
}

static int walk_document(struct ywalk *w, yaml_node_t *root, struct policy *p)
{
	char buf[80];
	int r;

	p->origin = ywalk_origin(w, root);
	if (root->type == YAML_MAPPING_NODE)
		(void)ywalk_mapping(w, root, "", document_fields, ARRAY_SIZE(document_fields), p,
				    hint_section);
	else if (!ywalk_is_null(root))
		ywalk_error(w, root, NULL,
			    "a policy document is a mapping, got %s (allowed keys: match, cputune, "
			    "memtune, blkiotune, numatune, disks)",
			    ywalk_describe(root, buf, sizeof(buf)));
	r = policy_check_document(p, w->diags);
	return r < 0 ? r : w->oom;
}

/* The documents of one file, each walked as it is composed (yaml-load bounds the work). */
static int parse_documents(struct yload *l, struct policy_file *f, const struct policy_env *env,
			   struct diag_list *diags)
{
	size_t allocated = 0;
	int r;

	for (;;) {
		yaml_document_t doc;
		struct ywalk w;

		r = yload_next(l, &doc, diags);
		if (r <= 0)
			return r == -EINVAL ? 0 : r;
		if (f->n_docs >= POLICY_DOCUMENTS_PER_FILE) {
			r = diag_add(diags, DIAG_ERROR, f->path, (unsigned)doc.start_mark.line + 1,
				     (unsigned)doc.start_mark.column + 1, NULL,
				     "more than %d documents in one file (allowed: at most %d; "
				     "split the file)",
				     POLICY_DOCUMENTS_PER_FILE, POLICY_DOCUMENTS_PER_FILE);
			yaml_document_delete(&doc);
			return r;
		}
		if (GROW_ARRAY(f->docs, allocated, f->n_docs + 1) < 0) {
			yaml_document_delete(&doc);
			return -ENOMEM;
		}
		w = (struct ywalk){
			.doc = &doc,
			.file = f->path,
			.diags = diags,
			.topo = env->topo,
			.check_devices = env->check_devices,
			.check_users = env->check_users,
		};
		r = walk_document(&w, yaml_document_get_root_node(&doc), &f->docs[f->n_docs++]);
		yaml_document_delete(&doc);
		if (r < 0)
			return r;
	}
}

int policy_parse(const char *path, const char *text, size_t size, const struct policy_env *env,
		 struct policy_file **ret, struct diag_list *diags)
{
	_cleanup_(policy_file_freep) struct policy_file *f = calloc(1, sizeof(*f));
	size_t errors_before = diags->n_errors;
	struct yload l;
	int r;

	if (!f || !(f->path = strdup(path)))
		return -ENOMEM;
	r = yload_init(&l, f->path, text, size);
	if (r < 0)
		return r;
	diag_file_begin(diags);
	r = parse_documents(&l, f, env, diags);
	f->n_nodes = l.nodes;
	yload_done(&l);
	r = diag_file_end(diags, f->path) ?: r;
	if (r < 0)
		return r;
	if (diags->n_errors > errors_before)
		return -EINVAL;
	*ret = TAKE_PTR(f);
	return 0;
}

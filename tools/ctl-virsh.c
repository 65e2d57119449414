/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The virsh-shaped pinning verbs on top of set: vcpupin, emulatorpin, iothreadpin. With values
 * they write the VM's drop-in (--live: the runtime one, --config: the persistent one, --current:
 * whichever fits); without, they print the current state as virsh does: each thread's affinity
 * as the kernel has it, and the policy value asking for it with its file:line.
 */

#include <stdarg.h>
#include <string.h>

#include "ctl-virsh.h"
#include "policy.h"

bool virsh_scope_option(int opt, unsigned *scopes)
{
	switch (opt) {
	case VIRSH_ARG_LIVE:
		*scopes |= CTL_DROPIN_RUNTIME;
		return true;
	case VIRSH_ARG_CONFIG:
		*scopes |= CTL_DROPIN_PERSISTENT;
		return true;
	case VIRSH_ARG_CURRENT:
		*scopes |= CTL_DROPIN_CURRENT;
		return true;
	default:
		return false;
	}
}

int virsh_scopes(const char *verb, unsigned scopes, unsigned *ret)
{
	if ((scopes & CTL_DROPIN_CURRENT) && scopes != CTL_DROPIN_CURRENT) {
		fprintf(stderr, "kvmtunectl %s: --current goes with neither --live nor --config\n",
			verb);
		return EXIT_USAGE;
	}
	*ret = scopes ?: CTL_DROPIN_CURRENT;
	return EXIT_OK;
}

int virsh_kv_add(struct virsh_kv *kv, const char *value, const char *key_fmt, ...)
{
	va_list ap;
	char *key = NULL, *v = strdup(value);
	int r;

	va_start(ap, key_fmt);
	r = vasprintf(&key, key_fmt, ap);
	va_end(ap);
	if (r < 0 || !v || GROW_ARRAY(kv->keys, kv->allocated, kv->n + 1) < 0 ||
	    !(kv->values = realloc(kv->values, kv->allocated * sizeof(char *)))) {
		free(r < 0 ? NULL : key);
		free(v);
		return log_oom();
	}
	kv->keys[kv->n] = key;
	kv->values[kv->n++] = v;
	return EXIT_OK;
}

void virsh_kv_done(struct virsh_kv *kv)
{
	for (size_t i = 0; i < kv->n; i++) {
		free(kv->keys[i]);
		free(kv->values[i]);
	}
	free(kv->keys);
	free(kv->values);
	*kv = (struct virsh_kv){};
}

int virsh_kv_set(struct ctl *c, const char *verb, const char *vm, unsigned scopes,
		 struct virsh_kv *kv)
{
	int r = ctl_set(c, verb, vm, scopes, (const char *const *)kv->keys,
			(const char *const *)kv->values, kv->n);

	virsh_kv_done(kv);
	return r;
}

void virsh_print_origin(const struct origin *o, bool set)
{
	if (set && o->file)
		printf("  (%s:%u)", shown(o->file), o->line);
	else if (!set)
		printf("  (default)");
	putchar('\n');
}

int virsh_show(struct ctl *c, const char *name, int only,
	       void (*print)(const struct virsh_state *s))
{
	_cleanup_(ctl_world_done) struct ctl_world w = {};
	struct policy p = {};
	const struct vm *vm = NULL;
	int r = ctl_dropin_effective(c, name, &w, &p, &vm);

	if (r == EXIT_OK)
		print(&(struct virsh_state){
			.c = c, .name = name, .vm = vm, .p = &p, .only = only });
	policy_done(&p);
	return r;
}

int virsh_finish(struct ctl *c, const char *verb, int r, const char *vm, unsigned scopes,
		 struct virsh_kv *kv, void (*print)(const struct virsh_state *s))
{
	if (r == EXIT_OK)
		r = virsh_scopes(verb, scopes, &scopes);
	if (r != EXIT_OK || kv->n == 0) {
		virsh_kv_done(kv);
		return r != EXIT_OK ? r : virsh_show(c, vm, -1, print);
	}
	return virsh_kv_set(c, verb, vm, scopes, kv);
}

/* A thread's Cpus_allowed_list, as the kernel has it. */
static void print_affinity(const struct ctl *c, pid_t pid, pid_t tid, int width)
{
	char path[128], line[256];
	const char *cpus = "?";
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%d/task/%d/status", c->proc_root ?: "/proc",
		       (int)pid, (int)tid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "Cpus_allowed_list:", 18) == 0) {
			cpus = line + 18 + strspn(line + 18, " \t");
			line[strcspn(line, "\n")] = '\0';
			break;
		}
	printf("%-*s", width, cpus);
	if (f)
		fclose(f);
}

/* The policy's CPUs for vCPU v: its vcpupin entry, else cputune.cpuset. NULL when neither. */
static const struct pcpus *vcpu_policy(const struct policy *p, unsigned v)
{
	for (size_t i = p->cputune.n_vcpupin; i > 0; i--)
		if (cpuset_contains(&p->cputune.vcpupin[i - 1].vcpus, v))
			return &p->cputune.vcpupin[i - 1].cpus;
	return p->cputune.cpuset.set ? &p->cputune.cpuset : NULL;
}

static void print_policy_cpus(const struct pcpus *pc)
{
	_cleanup_free_ char *s = pc ? cpuset_format(&pc->cpus) : NULL;

	printf("%s", pc ? s ?: "?" : "-");
	virsh_print_origin(pc ? &pc->origin : &(struct origin){}, pc != NULL);
}

static void print_vcpupin(const struct virsh_state *s)
{
	struct ctl *c = s->c;
	const struct policy *p = s->p;
	const struct vm *vm = s->vm;
	int only = s->only;
	const char *name = s->name;

	printf("%-6s %-14s %s\n", "VCPU", "CPU Affinity", "Policy");
	printf("----------------------------------------------\n");
	for (size_t i = 0; vm && i < vm->n_threads; i++) {
		const struct vm_thread *t = &vm->threads[i];

		if (t->role != ROLE_VCPU || (only >= 0 && t->vcpu != only))
			continue;
		printf("%-6d ", t->vcpu);
		print_affinity(c, vm->pid, t->tid, 15);
		print_policy_cpus(vcpu_policy(p, (unsigned)t->vcpu));
	}
	for (size_t i = 0; !vm && i < p->cputune.n_vcpupin; i++) {
		_cleanup_free_ char *v = cpuset_format(&p->cputune.vcpupin[i].vcpus);

		printf("%-6s %-14s ", v ?: "?", "-");
		print_policy_cpus(&p->cputune.vcpupin[i].cpus);
	}
	if (!vm)
		printf("(%s is not running: the policy's values only)\n", shown(name));
}

static void print_emulatorpin(const struct virsh_state *s)
{
	struct ctl *c = s->c;
	const struct policy *p = s->p;
	const struct vm *vm = s->vm;

	printf("emulator: CPU Affinity   Policy\n");
	printf("----------------------------------\n");
	printf("       *: ");
	if (vm)
		print_affinity(c, vm->pid, vm->pid, 14);
	else
		printf("%-14s", "-");
	print_policy_cpus(p->cputune.emulatorpin.set ? &p->cputune.emulatorpin
			  : p->cputune.cpuset.set    ? &p->cputune.cpuset
						     : NULL);
}

static void print_iothreadpin(const struct virsh_state *s)
{
	struct ctl *c = s->c;
	const struct policy *p = s->p;
	const struct vm *vm = s->vm;

	printf("%-12s %-14s %s\n", "IOThread ID", "CPU Affinity", "Policy");
	printf("----------------------------------------------\n");
	for (size_t i = 0; vm && i < vm->n_threads; i++) {
		const struct vm_thread *t = &vm->threads[i];
		const struct pcpus *pc = p->cputune.cpuset.set ? &p->cputune.cpuset : NULL;

		if (t->role != ROLE_IOTHREAD)
			continue;
		for (size_t j = 0; j < p->cputune.n_iothreadpin; j++)
			if (streq(p->cputune.iothreadpin[j].id, t->iothread))
				pc = &p->cputune.iothreadpin[j].cpus;
		printf("%-12s ", shown(t->iothread));
		print_affinity(c, vm->pid, t->tid, 15);
		print_policy_cpus(pc);
	}
	for (size_t i = 0; !vm && i < p->cputune.n_iothreadpin; i++) {
		printf("%-12s %-14s ", shown(p->cputune.iothreadpin[i].id), "-");
		print_policy_cpus(&p->cputune.iothreadpin[i].cpus);
	}
}

/* Options of a pinning verb: the scopes only. optind after them; an EXIT_ code, or -1 to go on. */
static int pin_options(const char *verb, const char *help, int argc, char **argv, unsigned *scopes)
{
	static const struct option options[] = {
		VIRSH_SCOPE_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	unsigned s = 0;
	int opt;

	optind = 0; /* 0: glibc starts afresh, permuting (main parsed with "+") */
	while ((opt = ctl_getopt(verb, argc, argv, ":h", options)) >= 0) {
		if (virsh_scope_option(opt, &s))
			continue;
		if (opt == 'h') {
			fputs(help, stdout);
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "kvmtunectl %s: needs a VM. Try 'kvmtunectl %s --help'.\n", verb,
			verb);
		return EXIT_USAGE;
	}
	return virsh_scopes(verb, s, scopes) == EXIT_OK ? -1 : EXIT_USAGE;
}

static int too_many(const char *verb, int max, int argc)
{
	if (argc <= max)
		return -1;
	fprintf(stderr, "kvmtunectl %s: too many arguments. Try 'kvmtunectl %s --help'.\n", verb,
		verb);
	return EXIT_USAGE;
}

static const char vcpupin_help[] =
	"Usage: kvmtunectl vcpupin [--live|--config|--current] VM [VCPU [CPULIST]]\n"
	"\n"
	"As virsh vcpupin: pins vCPU(s) VCPU (an index or a list: 0, 2-3) of VM to CPULIST\n"
	"(cputune.vcpupin.VCPU in its drop-in, see kvmtunectl set); without CPULIST prints each\n"
	"vCPU's affinity and the policy value asking for it.\n"
	"\n"
	"Options:\n" VIRSH_SCOPE_HELP;

int verb_vcpupin(struct ctl *c, int argc, char **argv)
{
	struct virsh_kv kv = {};
	unsigned scopes = 0;
	int r = pin_options("vcpupin", vcpupin_help, argc, argv, &scopes), only = -1;
	char *end;

	if (r >= 0 || (r = too_many("vcpupin", optind + 3, argc)) >= 0)
		return r;
	if (argc - optind == 3) {
		r = virsh_kv_add(&kv, argv[optind + 2], "cputune.vcpupin.%s", argv[optind + 1]);
		return r == EXIT_OK ? virsh_kv_set(c, "vcpupin", argv[optind], scopes, &kv) : r;
	}
	if (argc - optind == 2) {
		only = (int)strtol(argv[optind + 1], &end, 10);
		if (*end || only < 0) {
			fprintf(stderr, "kvmtunectl vcpupin: '%s' is not a vCPU index\n",
				shown(argv[optind + 1]));
			return EXIT_USAGE;
		}
	}
	return virsh_show(c, argv[optind], only, print_vcpupin);
}

static const char emulatorpin_help[] =
	"Usage: kvmtunectl emulatorpin [--live|--config|--current] VM [CPULIST]\n"
	"\n"
	"As virsh emulatorpin: pins VM's emulator threads (all but vCPUs and iothreads) to\n"
	"CPULIST (cputune.emulatorpin); without CPULIST prints their affinity and the policy's.\n"
	"\n"
	"Options:\n" VIRSH_SCOPE_HELP;

int verb_emulatorpin(struct ctl *c, int argc, char **argv)
{
	struct virsh_kv kv = {};
	unsigned scopes = 0;
	int r = pin_options("emulatorpin", emulatorpin_help, argc, argv, &scopes);

	if (r >= 0 || (r = too_many("emulatorpin", optind + 2, argc)) >= 0)
		return r;
	if (argc - optind == 1)
		return virsh_show(c, argv[optind], -1, print_emulatorpin);
	r = virsh_kv_add(&kv, argv[optind + 1], "cputune.emulatorpin");
	return r == EXIT_OK ? virsh_kv_set(c, "emulatorpin", argv[optind], scopes, &kv) : r;
}

static const char iothreadpin_help[] =
	"Usage: kvmtunectl iothreadpin [--live|--config|--current] VM [ID CPULIST]\n"
	"\n"
	"As virsh iothreadpin: pins VM's iothread ID (QEMU's iothread object id) to CPULIST\n"
	"(cputune.iothreadpin.ID); with the VM alone prints each iothread's affinity and the\n"
	"policy's, as virsh iothreadinfo does.\n"
	"\n"
	"Options:\n" VIRSH_SCOPE_HELP;

int verb_iothreadpin(struct ctl *c, int argc, char **argv)
{
	struct virsh_kv kv = {};
	unsigned scopes = 0;
	int r = pin_options("iothreadpin", iothreadpin_help, argc, argv, &scopes);

	if (r >= 0 || (r = too_many("iothreadpin", optind + 3, argc)) >= 0)
		return r;
	if (argc - optind == 1)
		return virsh_show(c, argv[optind], -1, print_iothreadpin);
	if (argc - optind != 3) {
		fprintf(stderr, "kvmtunectl iothreadpin: needs VM ID CPULIST, or VM alone\n");
		return EXIT_USAGE;
	}
	r = virsh_kv_add(&kv, argv[optind + 2], "cputune.iothreadpin.%s", argv[optind + 1]);
	return r == EXIT_OK ? virsh_kv_set(c, "iothreadpin", argv[optind], scopes, &kv) : r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * What set, revert and the virsh-shaped verbs share: a VM's drop-in policies read, changed,
 * checked as part of the whole policy set, written atomically, and put into force (kvmtuned
 * reloads, or apply's engine when no daemon runs).
 */

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "policy-dropin.h"

struct target {
	char *dir;  /* the policy.d it lives in */
	char *path; /* dir/90-set-<vm>.yaml */
	bool existed;
	struct dropin old, new;
	struct policy_file *file; /* the new version parsed; NULL when it is to be removed */
	char *text;
	bool reset; /* emptied: written with its match only until enforced, then removed */
};

static void target_done(struct target *t)
{
	free(t->dir);
	free(t->path);
	dropin_done(&t->old);
	dropin_done(&t->new);
	policy_file_free(t->file);
	free(t->text);
}

/* The one running VM arg names, or NULL (none; printed when several). */
static int find_vm(const struct ctl_world *w, const char *arg, const struct vm **ret)
{
	*ret = NULL;
	for (size_t i = 0; i < w->n_vms; i++) {
		if (!ctl_vm_is(&w->vms[i], arg))
			continue;
		if (*ret) {
			fprintf(stderr,
				"kvmtunectl: '%s' names more than one VM (pids %d and %d): name it "
				"by pid or uuid\n",
				shown(arg), (int)(*ret)->pid, (int)w->vms[i].pid);
			return EXIT_USAGE;
		}
		*ret = &w->vms[i];
	}
	return EXIT_OK;
}

static int read_old(struct target *t)
{
	_cleanup_free_ char *text = NULL, *error = NULL;
	size_t size;
	int r = read_file_at(AT_FDCWD, t->path, POLICY_FILE_SIZE_MAX, &text, &size);

	if (r == -ENOENT)
		return EXIT_OK;
	if (r < 0) {
		fprintf(stderr, "kvmtunectl: %s: %s\n", shown(t->path), strerror(-r));
		return EXIT_INVALID;
	}
	t->existed = true;
	r = dropin_parse(t->path, text, size, &t->old, &error);
	if (r == 0)
		r = dropin_parse(t->path, text, size, &t->new, &error);
	if (r == -ENOMEM)
		return log_oom();
	if (r < 0) {
		fprintf(stderr, "kvmtunectl: %s\n", shown(error));
		return EXIT_INVALID;
	}
	return EXIT_OK;
}

/* The drop-in's identity: the running VM's name and uuid, else the earlier drop-in's, else arg. */
static int target_init(struct target *t, const char *dir, const struct vm *vm, const char *arg)
{
	const char *name = vm ? vm->name : arg;
	_cleanup_free_ char *file = dropin_file_name(name);
	int r;

	t->dir = strdup(dir);
	if (!file || !t->dir || asprintf(&t->path, "%s/%s", dir, file) < 0)
		return log_oom();
	r = read_old(t);
	if (r != EXIT_OK)
		return r;
	if (vm || !t->new.name) {
		free(t->new.name);
		free(t->new.uuid);
		t->new.name = strdup(name);
		t->new.uuid = vm && vm->cmdline.uuid ? strdup(vm->cmdline.uuid) : NULL;
		if (!t->new.name || (vm && vm->cmdline.uuid && !t->new.uuid))
			return log_oom();
	}
	return EXIT_OK;
}

/* The new version as text, parsed by the policy parser: EXIT_INVALID with its errors printed. */
static int target_check(struct target *t, const struct policy_env *env, struct diag_list *diags)
{
	int r;

	if (t->new.n_entries == 0)
		return EXIT_OK; /* removed */
	if (dropin_format(&t->new, &t->text) < 0)
		return log_oom();
	r = policy_parse(t->path, t->text, strlen(t->text), env, &t->file, diags);
	if (r == -ENOMEM)
		return log_oom();
	return r < 0 ? EXIT_INVALID : EXIT_OK;
}

/* The policy set in force with the targets' new versions: files of /etc's policy.d, then of
 * the runtime one, each lexically (policy_set_load_config()'s order). Borrows every file. */
struct view_file {
	const struct policy_file *f;
	int dir; /* 0 the config dir's, 1 the runtime dir's */
};

static int cmp_view(const void *a, const void *b)
{
	const struct view_file *x = a, *y = b;

	return x->dir != y->dir ? x->dir - y->dir : strcmp(x->f->path, y->f->path);
}

static int dir_of(const char *path, const char *const dirs[static 2])
{
	for (int i = 0; i < 2; i++) {
		size_t n = strlen(dirs[i]);

		if (strncmp(path, dirs[i], n) == 0 && path[n] == '/')
			return i;
	}
	return 2;
}

static int build_view(const struct policy_set *set, const struct target *t, size_t n_t,
		      const char *const dirs[static 2], struct policy_set *ret)
{
	_cleanup_free_ struct view_file *v = calloc(set->n_files + n_t + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < set->n_files; i++) {
		bool replaced = false;

		for (size_t j = 0; j < n_t && !replaced; j++)
			replaced = streq(set->files[i]->path, t[j].path);
		if (!replaced)
			v[n++] = (struct view_file){ set->files[i],
						     dir_of(set->files[i]->path, dirs) };
	}
	for (size_t j = 0; j < n_t; j++)
		if (t[j].file)
			v[n++] = (struct view_file){ t[j].file, dir_of(t[j].path, dirs) };
	qsort(v, n, sizeof(*v), cmp_view);
	ret->files = calloc(n + 1, sizeof(*ret->files));
	if (!ret->files)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		ret->files[i] = (struct policy_file *)v[i].f;
	ret->n_files = ret->allocated = n;
	return 0;
}

/* The VM's merged policy with the new versions breaks no rule (swap_hard_limit >= hard_limit). */
static int check_whole(const struct ctl *c, const struct ctl_world *w, const struct target *t,
		       size_t n_t, const struct vm_identity *id, struct diag_list *diags,
		       int *ret_merged)
{
	_cleanup_free_ char *etc = policy_dir_of(c->config_dir);
	_cleanup_free_ char *run = policy_runtime_dir_of(c->runtime_dir);
	const char *dirs[2] = { etc, run };
	struct policy_set view = {};
	struct policy merged = {};
	struct policy_fit *fits = NULL;
	size_t n_fits = 0;
	size_t errors = diags->n_errors;
	int r;

	if (!etc || !run || build_view(&w->policies, t, n_t, dirs, &view) < 0)
		return log_oom();
	r = *ret_merged = policy_set_effective(&view, id, &merged, &fits, &n_fits);
	if (r >= 0)
		r = policy_check_effective(&merged, diags);
	policy_done(&merged);
	free(fits);
	free(view.files); /* borrowed files */
	if (r == -ENOMEM)
		return log_oom();
	return diags->n_errors > errors ? EXIT_INVALID : EXIT_OK;
}

static int mkdir_parents(const char *dir)
{
	_cleanup_free_ char *parent = strdup(dir);
	char *slash;

	if (!parent)
		return -ENOMEM;
	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT || !(slash = strrchr(parent, '/')) || slash == parent)
		return -errno;
	*slash = '\0';
	if (mkdir_parents(parent) < 0)
		return -errno;
	return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

/* text into t->path through a temporary file in the same directory: all of it, or nothing. */
static int write_atomic(const struct target *t)
{
	_cleanup_free_ char *tmp = NULL;
	const char *base = strrchr(t->path, '/') + 1;
	size_t len = strlen(t->text);
	int fd, r = mkdir_parents(t->dir);

	/* A dot file: policy_list_dir() skips it, a daemon reloading meanwhile never reads it. */
	if (r < 0 || asprintf(&tmp, "%s/.%s.XXXXXX", t->dir, base) < 0)
		return r < 0 ? r : -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write(fd, t->text, len) == (ssize_t)len && fchmod(fd, 0644) == 0 && fsync(fd) == 0
		    ? 0
		    : -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, t->path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

/* "  cputune.shares: 1024 -> 2048", a line per key that changes. The number of lines. */
static size_t print_changes(const struct target *t)
{
	size_t n = 0;

	FOREACH_ARRAY (e, t->new.entries, t->new.n_entries) {
		const char *was = dropin_get(&t->old, e->key);

		if (was && streq(was, e->value))
			continue;
		printf("  %s: %s -> %s\n", shown(e->key), was ? shown(was) : "(not set)",
		       shown(e->value));
		n++;
	}
	FOREACH_ARRAY (e, t->old.entries, t->old.n_entries)
		if (!dropin_get(&t->new, e->key)) {
			printf("  %s: %s -> (not set)\n", shown(e->key), shown(e->value));
			n++;
		}
	return n;
}

static int save(struct target *t)
{
	int r;

	if (!t->file && !t->existed)
		return EXIT_OK;
	if (t->file && t->existed && t->new.n_entries == t->old.n_entries && !print_changes(t) &&
	    streq(t->old.name, t->new.name) && streq(t->old.uuid ?: "", t->new.uuid ?: "")) {
		printf("%s: nothing changes\n", shown(t->path));
		return EXIT_OK;
	}
	if (t->reset) {
		/* No other policy fits the VM: without one kvmtune would leave its values as they
		 * are. A policy of its match alone holds them at the kernel's defaults. */
		r = write_atomic(t);
		if (r < 0) {
			fprintf(stderr, "kvmtunectl: cannot write %s: %s\n", shown(t->path),
				strerror(-r));
			return EXIT_INVALID;
		}
		printf("emptied %s (its match alone, until the VM's values are back at the "
		       "kernel's defaults; then it is removed):\n",
		       shown(t->path));
		(void)print_changes(t);
		return EXIT_OK;
	}
	if (!t->file) {
		printf("removed %s:\n", shown(t->path));
		(void)print_changes(t);
		if (unlink(t->path) < 0 && errno != ENOENT) {
			fprintf(stderr, "kvmtunectl: cannot remove %s: %m\n", shown(t->path));
			return EXIT_INVALID;
		}
		return EXIT_OK;
	}
	r = write_atomic(t);
	if (r < 0) {
		fprintf(stderr, "kvmtunectl: cannot write %s: %s (nothing written)\n",
			shown(t->path), strerror(-r));
		return EXIT_INVALID;
	}
	printf("wrote %s:\n", shown(t->path));
	(void)print_changes(t);
	return EXIT_OK;
}

/* The new policies into force: kvmtuned reloads, or (no daemon) apply's engine on the VM. */
static int enforce(struct ctl *c, pid_t pid, const char *name)
{
	_cleanup_(ctl_world_done) struct ctl_world w = {};
	struct vm *vm = NULL;
	bool absent = false;
	int r = ctl_daemon_reload(c, &absent);

	if (r != EXIT_OK)
		return r;
	if (!absent) {
		printf("kvmtuned reloaded: it enforces the new policy (kvmtunectl status %s shows "
		       "it)\n",
		       shown(name));
		return EXIT_OK;
	}
	if (pid <= 0) {
		printf("%s is not running: its policy applies when it starts (no kvmtuned runs: "
		       "kvmtunectl apply then)\n",
		       shown(name));
		return EXIT_OK;
	}
	topology_done(&c->topo); /* read again with the world */
	r = ctl_world_load(c, &w);
	for (size_t i = 0; r == EXIT_OK && i < w.n_vms && !vm; i++)
		if (w.vms[i].pid == pid)
			vm = &w.vms[i];
	if (r == EXIT_OK && !vm) {
		printf("%s ended meanwhile\n", shown(name));
		return EXIT_OK;
	}
	if (r == EXIT_OK)
		r = ctl_world_has_cgroups(&w);
	if (r == EXIT_OK)
		r = ctl_world_backend(&w);
	if (r != EXIT_OK)
		return r;
	printf("no kvmtuned runs; applied now:\n");
	return ctl_apply_vms(&w, &vm, 1, false, false, false);
}

/* The drop-in that was not written, with line numbers, so file:line:col errors can be read. */
static void print_numbered(const struct target *t)
{
	unsigned line = 1;

	if (!t->text)
		return;
	fprintf(stderr, "kvmtunectl: %s would have been:\n", shown(t->path));
	for (const char *p = t->text; *p; line++) {
		size_t len = strcspn(p, "\n");

		fprintf(stderr, "%4u  %.*s\n", line, (int)len, p);
		p += len + (p[len] == '\n');
	}
}

/* Checks and saves the targets: EXIT_INVALID and nothing written when any has an error. */
static int check_and_save(struct ctl *c, struct ctl_world *w, struct target *t, size_t n,
			  const struct vm_identity *id, bool running)
{
	_cleanup_(diag_list_done) struct diag_list diags = {};
	struct policy_env env = ctl_policy_env(c);
	int r = EXIT_OK, merged = 0;

	for (size_t i = 0; i < n && r == EXIT_OK; i++)
		r = target_check(&t[i], &env, &diags);
	if (r == EXIT_OK)
		r = check_whole(c, w, t, n, id, &diags, &merged);
	for (size_t i = 0; r == EXIT_OK && running && merged == 0 && i < n; i++)
		if (!t[i].file && t[i].existed) {
			t[i].reset = true;
			if (dropin_format(&t[i].new, &t[i].text) < 0)
				return log_oom();
		}
	if (r != EXIT_OK) {
		diag_list_print(&diags, stderr);
		fprintf(stderr, "kvmtunectl: nothing written\n");
		for (size_t i = 0; i < n; i++)
			print_numbered(&t[i]);
		return r;
	}
	for (size_t i = 0; i < n && r == EXIT_OK; i++)
		r = save(&t[i]);
	return r;
}

/* The emptied drop-ins, enforced, go; kvmtuned learns it (the VM is then left as it is). */
static int finish_reset(struct ctl *c, char *const *paths, size_t n, const char *name)
{
	bool absent;

	for (size_t i = 0; i < n; i++) {
		if (unlink(paths[i]) < 0 && errno != ENOENT) {
			fprintf(stderr, "kvmtunectl: cannot remove %s: %m\n", shown(paths[i]));
			return EXIT_INVALID;
		}
		printf("removed %s: no policy fits %s now; kvmtune leaves it as it is\n",
		       shown(paths[i]), shown(name));
	}
	return ctl_daemon_reload(c, &absent);
}

int ctl_dropin_edit(struct ctl *c, const char *vm_arg, unsigned scopes,
		    int (*edit)(struct dropin *const *d, size_t n, void *userdata), void *userdata)
{
	_cleanup_(ctl_world_done) struct ctl_world w = {};
	_cleanup_free_ char *etc = policy_dir_of(c->config_dir);
	_cleanup_free_ char *run = policy_runtime_dir_of(c->runtime_dir);
	struct target t[2] = {};
	struct dropin *d[2];
	_cleanup_free_ char *name = NULL;
	char *reset[2];
	struct vm_identity id;
	const struct vm *vm = NULL;
	pid_t pid = 0;
	size_t n = 0, n_reset = 0;
	int r = etc && run ? ctl_world_load(c, &w) : log_oom();

	if (r == EXIT_OK)
		r = find_vm(&w, vm_arg, &vm);
	if (scopes & CTL_DROPIN_CURRENT)
		scopes = vm ? CTL_DROPIN_RUNTIME : CTL_DROPIN_PERSISTENT;
	if (r == EXIT_OK && (scopes & CTL_DROPIN_PERSISTENT))
		r = target_init(&t[n++], etc, vm, vm_arg);
	if (r == EXIT_OK && (scopes & CTL_DROPIN_RUNTIME))
		r = target_init(&t[n++], run, vm, vm_arg);
	if (r == EXIT_OK && !vm)
		fprintf(stderr,
			"kvmtunectl: no running VM is '%s': the drop-in is for the VM of that "
			"name%s\n",
			shown(vm_arg), t[0].new.uuid ? " and its earlier uuid" : " (any uuid)");
	for (size_t i = 0; i < n; i++)
		d[i] = &t[i].new;
	if (r == EXIT_OK)
		r = edit(d, n, userdata);
	if (r == EXIT_OK) {
		id = vm ? vm_identity(vm)
			: (struct vm_identity){ .name = t[0].new.name, .uuid = t[0].new.uuid };
		r = check_and_save(c, &w, t, n, &id, vm != NULL);
	}
	if (vm)
		pid = vm->pid;
	for (size_t i = 0; i < n; i++) {
		if (t[i].reset && r == EXIT_OK && !(reset[n_reset++] = TAKE_PTR(t[i].path)))
			r = log_oom();
		target_done(&t[i]);
	}
	if (r == EXIT_OK && !(name = strdup(vm ? vm->name : vm_arg)))
		r = log_oom();
	ctl_world_done(&w);
	if (r == EXIT_OK)
		r = enforce(c, pid, name);
	if (r == EXIT_OK && n_reset > 0)
		r = finish_reset(c, reset, n_reset, name);
	for (size_t i = 0; i < n_reset; i++)
		free(reset[i]);
	return r;
}

int ctl_dropin_effective(struct ctl *c, const char *vm_arg, struct ctl_world *w, struct policy *ret,
			 const struct vm **ret_vm)
{
	struct vm_identity id = { .name = vm_arg };
	struct policy_fit *fits = NULL;
	size_t n_fits = 0;
	int r = ctl_world_load(c, w);

	if (r == EXIT_OK)
		r = find_vm(w, vm_arg, ret_vm);
	if (r != EXIT_OK)
		return r;
	if (*ret_vm)
		id = vm_identity(*ret_vm);
	r = policy_set_effective(&w->policies, &id, ret, &fits, &n_fits);
	free(fits);
	return r < 0 ? log_oom() : EXIT_OK;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cgrulesengd's rules against qemu_binaries, and registering a VM with the daemon. */

#include <unistd.h>

#include "cgrules.h"
#include "macro.h"
#include "tests.h"

static char *const globs[] = { "/usr/bin/qemu-system-*", "/usr/libexec/qemu-kvm" };

TEST(rules_matching_qemu)
{
	char path[] = "/tmp/kvmtune-cgrules-XXXXXX";
	_cleanup_(diag_list_done) struct diag_list diags = {};
	int fd = mkstemp(path);
	static const char text[] =
		"# <user>[:<process>] <controllers> <destination>\n"
		"@qemu:/usr/bin/qemu-system-x86_64  cpu,memory  vms/\n"	  /* 2: full path */
		"%                                  blkio       vms/\n"	  /* 3: same rule */
		"alice:qemu-kvm                     cpu         slow/\n"  /* 4: a comm */
		"bob:/usr/bin/vim                   cpu         edit/\n"  /* not QEMU */
		"carol                              cpu         carol/\n" /* a user's */
		"\n"
		"*                                  memory      users/\n" /* 8: everyone */
		"dave:qemu-img                      cpu         img/\n";  /* not a VM binary */

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	ASSERT_OK(cgrules_check(path, globs, ARRAY_SIZE(globs), &diags));
	for (size_t i = 0; i < diags.n; i++) {
		_cleanup_free_ char *s = diag_format(&diags.items[i]);

		printf("%s\n", s);
	}
	ASSERT_EQ(diags.n, 4);
	ASSERT_EQ(diags.n_errors, 0);
	ASSERT_EQ(diags.items[0].line, 2);
	ASSERT_TRUE(strstr(diags.items[0].message, "/usr/bin/qemu-system-x86_64 "
						   "(/usr/bin/qemu-system-*) into vms/"));
	ASSERT_EQ(diags.items[1].line, 3);
	ASSERT_TRUE(strstr(diags.items[1].message, "of blkio"));
	ASSERT_EQ(diags.items[2].line, 4);
	ASSERT_TRUE(strstr(diags.items[2].message, "qemu-kvm (/usr/libexec/qemu-kvm)"));
	ASSERT_EQ(diags.items[3].line, 8);
	ASSERT_TRUE(strstr(diags.items[3].message, "every process of every user"));
	unlink(path);
	/* no cgrules.conf: nothing to say */
	diag_list_done(&diags);
	ASSERT_OK(cgrules_check(path, globs, ARRAY_SIZE(globs), &diags));
	ASSERT_EQ(diags.n, 0);
}

TEST(keep_without_daemon)
{
	if (access("/run/cgred.socket", F_OK) == 0)
		SKIP("cgrulesengd runs here: registering this test would reach it");
	/* libcgroup: no daemon is no failure */
	ASSERT_OK(cgrules_keep(getpid()));
}

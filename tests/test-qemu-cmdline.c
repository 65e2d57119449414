/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* QEMU command lines as research/qemu-threads.md §5.2 measured them on QEMU 7.2. */

#include "qemu-cmdline.h"
#include "tests.h"

#define PARSE(c, ...)                                                                        \
	do {                                                                                 \
		char *_argv[] = { "qemu-system-x86_64", __VA_ARGS__ };                       \
		ASSERT_OK(qemu_cmdline_parse(_argv, sizeof(_argv) / sizeof(_argv[0]), (c))); \
	} while (0)

TEST(name_forms)
{
	struct qemu_cmdline c;

	PARSE(&c, "-name", "foo");
	ASSERT_STREQ(c.name, "foo");
	ASSERT_FALSE(c.debug_threads);
	qemu_cmdline_done(&c);

	PARSE(&c, "-name", "guest=foo,process=bar");
	ASSERT_STREQ(c.name, "foo");
	ASSERT_STREQ(c.process_name, "bar");
	qemu_cmdline_done(&c);

	PARSE(&c, "-name", "debug-threads=on,guest=foo");
	ASSERT_STREQ(c.name, "foo");
	ASSERT_TRUE(c.debug_threads);
	qemu_cmdline_done(&c);

	/* repeated -name merges, and the later guest= wins */
	PARSE(&c, "-name", "guest=a", "-name", "debug-threads=yes", "-name", "guest=b");
	ASSERT_STREQ(c.name, "b");
	ASSERT_TRUE(c.debug_threads);
	qemu_cmdline_done(&c);

	PARSE(&c, "--name", "foo,,bar,debug-threads");
	ASSERT_STREQ(c.name, "foo,bar");
	ASSERT_TRUE(c.debug_threads);
	qemu_cmdline_done(&c);

	PARSE(&c, "-name", "x,nodebug-threads");
	ASSERT_FALSE(c.debug_threads);
	qemu_cmdline_done(&c);

	/* QEMU has no "-name=foo" form */
	PARSE(&c, "-name=foo", "-uuid", "6b29fc40-ca47-1067-b31d-00dd010662da");
	ASSERT_TRUE(c.name == NULL);
	ASSERT_STREQ(c.uuid, "6b29fc40-ca47-1067-b31d-00dd010662da");
	qemu_cmdline_done(&c);
}

TEST(smp_forms)
{
	static const struct {
		const char *argv[6];
		unsigned vcpus, maxcpus;
	} cases[] = {
		{ { "-m", "64" }, 1, 1 },
		{ { "-smp", "4" }, 4, 4 },
		{ { "-smp", "cpus=2,sockets=1" }, 2, 2 },
		{ { "-smp", "sockets=2,cores=1" }, 2, 2 },
		{ { "-smp", "2,threads=2" }, 2, 2 },
		{ { "-smp", "1,maxcpus=3" }, 1, 3 },
		{ { "-smp", "maxcpus=3" }, 3, 3 },
		{ { "-smp", "4,maxcpus=8" }, 4, 8 },
		{ { "-smp", "2", "-smp", "maxcpus=4" }, 2, 4 },
		{ { "-machine", "pc,smp.cpus=2" }, 2, 2 },
		{ { "-M", "q35,smp.cpus=3,smp.maxcpus=6" }, 3, 6 },
		{ { "-smp", "6,sockets=2,cores=3" }, 6, 6 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[8] = { "qemu-system-x86_64" };
		struct qemu_cmdline c;
		size_t n = 1;

		for (; n <= 6 && cases[i].argv[n - 1]; n++)
			argv[n] = (char *)cases[i].argv[n - 1];
		ASSERT_OK(qemu_cmdline_parse(argv, n, &c));
		printf("  %s %s ...: %u vCPUs, max %u\n", argv[1], argv[2], c.vcpus, c.maxcpus);
		ASSERT_EQ(c.vcpus, cases[i].vcpus);
		ASSERT_EQ(c.maxcpus, cases[i].maxcpus);
		qemu_cmdline_done(&c);
	}
}

TEST(accel_forms)
{
	struct qemu_cmdline c;

	PARSE(&c, "-accel", "kvm");
	ASSERT_EQ(c.accel, QEMU_ACCEL_KVM);
	qemu_cmdline_done(&c);
	PARSE(&c, "--enable-kvm");
	ASSERT_EQ(c.accel, QEMU_ACCEL_KVM);
	qemu_cmdline_done(&c);
	PARSE(&c, "-machine", "accel=kvm:tcg");
	ASSERT_EQ(c.accel, QEMU_ACCEL_KVM);
	qemu_cmdline_done(&c);
	PARSE(&c, "-accel", "kvm", "-accel", "tcg");
	ASSERT_EQ(c.accel, QEMU_ACCEL_KVM);
	qemu_cmdline_done(&c);
	PARSE(&c, "-accel", "tcg,thread=single", "-smp", "2");
	ASSERT_EQ(c.accel, QEMU_ACCEL_TCG);
	ASSERT_TRUE(c.tcg_single_thread);
	qemu_cmdline_done(&c);
	PARSE(&c, "-icount", "shift=auto");
	ASSERT_TRUE(c.tcg_single_thread);
	qemu_cmdline_done(&c);
	PARSE(&c, "-m", "64");
	ASSERT_EQ(c.accel, QEMU_ACCEL_UNKNOWN);
	qemu_cmdline_done(&c);
}

TEST(iothreads)
{
	struct qemu_cmdline c;

	PARSE(&c, "-object", "iothread,id=io2,poll-max-ns=0", "--object", "iothread,id=io3",
	      "-object", "{\"qom-type\":\"iothread\",\"id\":\"jio1\"}", "-object",
	      "memory-backend-ram,id=m0,size=1G", "-object",
	      "{\"qom-type\":\"secret\",\"id\":\"s\"}", "-object", "{not json");
	ASSERT_EQ(c.n_iothreads, 3);
	ASSERT_STREQ(c.iothreads[0], "io2");
	ASSERT_STREQ(c.iothreads[1], "io3");
	ASSERT_STREQ(c.iothreads[2], "jio1");
	qemu_cmdline_done(&c);
}

TEST(qmp_sockets)
{
	struct qemu_cmdline c;

	PARSE(&c, "-qmp", "unix:/run/q.sock,server=on,wait=off");
	ASSERT_STREQ(c.qmp_socket, "/run/q.sock");
	qemu_cmdline_done(&c);

	PARSE(&c, "-qmp", "unix:rel/q.sock,server,nowait");
	ASSERT_STREQ(c.qmp_socket, "rel/q.sock");
	qemu_cmdline_done(&c);

	/* QEMU connects out: nothing to connect to */
	PARSE(&c, "-qmp", "unix:/run/q.sock");
	ASSERT_TRUE(c.qmp_socket == NULL);
	qemu_cmdline_done(&c);

	PARSE(&c, "-qmp", "tcp:127.0.0.1:4444,server=on");
	ASSERT_TRUE(c.qmp_socket == NULL);
	qemu_cmdline_done(&c);

	/* the libvirt style: a chardev and a control-mode monitor on it */
	PARSE(&c, "-chardev", "socket,id=hmp,path=/run/h.sock,server=on,wait=off", "-mon",
	      "chardev=hmp,mode=readline", "-chardev",
	      "socket,id=charmonitor,path=/run/m.sock,server=on,wait=off", "-mon",
	      "chardev=charmonitor,id=monitor,mode=control");
	ASSERT_STREQ(c.qmp_socket, "/run/m.sock");
	qemu_cmdline_done(&c);

	PARSE(&c, "-chardev", "socket,id=m,path=/run/a.sock,server=on,abstract=on", "-mon",
	      "chardev=m,mode=control");
	ASSERT_TRUE(c.qmp_socket == NULL);
	qemu_cmdline_done(&c);
}

TEST(daemonize_and_incomplete)
{
	struct qemu_cmdline c;

	PARSE(&c, "-daemonize", "-pidfile", "/run/vm.pid", "-name", "d");
	ASSERT_TRUE(c.daemonize);
	ASSERT_STREQ(c.pidfile, "/run/vm.pid");
	ASSERT_STREQ(c.name, "d");
	ASSERT_FALSE(c.incomplete);
	qemu_cmdline_done(&c);

	PARSE(&c, "-readconfig", "vm.cfg");
	ASSERT_TRUE(c.incomplete);
	qemu_cmdline_done(&c);

	PARSE(&c, "-set", "smp-opts.cpus=3");
	ASSERT_TRUE(c.incomplete);
	qemu_cmdline_done(&c);
}

/* Flags, disk images and unknown options must not swallow the options we need. */
TEST(arguments_around)
{
	struct qemu_cmdline c;

	PARSE(&c, "-S", "-nodefaults", "disk.img", "-display", "none", "-some-future-flag", "-name",
	      "g1", "-snapshot", "-smp", "2");
	ASSERT_STREQ(c.name, "g1");
	ASSERT_EQ(c.vcpus, 2);
	qemu_cmdline_done(&c);
}

TEST(from_proc_buffer)
{
	static const char buf[] = "qemu-system-x86_64\0-name\0guest=web,,01\0-smp\0"
				  "3\0-object\0iothread,id=io1\0";
	struct qemu_cmdline c;

	ASSERT_OK(qemu_cmdline_parse_buf(buf, sizeof(buf) - 1, &c));
	ASSERT_STREQ(c.name, "web,01");
	ASSERT_EQ(c.vcpus, 3);
	ASSERT_EQ(c.n_iothreads, 1);
	qemu_cmdline_done(&c);

	/* without the NUL of the last argument */
	ASSERT_OK(qemu_cmdline_parse_buf(buf, 38, &c));
	ASSERT_STREQ(c.name, "web,01");
	qemu_cmdline_done(&c);
}

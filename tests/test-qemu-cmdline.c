/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * QEMU command lines as research/qemu-threads.md §5.2 measured them on QEMU 7.2, and the rules
 * of QEMU's sources (README, "Reading QEMU's command line") case by case.
 */

#include "macro.h"
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

/* configure_accelerators(): what runs on a host with KVM, and on one without. */
static void check_accel(const char *what, char **argv, size_t argc, enum qemu_accel with_kvm,
			enum qemu_accel without, bool single_without)
{
	struct qemu_cmdline c;
	bool single = true;

	ASSERT_OK(qemu_cmdline_parse(argv, argc, &c));
	printf("  %s: %s with KVM, %s without\n", what,
	       qemu_accel_to_string(qemu_cmdline_accel(&c, true, NULL)),
	       qemu_accel_to_string(qemu_cmdline_accel(&c, false, NULL)));
	ASSERT_EQ(qemu_cmdline_accel(&c, true, &single), with_kvm);
	ASSERT_FALSE(with_kvm == QEMU_ACCEL_KVM && single);
	ASSERT_EQ(qemu_cmdline_accel(&c, false, &single), without);
	ASSERT_EQ(single, single_without);
	qemu_cmdline_done(&c);
}

#define ACCEL(what, kvm, nokvm, single, ...)                                                    \
	do {                                                                                    \
		char *_argv[] = { __VA_ARGS__ };                                                \
		check_accel(what, _argv, sizeof(_argv) / sizeof(_argv[0]), kvm, nokvm, single); \
	} while (0)

TEST(accel_forms)
{
	const enum qemu_accel K = QEMU_ACCEL_KVM, T = QEMU_ACCEL_TCG;

	ACCEL("-accel kvm", K, QEMU_ACCEL_UNKNOWN, false, "qemu-system-x86_64", "-accel", "kvm");
	ACCEL("--enable-kvm", K, QEMU_ACCEL_UNKNOWN, false, "qemu-system-x86_64", "--enable-kvm");
	ACCEL("accel=kvm:tcg", K, T, false, "qemu-system-x86_64", "-machine", "accel=kvm:tcg");
	ACCEL("-accel kvm -accel tcg", K, T, false, "q", "-accel", "kvm", "-accel", "tcg");
	ACCEL("tcg,thread=single", T, T, true, "q", "-accel", "tcg,thread=single", "-smp", "2");
	ACCEL("kvm, else single TCG", K, T, true, "q", "-accel", "kvm", "-accel",
	      "tcg,thread=single");
	ACCEL("-icount", T, T, true, "q", "-machine", "accel=tcg", "-icount", "shift=auto");
	/* Nothing said: TCG first, unless the program's name ends in "kvm". */
	ACCEL("qemu-system-x86_64 alone", T, T, false, "qemu-system-x86_64", "-m", "64");
	ACCEL("qemu-kvm alone", K, T, false, "/usr/libexec/qemu-kvm", "-m", "64");
	/* -enable-kvm and -machine accel= write one key: the later wins. */
	ACCEL("-enable-kvm, then accel=tcg", T, T, false, "q", "-enable-kvm", "-machine",
	      "accel=tcg");
	ACCEL("accel=tcg, then -enable-kvm", K, QEMU_ACCEL_UNKNOWN, false, "q", "-M",
	      "pc,accel=tcg", "-enable-kvm");
	/* An invalid name is skipped; so is "tcg,,thread=single" (one name, with a comma). */
	ACCEL("accel=foo:tcg", T, T, false, "q", "-machine", "accel=foo:tcg");
	ACCEL("accel=tcg,,thread=single:kvm", K, QEMU_ACCEL_UNKNOWN, false, "q", "-machine",
	      "accel=tcg,,thread=single:kvm");
	ACCEL("old -no-kvm", T, T, false, "qemu-kvm", "-no-kvm");
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

/* -uuid and -smbios type=1,uuid= set one UUID (vl.c, smbios_entry_add()): the later wins. */
TEST(uuid_sources)
{
	struct qemu_cmdline c;

	PARSE(&c, "-uuid", "6b29fc40-ca47-1067-b31d-00dd010662da", "-smbios",
	      "type=1,manufacturer=Proxmox,uuid=A2B4C6D8-0000-1111-2222-333344445555");
	ASSERT_STREQ(c.uuid, "a2b4c6d8-0000-1111-2222-333344445555");
	qemu_cmdline_done(&c);
	PARSE(&c, "-smbios", "type=1,uuid=a2b4c6d8-0000-1111-2222-333344445555", "-uuid",
	      "6b29fc40-ca47-1067-b31d-00dd010662da");
	ASSERT_STREQ(c.uuid, "6b29fc40-ca47-1067-b31d-00dd010662da");
	qemu_cmdline_done(&c);
	/* type is read with strtoul(..., 0); file= takes the option over; other types none */
	PARSE(&c, "-smbios", "type=0x1,uuid=a2b4c6d8-0000-1111-2222-333344445555", "-smbios",
	      "type=2,uuid=6b29fc40-ca47-1067-b31d-00dd010662da", "-smbios",
	      "file=/x.bin,type=1,uuid=6b29fc40-ca47-1067-b31d-00dd010662da");
	ASSERT_STREQ(c.uuid, "a2b4c6d8-0000-1111-2222-333344445555");
	qemu_cmdline_done(&c);
	/* QEMU refuses a malformed UUID: none is taken */
	PARSE(&c, "-uuid", "6b29fc40ca47-1067-b31d-00dd010662da0");
	ASSERT_TRUE(c.uuid == NULL);
	qemu_cmdline_done(&c);
}

TEST(qmp_monitors)
{
	char *many[2 + 2 * 40] = { "qemu-system-x86_64" };
	struct qemu_cmdline c;
	char ids[40][64];
	size_t n = 1;

	/* -qmp chardev:ID names a -chardev */
	PARSE(&c, "-chardev", "socket,id=qmp0,path=/run/q0.sock,server=on,wait=off", "-qmp",
	      "chardev:qmp0");
	ASSERT_STREQ(c.qmp_socket, "/run/q0.sock");
	qemu_cmdline_done(&c);
	/* several control monitors: the first QEMU listens on; one that connects out is not */
	PARSE(&c, "-chardev", "socket,id=out,path=/run/orchestrator.sock", "-mon",
	      "chardev=out,mode=control", "-qmp", "unix:/run/client.sock,server=off", "-mon",
	      "in,mode=control", "-chardev", "socket,id=in,path=/run/in.sock,server=on,wait=off",
	      "-qmp", "unix:/run/later.sock,server=on");
	ASSERT_STREQ(c.qmp_socket, "/run/in.sock");
	qemu_cmdline_done(&c);
	/* a readline monitor, an fd-passed socket, a tcp one: none of them */
	PARSE(&c, "-chardev", "socket,id=h,path=/run/h.sock,server=on", "-mon", "h", "-chardev",
	      "socket,id=f,fd=30,server=on", "-mon", "chardev=f,mode=control", "-qmp",
	      "tcp:127.0.0.1:4444,server=on", "-qmp", "mon:unix:/run/mux.sock,server=on");
	ASSERT_STREQ(c.qmp_socket, "/run/mux.sock");
	qemu_cmdline_done(&c);
	/* any number of chardevs */
	for (int i = 0; i < 39; i++) {
		snprintf(ids[i], sizeof(ids[i]), "socket,id=c%d,path=/run/c%d,server=on", i, i);
		many[n++] = "-chardev";
		many[n++] = ids[i];
	}
	many[n++] = "-qmp";
	many[n++] = "chardev:c38";
	ASSERT_OK(qemu_cmdline_parse(many, n, &c));
	ASSERT_STREQ(c.qmp_socket, "/run/c38");
	qemu_cmdline_done(&c);
	/* of a repeated id= the first counts (opts_parse_id); of path= the last */
	PARSE(&c, "-chardev", "socket,id=a,id=b,path=/x,path=/run/a,,b.sock,server=on", "-mon",
	      "chardev=a,mode=control");
	ASSERT_STREQ(c.qmp_socket, "/run/a,b.sock");
	qemu_cmdline_done(&c);
	PARSE(&c, "-chardev", "socket,id=a,id=b,path=/run/a,server=on", "-mon",
	      "chardev=b,mode=control");
	ASSERT_TRUE(c.qmp_socket == NULL);
	qemu_cmdline_done(&c);
	/* QEMU keeps 31 characters of a -qmp chardev: label */
	PARSE(&c, "-chardev", "socket,id=abcdefghijklmnopqrstuvwxyz01234,path=/run/l,server=on",
	      "-qmp", "chardev:abcdefghijklmnopqrstuvwxyz012345");
	ASSERT_STREQ(c.qmp_socket, "/run/l");
	qemu_cmdline_done(&c);
}

TEST(opts_escaping)
{
	struct qemu_cmdline c;

	/* ",," in the implied value and in key=value; an item after it still counts */
	PARSE(&c, "-name", "a,,b,,,process=p,,q", "-object", "iothread,id=io,,1");
	ASSERT_STREQ(c.name, "a,b,");
	ASSERT_STREQ(c.process_name, "p,q");
	ASSERT_EQ(c.n_iothreads, 1);
	ASSERT_STREQ(c.iothreads[0], "io,1");
	qemu_cmdline_done(&c);
	/* a repeated -object id=: the first */
	PARSE(&c, "-object", "iothread,id=first,id=second");
	ASSERT_STREQ(c.iothreads[0], "first");
	qemu_cmdline_done(&c);
	/* the empty name is no name (the uuid names the VM then) */
	PARSE(&c, "-name", "guest=", "-uuid", "6b29fc40-ca47-1067-b31d-00dd010662da");
	ASSERT_TRUE(c.name == NULL);
	qemu_cmdline_done(&c);
	/* an option that takes an argument takes the next one, even "-..." */
	PARSE(&c, "-name", "-x-", "-smp", "2");
	ASSERT_STREQ(c.name, "-x-");
	ASSERT_EQ(c.vcpus, 2);
	qemu_cmdline_done(&c);
}

/* Numbers as qemu_strtoi64(base 0); -smp and -machine smp. merge, the later winning. */
TEST(smp_numbers)
{
	struct qemu_cmdline c;

	PARSE(&c, "-smp", "0x4,maxcpus=010");
	ASSERT_EQ(c.vcpus, 4);
	ASSERT_EQ(c.maxcpus, 8);
	qemu_cmdline_done(&c);
	PARSE(&c, "-smp", " +3");
	ASSERT_EQ(c.vcpus, 3);
	qemu_cmdline_done(&c);
	PARSE(&c, "-smp", "4", "-machine", "q35,smp.cpus=6", "-smp", "maxcpus=12");
	ASSERT_EQ(c.vcpus, 6);
	ASSERT_EQ(c.maxcpus, 12);
	qemu_cmdline_done(&c);
	/* what QEMU refuses counts as not given: the counts stay coherent */
	PARSE(&c, "-smp", "4x", "-smp", "maxcpus=-2");
	ASSERT_EQ(c.vcpus, 1);
	ASSERT_EQ(c.maxcpus, 1);
	qemu_cmdline_done(&c);
	PARSE(&c, "-smp", "99999999999999999999,sockets=70000,cores=70000,threads=70000");
	ASSERT_TRUE(c.vcpus >= 1 && c.vcpus <= c.maxcpus);
	qemu_cmdline_done(&c);
}

/* machine_parse_smp_config(): cores-first since 6.2, sockets-first for older machine types. */
TEST(smp_topology)
{
	static const struct {
		const char *machine, *smp;
		unsigned vcpus, maxcpus, sockets, cores, threads;
	} cases[] = {
		{ NULL, "8", 8, 8, 1, 8, 1 },
		{ "pc-i440fx-6.1", "8", 8, 8, 8, 1, 1 },
		{ "pc-q35-6.2", "8", 8, 8, 1, 8, 1 },
		{ "pc-q35-5.2", "8,sockets=2", 8, 8, 2, 4, 1 },
		{ "q35", "8,cores=2", 8, 8, 4, 2, 1 },
		{ "pc-i440fx-8.1+pve0", "4,maxcpus=8", 4, 8, 1, 8, 1 },
		{ "pc-1.0", "4,maxcpus=8", 4, 8, 8, 1, 1 },
		{ "pc-q35-rhel8.6.0", "4", 4, 4, 4, 1, 1 },
		{ "pc-q35-rhel9.2.0", "4", 4, 4, 1, 4, 1 },
		{ NULL, "sockets=2,cores=3,threads=2", 12, 12, 2, 3, 2 },
		{ NULL, "12,sockets=2,cores=3", 12, 12, 2, 3, 2 },
		{ "pc-q35-4.2", "6,threads=2", 6, 6, 3, 1, 2 },
		{ NULL, "6,threads=2", 6, 6, 1, 3, 2 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char m[64];
		struct qemu_cmdline c;

		snprintf(m, sizeof(m), "%s", cases[i].machine ?: "pc");
		PARSE(&c, "-machine", m, "-smp", (char *)cases[i].smp);
		printf("  -M %s -smp %s: %u (max %u) = %u sockets x %u cores x %u threads\n", m,
		       cases[i].smp, c.vcpus, c.maxcpus, c.sockets, c.cores, c.threads);
		ASSERT_EQ(c.vcpus, cases[i].vcpus);
		ASSERT_EQ(c.maxcpus, cases[i].maxcpus);
		ASSERT_EQ(c.sockets, cases[i].sockets);
		ASSERT_EQ(c.cores, cases[i].cores);
		ASSERT_EQ(c.threads, cases[i].threads);
		qemu_cmdline_done(&c);
	}
}

/* include/hw/i386/topology.h: thread | core | module | die | socket, each field rounded up. */
TEST(apic_ids_by_machine)
{
	struct qemu_cmdline c;

	/* -smp 6 on a 6.2+ machine: 1 socket x 6 cores (3 bits): APIC ids 0..5 */
	PARSE(&c, "-smp", "6");
	ASSERT_EQ(qemu_apic_id_to_cpu_index(&c, 5), 5);
	qemu_cmdline_done(&c);
	/* -smp 6,cores=3 on 6.1: 2 sockets of 3 cores (2 bits): socket 1 starts at 4 */
	PARSE(&c, "-M", "pc-i440fx-6.1", "-smp", "6,cores=3");
	ASSERT_EQ(c.sockets, 2);
	ASSERT_EQ(qemu_apic_id_to_cpu_index(&c, 3), -1);
	ASSERT_EQ(qemu_apic_id_to_cpu_index(&c, 4), 3);
	ASSERT_EQ(qemu_cpu_index_to_apic_id(&c, 5), 6);
	qemu_cmdline_done(&c);
	/* dies and modules take their bits between cores and sockets */
	PARSE(&c, "-smp", "sockets=2,dies=2,modules=3,cores=1,threads=2");
	ASSERT_EQ(c.maxcpus, 24);
	ASSERT_EQ(qemu_cpu_index_to_apic_id(&c, 2), 2);	  /* module 1 */
	ASSERT_EQ(qemu_cpu_index_to_apic_id(&c, 6), 8);	  /* die 1 */
	ASSERT_EQ(qemu_cpu_index_to_apic_id(&c, 12), 16); /* socket 1 */
	ASSERT_EQ(qemu_apic_id_to_cpu_index(&c, 6), -1);  /* module 3 of 3 */
	ASSERT_EQ(qemu_cpu_index_to_apic_id(&c, 24), -1); /* past maxcpus */
	for (unsigned i = 0; i < 24; i++)
		ASSERT_EQ(qemu_apic_id_to_cpu_index(&c, (unsigned)qemu_cpu_index_to_apic_id(&c, i)),
			  i);
	qemu_cmdline_done(&c);
	/* pc-1.3 and older: APIC id = cpu-index */
	PARSE(&c, "-M", "pc-1.3", "-smp", "6,cores=3");
	ASSERT_EQ(qemu_apic_id_to_cpu_index(&c, 3), 3);
	qemu_cmdline_done(&c);
}

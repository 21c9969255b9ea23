// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The configuration parser: good files, and bad ones with their messages. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "unit.h"

/* Write text to a fresh temporary file; its path goes in path. */
static int write_conf(const char *text, char *path, size_t len)
{
	FILE *f;
	int fd;

	snprintf(path, len, "/tmp/nfsg-unit-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -1;
	}
	fputs(text, f);
	fclose(f);
	return 0;
}

/* Parse text; the caller frees s and errs. */
static int parse(const char *text, struct policy_set *s,
		 struct config_errors *errs, char *path, size_t len)
{
	int err;

	if (write_conf(text, path, len))
		return -EIO;
	err = config_read(path, s, NULL, errs);
	unlink(path);
	return err;
}

TEST(container_host_example)
{
	static const char text[] =
		"# a container host\n"
		"[policy kube]\n"
		"cgroups = /kubepods.slice\n"
		"privileged_uids = none\n"
		"\n"
		"[default]\n"
		"ports = 2049, 20048-20049   # NFS and mountd\n"
		"privileged_uids = 0\n"
		"\n"
		"[policy backup]\n"
		"cgroups = /system.slice/backup.service\n"
		"privileged_uids = 34 ; backup\n"
		"   35-36\n"
		"privileged_gids = 50\n"
		"allow_destinations = 10.1.2.3/8 fd00::5\n"
		"protocols = tcp, udp\n"
		"mode = audit\n";
	struct config_errors errs = {};
	struct policy_set s;
	char path[64], buf[256];
	int err = parse(text, &s, &errs, path, sizeof(path));

	CHECK(err == 0 && errs.n == 0);
	CHECK(s.n == 3);
	/* [default] comes first whatever its place; policies inherit it. */
	policy_describe(&s.p[0], buf, sizeof(buf));
	CHECK_STR(buf, "enforce: tcp ports 2049,20048-20049, privileged uids 0 gids none, local ports 20049-21049 (loopback destinations)");
	policy_describe(&s.p[1], buf, sizeof(buf));
	CHECK_STR(buf, "enforce: tcp ports 2049,20048-20049, privileged uids none gids none, local ports 20049-21049 (loopback destinations)");
	CHECK_STR(s.p[1].k.name, "kube");
	CHECK(s.p[1].n_cgroups == 1);
	CHECK_STR(s.p[1].cgroups[0], "/kubepods.slice");
	policy_describe(&s.p[2], buf, sizeof(buf));
	CHECK_STR(buf, "audit: tcp,udp ports 2049,20048-20049, privileged uids 34,35-36 gids 50, local ports 20049-21049 (loopback destinations), 2 allowed destinations");
	policy_format_cidr(&s.p[2].dests[0], buf, sizeof(buf));
	CHECK_STR(buf, "10.0.0.0/8");
	policy_format_cidr(&s.p[2].dests[1], buf, sizeof(buf));
	CHECK_STR(buf, "fd00::5/128");
	CHECK(s.p[2].k.flags & NFSG_POLICY_ALLOWLIST);
	policy_set_free(&s);
}

TEST(empty_file_is_the_default)
{
	struct config_errors errs = {};
	struct policy_set s;
	char path[64], buf[256];

	CHECK(parse("# nothing here\n", &s, &errs, path, sizeof(path)) == 0);
	CHECK(s.n == 1);
	policy_describe(&s.p[0], buf, sizeof(buf));
	policy_set_free(&s);
	CHECK_STR(buf, "enforce: tcp ports 2049, privileged uids 0 gids none, local ports 20049-21049 (loopback destinations)");
}

TEST(missing_file)
{
	struct config_errors errs = {};
	struct policy_set s;

	CHECK(config_read("/nonexistent/nfsguard.conf", &s, NULL, &errs) == -ENOENT);
	CHECK(errs.n == 0 && s.n == 0);
}

struct bad_case {
	const char *text;
	const char *want;	/* the first message, after "PATH:" */
};

static const struct bad_case bad_cases[] = {
	{ "[default]\nports = 70000\n",
	  "2: ports: invalid value '70000': expected a number or range from 1 to 65535" },
	{ "[default]\nports = 0\n",
	  "2: ports: invalid value '0'" },
	{ "[default]\nports = 9-3\n",
	  "2: ports: invalid value '9-3'" },
	{ "[default]\nports = 2049x\n",
	  "2: ports: invalid value '2049x'" },
	{ "[default]\nprivileged_uids = root\n",
	  "2: privileged_uids: invalid value 'root': expected a number or range from 0 to 4294967294, or none" },
	{ "[default]\nprivileged_uids = 4294967295\n",
	  "2: privileged_uids: invalid value '4294967295'" },
	{ "[default]\nprivileged_uids = none, 0\n",
	  "2: privileged_uids: 'none' cannot be combined with other values in 'none, 0'" },
	{ "[default]\nmode = sometimes\n",
	  "2: mode: invalid value 'sometimes': expected enforce, audit or off" },
	{ "[default]\nprotocols = sctp\n",
	  "2: protocols: invalid value 'sctp': expected tcp or udp" },
	{ "[default]\nallow_destinations = 300.1.1.1\n",
	  "2: allow_destinations: invalid value '300.1.1.1'" },
	{ "[default]\nallow_destinations = 10.0.0.0/33\n",
	  "2: allow_destinations: invalid value '10.0.0.0/33'" },
	{ "[default]\nfrobnicate = 1\n",
	  "2: unknown key 'frobnicate'" },
	{ "[default]\ncgroups = /x\n",
	  "2: unknown key 'cgroups': [default] applies to every cgroup without a policy" },
	{ "[default]\nports =\n",
	  "2: ports: no value" },
	{ "[default]\nports = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n",
	  "2: ports: '17' is one range too many: at most 16 per policy" },
	{ "ports = 2049\n",
	  "1: key 'ports' is outside of any known section" },
	{ "[default\nports = 1\n",
	  "1: section '[default' has no closing ']'" },
	{ "[default]\njust words\n",
	  "2: 'just words' is not 'key = value' or a [section]" },
	{ "[weird]\n",
	  "1: unknown section [weird]: expected [default], [policy NAME] or [agent]" },
	{ "[agent]\nmetrics = 9108\n",
	  "2: metrics: invalid value '9108': expected ADDRESS:PORT" },
	{ "[agent]\nmetrics = localhost:9108\n",
	  "2: metrics: invalid value 'localhost:9108'" },
	{ "[agent]\nmetrics = 127.0.0.1:0\n",
	  "2: metrics: invalid value '127.0.0.1:0'" },
	{ "[agent]\nmetrics = ::1:9108\n",
	  "2: metrics: invalid value '::1:9108'" },
	{ "[agent]\nmetrics = 127.0.0.1:9108\nmetrics = 127.0.0.1:9109\n",
	  "3: metrics: given twice (lines 2 and 3): keep one" },
	{ "[agent]\ncontrol_group = -wheel\n",
	  "2: control_group: invalid value '-wheel': expected a group's name" },
	{ "[agent]\ncontrol_group = a b\n",
	  "2: control_group: invalid value 'a b'" },
	{ "[agent]\nports = 2049\n",
	  "2: unknown key 'ports' in [agent]: expected metrics or control_group" },
	{ "[agent]\n[agent]\n",
	  "2: [agent] is defined twice (first at line 1)" },
	{ "[policy bad/name]\ncgroups = /x\n",
	  "1: invalid policy name 'bad/name'" },
	{ "[policy default]\ncgroups = /x\n",
	  "1: invalid policy name 'default'" },
	{ "[policy a]\ncgroups = /x\n[policy a]\ncgroups = /y\n",
	  "3: policy 'a' is defined twice (first at line 1)" },
	{ "[policy a]\nmode = audit\n",
	  "1: policy 'a' names no cgroups: add cgroups = /path" },
	{ "[policy a]\ncgroups = kubepods\n",
	  "2: cgroups: invalid path 'kubepods': it must start with '/'" },
	{ "[policy a]\ncgroups = /\n",
	  "2: cgroups: invalid path '/': it is the cgroup2 root" },
	{ "[policy a]\ncgroups = /a/../b\n",
	  "2: cgroups: invalid path '/a/../b': it has a '.' or '..' component" },
	{ "[policy a]\ncgroups = /a//b\n",
	  "2: cgroups: invalid path '/a//b': it has an empty component" },
	{ "[policy a]\ncgroups = /x\n[policy b]\ncgroups = /x\n",
	  "4: cgroups: '/x' is already governed by policy 'a' (line 1)" },
	{ "[default]\nports = 2049\n[default]\nports = 1\n",
	  "3: [default] is defined twice (first at line 1)" },
	/* A single value given twice names both lines; lists add up. */
	{ "[default]\nmode = audit\nports = 2049\nmode = enforce\n",
	  "4: mode: given twice in this section (lines 2 and 4): keep one" },
	{ "[policy a]\ncgroups = /a\nmode = audit\n  enforce\n",
	  "4: mode: given twice in this section (lines 3 and 4)" },
	{ "[default]\nprotocols = tcp\nprotocols = udp\nports = 1\n"
	  "xx = " "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789\n",
	  "5: line longer than 198 characters" },
};

TEST(agent_section_sets_metrics_and_control_group)
{
	static const char text[] =
		"[agent]\n"
		"metrics = [::1]:9108   # IPv6 in brackets\n"
		"control_group = nfsguard\n"
		"[default]\n"
		"ports = 2049\n";
	struct config_errors errs = {};
	struct config_agent ag;
	struct policy_set s;
	char path[64];
	int err;

	CHECK(write_conf(text, path, sizeof(path)) == 0);
	err = config_read(path, &s, &ag, &errs);
	unlink(path);
	CHECK(err == 0 && errs.n == 0 && s.n == 1);
	CHECK(!strcmp(ag.metrics, "[::1]:9108") && ag.metrics_line == 2);
	CHECK(!strcmp(ag.control_group, "nfsguard") && ag.control_group_line == 3);
	policy_set_free(&s);
	/* Without the section: unset, line 0. */
	CHECK(write_conf("[default]\nports = 2049\n", path, sizeof(path)) == 0);
	err = config_read(path, &s, &ag, &errs);
	unlink(path);
	CHECK(err == 0 && !ag.metrics[0] && !ag.metrics_line &&
	      !ag.control_group[0] && !ag.control_group_line);
	policy_set_free(&s);
}

TEST(bad_files_name_line_and_value)
{
	struct config_errors errs = {};
	struct policy_set s;
	char path[64], want[512];
	size_t i;
	int err;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		err = parse(bad_cases[i].text, &s, &errs, path, sizeof(path));
		snprintf(want, sizeof(want), "%s:%s", path, bad_cases[i].want);
		if (err != -EINVAL || !errs.n ||
		    strncmp(errs.msg[0], want, strlen(want))) {
			snprintf(why, why_len, "case %zu: got %d '%s', want '%s'", i,
				 err, errs.n ? errs.msg[0] : "(no message)", want);
			config_errors_free(&errs);
			return;
		}
		config_errors_free(&errs);
		CHECK(s.n == 0 && !s.p);
	}
}

TEST(every_error_is_listed_in_file_order)
{
	static const char text[] =
		"[default]\n"
		"ports = 70000\n"
		"garbage\n"
		"mode = loud\n";
	struct config_errors errs = {};
	struct policy_set s;
	char path[64];

	CHECK(parse(text, &s, &errs, path, sizeof(path)) == -EINVAL);
	int ok = errs.n == 3 && errs.line[0] == 2 && errs.line[1] == 3 &&
		 errs.line[2] == 4;
	config_errors_free(&errs);
	CHECK(ok);
}

TEST(list_keys_add_up_single_keys_once_per_section)
{
	static const char text[] =
		"[default]\n"
		"mode = audit\n"
		"ports = 2049\n"
		"ports = 20048\n"
		"[policy a]\n"
		"cgroups = /a\n"
		"cgroups = /b\n"
		"mode = enforce\n";
	struct config_errors errs = {};
	struct policy_set s;
	char path[64];

	CHECK(parse(text, &s, &errs, path, sizeof(path)) == 0);
	CHECK(s.n == 2 && s.p[0].k.n_ports == 2 && s.p[1].n_cgroups == 2);
	/* mode once in [default] and once in [policy a]: no conflict. */
	CHECK(s.p[0].k.mode == NFSG_MODE_AUDIT && s.p[1].k.mode == NFSG_MODE_ENFORCE);
	policy_set_free(&s);
}

/* config_read(path): its error code and first message after "path: ". */
static int read_error(const char *path, char *msg, size_t len)
{
	struct config_errors errs = {};
	struct policy_set s;
	int err = config_read(path, &s, NULL, &errs);

	snprintf(msg, len, "%s", errs.n ? errs.msg[0] + strlen(path) + 2 : "");
	config_errors_free(&errs);
	policy_set_free(&s);
	return err;
}

TEST(only_regular_files_of_sane_size)
{
	char msg[512], dir[] = "/tmp/nfsg-unit-dir-XXXXXX", path[64];
	FILE *f;
	int err;

	CHECK(mkdtemp(dir));
	err = read_error(dir, msg, sizeof(msg));
	rmdir(dir);
	CHECK(err == -EISDIR);
	CHECK_PREFIX(msg, "is a directory");
	/* A device that never ends is refused before a byte is read. */
	CHECK(read_error("/dev/zero", msg, sizeof(msg)) == -EINVAL);
	CHECK_PREFIX(msg, "is not a regular file");
	/* Over the limit: refused by its size. */
	CHECK(write_conf("", path, sizeof(path)) == 0);
	f = fopen(path, "w");
	CHECK(f);
	err = fseek(f, CONFIG_MAX_BYTES, SEEK_SET) || fputc('\n', f) == EOF;
	fclose(f);
	CHECK(!err);
	err = read_error(path, msg, sizeof(msg));
	unlink(path);
	CHECK(err == -EFBIG);
	CHECK(strstr(msg, "more than the 4 MiB"));
}

TEST(too_many_policies_is_one_line_in_linear_time)
{
	struct config_errors errs = {};
	struct policy_set s;
	struct timespec t0, t1;
	char path[64];
	size_t i, len = 0;
	FILE *f;
	int err;

	CHECK(write_conf("", path, sizeof(path)) == 0);
	f = fopen(path, "w");
	CHECK(f);
	for (i = 0; i < 200000; i++)
		fprintf(f, "[policy %zu]\n", i);
	len = ftell(f);
	fclose(f);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = config_read(path, &s, NULL, &errs);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unlink(path);
	CHECK(len > 0 && len < CONFIG_MAX_BYTES);
	i = errs.n;
	err = err == -EINVAL && i &&
	      strstr(errs.msg[0], ":1024: too many policies (200000, at most 1023)");
	config_errors_free(&errs);
	CHECK(err && i == 1);
	CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 2000);
}

TEST(cgroups_outside_the_attach_point_are_named)
{
	static const char text[] =
		"[policy in]\ncgroups = /system.slice/a.service, /system.slice\n"
		"[policy above]\ncgroups = /\x73ystem.slice/..x\n"
		"[policy out]\ncgroups = /kubepods.slice, /system.slicex\n";
	struct config_errors errs = {};
	struct policy_set s;
	char path[64];
	size_t n[4];
	int saved = dup(2), nul = open("/dev/null", O_WRONLY);

	CHECK(parse(text, &s, &errs, path, sizeof(path)) == 0);
	/* The warnings go to stderr: not into the suite's output. */
	if (saved >= 0 && nul >= 0)
		dup2(nul, 2);
	n[0] = config_warn_outside(&s, "/");
	n[1] = config_warn_outside(&s, "/system.slice");
	n[2] = config_warn_outside(&s, "/system.slice/a.service");
	n[3] = config_warn_outside(&s, "/kubepods.slice/");
	if (saved >= 0 && nul >= 0)
		dup2(saved, 2);
	if (saved >= 0)
		close(saved);
	if (nul >= 0)
		close(nul);
	policy_set_free(&s);
	CHECK(n[0] == 0);
	CHECK(n[1] == 2);	/* /kubepods.slice, /system.slicex */
	CHECK(n[2] == 3);	/* /system.slice is above: it governs */
	CHECK(n[3] == 4);
}

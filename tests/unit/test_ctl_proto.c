// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The control socket's answers as a client reads them (ctl_proto.h). */
#include <errno.h>
#include <string.h>
#include "ctl_proto.h"
#include "unit.h"

static int answer(const char *line, struct ctl_answer *a)
{
	return ctl_parse_answer(line, strlen(line), a);
}

TEST(answer_uninstall_done)
{
	struct ctl_answer a;

	CHECK(!answer("{\"ok\":true,\"type\":\"uninstall\",\"pid\":42,\"kept\":true}",
		      &a));
	CHECK(a.ok && a.kept && a.pid == 42);
	CHECK_STR(a.type, "uninstall");
	CHECK_STR(a.reason, "");
}

TEST(answer_uninstall_refused_has_its_code)
{
	struct ctl_answer a;

	CHECK(!answer("{\"ok\":false,\"type\":\"uninstall\",\"reason\":\"not_root\","
		      "\"error\":\"root only\",\"pin_dir\":\"\\/sys\\/fs\\/bpf\\/x\"}",
		      &a));
	CHECK(!a.ok && !a.kept && !a.pid);
	CHECK_STR(a.reason, "not_root");
	CHECK_STR(a.error, "root only");
	CHECK_STR(a.pin_dir, "/sys/fs/bpf/x");
}

TEST(answer_unknown_keys_are_skipped)
{
	struct ctl_answer a;

	CHECK(!answer("{\"ok\":true,\"later\":\"x\",\"n\":7,\"b\":false}", &a));
	CHECK(a.ok);
}

TEST(answer_bad_ones_are_refused)
{
	static const char *const bad[] = {
		"", "{}", "{\"type\":\"uninstall\"}", "{\"ok\":1}",
		"{\"ok\":true,\"ok\":false}", "{\"ok\":true} x",
		"{\"ok\":true,\"pid\":-1}", "{\"ok\":true,\"pid\":99999999999}",
		"{\"ok\":true,\"type\":[\"x\"]}", "{\"ok\":true,\"kept\":\"yes\"}",
		"{\"ok\":true", "ok",
	};
	struct ctl_answer a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(answer(bad[i], &a) == -EINVAL);
}

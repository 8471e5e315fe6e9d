/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * include/smp_port.h over Zephyr's statistics (src/port/stats.rs), for the statistics
 * group. Built with CONFIG_SMP_RS_GRP_STAT (CMakeLists.txt), which depends on CONFIG_STATS.
 *
 * Called from Rust (src/port/), on the SMP work queue thread only.
 */

#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/stats/stats.h>
#include <zephyr/sys/util.h>

#include "smp_glue.h"
#include "smp_port.h"

struct stat_query {
	uint32_t want;
	uint32_t seen;
	const char *name;
	uint16_t off;
};

static int stat_cb(struct stats_hdr *hdr, void *arg, const char *name, uint16_t off)
{
	struct stat_query *q = arg;

	ARG_UNUSED(hdr);
	if (q->seen++ == q->want) {
		q->name = name;
		q->off = off;
		return 1; /* stop */
	}
	return 0;
}

int32_t smp_port_stats_group(uint32_t index, uint8_t *name, size_t name_cap)
{
	struct stats_hdr *hdr = stats_group_get_next(NULL);
	size_t n;

	for (uint32_t i = 0; hdr != NULL && i < index; i++) {
		hdr = stats_group_get_next(hdr);
	}
	if (hdr == NULL) {
		return SMP_PORT_ENOENT;
	}
	n = MIN(strlen(hdr->s_name), name_cap);
	memcpy(name, hdr->s_name, n);
	return (int32_t)n;
}

int32_t smp_port_stats_entry(const uint8_t *group, size_t group_len, uint32_t index,
			     uint8_t *name, size_t name_cap, uint64_t *value)
{
	char gname[CONFIG_SMP_RS_STAT_MAX_NAME_LEN + 1];
	struct stat_query q = {.want = index};
	struct stats_hdr *hdr;
	const uint8_t *p;
	size_t n;
	int32_t rc = smp_glue_c_str(gname, sizeof(gname), group, group_len);

	if (rc != 0) {
		return SMP_PORT_ENOENT;
	}
	hdr = stats_group_find(gname);
	if (hdr == NULL) {
		return SMP_PORT_ENOENT;
	}
	(void)stats_walk(hdr, stat_cb, &q);
	if (q.name == NULL) {
		return SMP_PORT_ENOENT;
	}
	p = (const uint8_t *)hdr + q.off;
	switch (hdr->s_size) {
	case sizeof(uint16_t):
		*value = *(const uint16_t *)p;
		break;
	case sizeof(uint32_t):
		*value = *(const uint32_t *)p;
		break;
	case sizeof(uint64_t):
		*value = *(const uint64_t *)p;
		break;
	default:
		return SMP_PORT_EIO;
	}
	n = MIN(strlen(q.name), name_cap);
	memcpy(name, q.name, n);
	return (int32_t)n;
}

#ifndef DECLS_STATS_H_
#define DECLS_STATS_H_
/* zephyrproject-rtos/zephyr include/zephyr/stats/stats.h @ 8a9013776c69. */
#include <stdint.h>
struct stats_name_map {
	uint16_t snm_off;
	const char *snm_name;
} __attribute__((packed));
struct stats_hdr {
	const char *s_name;
	uint8_t s_size;
	uint16_t s_cnt;
	uint8_t s_pad1;
#ifdef CONFIG_STATS_NAMES
	const struct stats_name_map *s_map;
	int s_map_cnt;
#endif
	struct stats_hdr *s_next;
};
typedef int stats_walk_fn(struct stats_hdr *hdr, void *arg, const char *name, uint16_t off);
int stats_walk(struct stats_hdr *hdr, stats_walk_fn *walk_cb, void *arg);
struct stats_hdr *stats_group_get_next(const struct stats_hdr *cur);
struct stats_hdr *stats_group_find(const char *name);
#endif

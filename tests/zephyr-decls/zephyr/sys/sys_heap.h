#ifndef DECLS_SYS_HEAP_H_
#define DECLS_SYS_HEAP_H_
/* zephyrproject-rtos/zephyr include/zephyr/sys/sys_heap.h @ eecba65e3b3e and
 * include/zephyr/sys/mem_stats.h @ 88ba54c9412d (struct sys_memory_stats).
 */
#include <stddef.h>
struct sys_heap;
struct sys_memory_stats {
	size_t free_bytes;
	size_t allocated_bytes;
	size_t max_allocated_bytes;
};
#ifdef CONFIG_SYS_HEAP_RUNTIME_STATS
int sys_heap_runtime_stats_get(struct sys_heap *heap, struct sys_memory_stats *stats);
#endif
int sys_heap_array_get(struct sys_heap ***heap);
#endif

#ifndef DECLS_SYS_HEAP_H_
#define DECLS_SYS_HEAP_H_
#include <stddef.h>
struct sys_heap;
struct sys_memory_stats {
	size_t free_bytes;
	size_t allocated_bytes;
	size_t max_allocated_bytes;
};
int sys_heap_runtime_stats_get(struct sys_heap *heap, struct sys_memory_stats *stats);
int sys_heap_array_get(struct sys_heap ***heap);
#endif

#ifndef DECLS_KERNEL_H_
#define DECLS_KERNEL_H_
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <zephyr/sys/util.h>

typedef struct { int64_t ticks; } k_timeout_t;
#define K_NO_WAIT ((k_timeout_t){0})
#define K_FOREVER ((k_timeout_t){-1})
#define K_MSEC(ms) ((k_timeout_t){(ms)})

struct _thread_base { uint8_t thread_state; };
struct _thread_stack_info { uintptr_t start; size_t size; size_t delta; };
struct k_thread {
	struct _thread_base base;
	struct _thread_stack_info stack_info;
};
typedef struct k_thread *k_tid_t;
typedef struct { int dummy; } k_thread_stack_t;
typedef void (*k_thread_entry_t)(void *p1, void *p2, void *p3);
typedef void (*k_thread_user_cb_t)(const struct k_thread *thread, void *user_data);
typedef struct { uint64_t execution_cycles; } k_thread_runtime_stats_t;

#define K_THREAD_STACK_DEFINE(sym, size) k_thread_stack_t sym[(size) / sizeof(k_thread_stack_t)]
#define K_THREAD_STACK_SIZEOF(sym) sizeof(sym)

k_tid_t k_thread_create(struct k_thread *new_thread, k_thread_stack_t *stack, size_t stack_size,
			k_thread_entry_t entry, void *p1, void *p2, void *p3, int prio,
			uint32_t options, k_timeout_t delay);
int k_thread_name_set(k_tid_t thread, const char *str);
const char *k_thread_name_get(k_tid_t thread);
int k_thread_priority_get(k_tid_t thread);
void k_thread_foreach(k_thread_user_cb_t user_cb, void *user_data);
int k_thread_stack_space_get(const struct k_thread *thread, size_t *unused_ptr);
int k_thread_runtime_stats_get(k_tid_t thread, k_thread_runtime_stats_t *stats);
int32_t k_sleep(k_timeout_t timeout);
int64_t k_uptime_get(void);
#include <zephyr/sys/printk.h>

/* Enough state for tests/glue-host/ to implement the slab (up to 32 blocks). */
struct k_mem_slab {
	char *buffer;
	size_t block_size;
	uint32_t num_blocks;
	uint32_t used;
};
#define K_MEM_SLAB_DEFINE_STATIC(name, slab_block_size, slab_num_blocks, slab_align) \
	static char name##_buffer[(slab_block_size) * (slab_num_blocks)]              \
		__attribute__((aligned(slab_align)));                                 \
	static struct k_mem_slab name = {name##_buffer, (slab_block_size), (slab_num_blocks), 0}
int k_mem_slab_alloc(struct k_mem_slab *slab, void **mem, k_timeout_t timeout);
void k_mem_slab_free(struct k_mem_slab *slab, void *mem);

struct k_fifo { void *head, *tail; };
#define K_FIFO_DEFINE(name) struct k_fifo name
/* Real ones are macros over k_queue; same argument types. */
void k_fifo_put(struct k_fifo *fifo, void *data);
void *k_fifo_get(struct k_fifo *fifo, k_timeout_t timeout);

struct k_work;
typedef void (*k_work_handler_t)(struct k_work *work);
struct k_work { k_work_handler_t handler; };
struct k_work_delayable { struct k_work work; };
struct k_work_q { struct k_thread thread; };
struct k_work_queue_config { const char *name; bool no_yield; bool essential; };
void k_work_init(struct k_work *work, k_work_handler_t handler);
void k_work_init_delayable(struct k_work_delayable *dwork, k_work_handler_t handler);
int k_work_submit_to_queue(struct k_work_q *queue, struct k_work *work);
int k_work_schedule_for_queue(struct k_work_q *queue, struct k_work_delayable *dwork,
			      k_timeout_t delay);
/* k_work_queue_init(), k_work_queue_start(): include/zephyr/kernel.h, implemented in
 * kernel/work.c @ 290b04a308dd (same signatures; init must precede the first start).
 */
void k_work_queue_init(struct k_work_q *queue);
void k_work_queue_start(struct k_work_q *queue, k_thread_stack_t *stack, size_t stack_size,
			int prio, const struct k_work_queue_config *cfg);
#endif

/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * include/smp_port.h for the OS group (src/port/os.rs): threads (taskstat), heaps
 * (mpstat), the RTC (datetime) and the identity strings of "os info". Built with
 * CONFIG_SMP_RS_GRP_OS (CMakeLists.txt). Logging, uptime and the reset are in smp_queue.c.
 *
 * Called from Rust (src/port/), on the SMP work queue thread only.
 */

#include <string.h>

#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>
#include <zephyr/sys/util.h>
#include <zephyr/version.h>

#if DT_HAS_ALIAS(rtc) && defined(CONFIG_RTC)
#include <zephyr/drivers/rtc.h>
#define SMP_HAS_RTC 1
#endif
#if defined(CONFIG_SYS_HEAP_RUNTIME_STATS) && CONFIG_SYS_HEAP_ARRAY_SIZE > 0
#include <zephyr/sys/sys_heap.h>
#define SMP_HAS_HEAP_STATS 1
#endif
#ifdef CONFIG_NET_HOSTNAME_ENABLE
#include <zephyr/net/hostname.h>
#endif

#include "smp_glue.h"
#include "smp_port.h"

/* ---- threads ---------------------------------------------------------------------- */

struct thread_query {
	uint32_t want;
	uint32_t seen;
	const struct k_thread *found;
};

static void thread_cb(const struct k_thread *thread, void *user_data)
{
	struct thread_query *q = user_data;

	if (q->seen++ == q->want) {
		q->found = thread;
	}
}

int32_t smp_port_thread_get(uint32_t index, uint8_t *name, size_t name_cap, size_t *name_len,
			    int32_t *prio, uint32_t *state, uint32_t *stack_size,
			    uint32_t *stack_used, uint64_t *runtime, uint32_t *flags)
{
	struct thread_query q = {.want = index};
	struct k_thread *t;
	const char *tname = NULL;
	size_t n;

#ifdef CONFIG_THREAD_MONITOR
	k_thread_foreach(thread_cb, &q);
#else
	ARG_UNUSED(thread_cb);
#endif
	if (q.found == NULL) {
		return SMP_PORT_ENOENT;
	}
	t = (struct k_thread *)q.found;
#ifdef CONFIG_THREAD_NAME
	tname = k_thread_name_get(t);
#endif
	if (tname == NULL || tname[0] == '\0') {
		static char num[12];

		snprintk(num, sizeof(num), "%u", (unsigned int)index);
		tname = num;
	}
	n = MIN(strlen(tname), name_cap);
	memcpy(name, tname, n);
	*name_len = n;
	*prio = k_thread_priority_get(t);
	*state = t->base.thread_state;
	*flags = 0;
#if defined(CONFIG_THREAD_STACK_INFO) && defined(CONFIG_INIT_STACKS)
	{
		size_t unused = 0;

		if (k_thread_stack_space_get(t, &unused) == 0) {
			*stack_size = (uint32_t)t->stack_info.size;
			*stack_used = (uint32_t)(t->stack_info.size - unused);
			*flags |= SMP_PORT_THREAD_HAS_STACK;
		}
	}
#else
	ARG_UNUSED(stack_size);
	ARG_UNUSED(stack_used);
#endif
#ifdef CONFIG_SCHED_THREAD_USAGE
	{
		k_thread_runtime_stats_t rt;

		if (k_thread_runtime_stats_get(t, &rt) == 0) {
			*runtime = rt.execution_cycles;
			*flags |= SMP_PORT_THREAD_HAS_RUNTIME;
		}
	}
#else
	ARG_UNUSED(runtime);
#endif
	return 0;
}

int32_t smp_port_heap_get(uint32_t index, uint64_t *size, uint64_t *free_bytes,
			  uint64_t *min_free)
{
#ifdef SMP_HAS_HEAP_STATS
	struct sys_heap **heaps;
	struct sys_memory_stats st;
	int count = sys_heap_array_get(&heaps);
	int err;

	if (count < 0) {
		return smp_glue_port_err(count);
	}
	if (index >= (uint32_t)count) {
		return SMP_PORT_ENOENT;
	}
	err = sys_heap_runtime_stats_get(heaps[index], &st);
	if (err != 0) {
		return smp_glue_port_err(err);
	}
	*size = st.free_bytes + st.allocated_bytes;
	*free_bytes = st.free_bytes;
	*min_free = *size - st.max_allocated_bytes;
	return 0;
#else
	ARG_UNUSED(index);
	ARG_UNUSED(size);
	ARG_UNUSED(free_bytes);
	ARG_UNUSED(min_free);
	return SMP_PORT_ENOTSUP;
#endif
}

/* ---- RTC ------------------------------------------------------------------------------ */

int32_t smp_port_rtc_get(uint16_t *fields)
{
#ifdef SMP_HAS_RTC
	const struct device *rtc = DEVICE_DT_GET(DT_ALIAS(rtc));
	struct rtc_time t;
	int err = rtc_get_time(rtc, &t);

	if (err != 0) {
		return smp_glue_port_err(err);
	}
	fields[0] = (uint16_t)(t.tm_year + 1900);
	fields[1] = (uint16_t)(t.tm_mon + 1);
	fields[2] = (uint16_t)t.tm_mday;
	fields[3] = (uint16_t)t.tm_hour;
	fields[4] = (uint16_t)t.tm_min;
	fields[5] = (uint16_t)t.tm_sec;
	fields[6] = (uint16_t)(t.tm_nsec / 1000000);
	return 0;
#else
	ARG_UNUSED(fields);
	return SMP_PORT_ENOTSUP;
#endif
}

int32_t smp_port_rtc_set(const uint16_t *fields)
{
#ifdef SMP_HAS_RTC
	const struct device *rtc = DEVICE_DT_GET(DT_ALIAS(rtc));
	struct rtc_time t = {
		.tm_year = fields[0] - 1900,
		.tm_mon = fields[1] - 1,
		.tm_mday = fields[2],
		.tm_hour = fields[3],
		.tm_min = fields[4],
		.tm_sec = fields[5],
		.tm_nsec = fields[6] * 1000000,
		.tm_wday = -1,
		.tm_yday = -1,
		.tm_isdst = -1,
	};

	return smp_glue_port_err(rtc_set_time(rtc, &t));
#else
	ARG_UNUSED(fields);
	return SMP_PORT_ENOTSUP;
#endif
}

/* ---- identity ------------------------------------------------------------------------- */

#ifdef CONFIG_SMP_RS_OS_INFO_BUILD_DATE_TIME
static const char build_date_time[] = __DATE__ " " __TIME__;
#endif

/* The processor ("p" of os info), as Zephyr's os_mgmt names the Cortex-M cores. */
#if defined(CONFIG_CPU_CORTEX_M0)
#define PROCESSOR_NAME "cortex-m0"
#elif defined(CONFIG_CPU_CORTEX_M0PLUS)
#define PROCESSOR_NAME "cortex-m0+"
#elif defined(CONFIG_CPU_CORTEX_M3)
#define PROCESSOR_NAME "cortex-m3"
#elif defined(CONFIG_CPU_CORTEX_M4)
#define PROCESSOR_NAME "cortex-m4"
#elif defined(CONFIG_CPU_CORTEX_M7)
#define PROCESSOR_NAME "cortex-m7"
#elif defined(CONFIG_CPU_CORTEX_M23)
#define PROCESSOR_NAME "cortex-m23"
#elif defined(CONFIG_CPU_CORTEX_M33)
#define PROCESSOR_NAME "cortex-m33"
#elif defined(CONFIG_CPU_CORTEX_M55)
#define PROCESSOR_NAME "cortex-m55"
#else
#define PROCESSOR_NAME CONFIG_SOC
#endif

const uint8_t *smp_port_identity(uint32_t which, size_t *len)
{
	const char *s = NULL;

	switch (which) {
	case SMP_PORT_ID_NODE_NAME:
#if defined(CONFIG_NET_HOSTNAME_ENABLE)
		s = net_hostname_get();
#elif defined(CONFIG_SMP_RS_TRANSPORT_BT)
		s = smp_bt_name();
#endif
		break;
	case SMP_PORT_ID_KERNEL_RELEASE:
#ifdef BUILD_VERSION
		s = STRINGIFY(BUILD_VERSION);
#endif
		break;
	case SMP_PORT_ID_KERNEL_VERSION:
		s = KERNEL_VERSION_STRING;
		break;
	case SMP_PORT_ID_BUILD_DATE_TIME:
#ifdef CONFIG_SMP_RS_OS_INFO_BUILD_DATE_TIME
		s = build_date_time;
#endif
		break;
	case SMP_PORT_ID_MACHINE:
		s = CONFIG_ARCH;
		break;
	case SMP_PORT_ID_PROCESSOR:
		s = PROCESSOR_NAME;
		break;
	case SMP_PORT_ID_HARDWARE_PLATFORM:
		s = CONFIG_BOARD_TARGET;
		break;
	case SMP_PORT_ID_OS_NAME:
		s = "Zephyr";
		break;
	default:
		break;
	}
	*len = s != NULL ? strlen(s) : 0;
	return (const uint8_t *)s;
}

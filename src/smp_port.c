/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * include/smp_port.h over Zephyr: kernel thread and heap information, the RTC, identity
 * strings, flash_map partitions, MCUboot control, the file system, statistics and the
 * dummy shell backend. (Logging, uptime, reset and start-up are in smp_queue.c.)
 *
 * Everything here runs on the SMP work queue thread, called from Rust.
 */

#include <errno.h>
#include <string.h>

#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>
#include <zephyr/sys/util.h>
#include <zephyr/version.h>

#ifdef CONFIG_FLASH_MAP
#include <zephyr/drivers/flash.h>
#include <zephyr/storage/flash_map.h>
#endif
#ifdef CONFIG_BOOTLOADER_MCUBOOT
#include <zephyr/dfu/mcuboot.h>
#endif
#ifdef CONFIG_FILE_SYSTEM
#include <zephyr/fs/fs.h>
#endif
#ifdef CONFIG_STATS
#include <zephyr/stats/stats.h>
#endif
#if defined(CONFIG_SETTINGS) && defined(CONFIG_SETTINGS_RUNTIME)
#include <zephyr/settings/settings.h>
#endif
#ifdef CONFIG_SHELL_BACKEND_DUMMY
#include <zephyr/shell/shell.h>
#include <zephyr/shell/shell_dummy.h>
#endif
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

/* The one place where a Zephyr errno value becomes an SMP_PORT_E* code. */
static int32_t port_err(int err)
{
	if (err >= 0) {
		return err;
	}
	switch (-err) {
	case ENOENT:
	case ENODEV:
		return SMP_PORT_ENOENT;
	case ENOTSUP:
	case ENOSYS:
		return SMP_PORT_ENOTSUP;
	case ENODATA:
		return SMP_PORT_ENODATA;
	case EINVAL:
	case ERANGE:
		return SMP_PORT_EINVAL;
	case ENOSPC:
	case EFBIG:
		return SMP_PORT_ENOSPC;
	case EBUSY:
	case EAGAIN:
		return SMP_PORT_EBUSY;
	case ENAMETOOLONG:
		return SMP_PORT_ENAMETOOLONG;
	case EISDIR:
		return SMP_PORT_EISDIR;
	case EROFS:
		return SMP_PORT_EROFS;
	default:
		return SMP_PORT_EIO;
	}
}

/* Copies a (ptr, len) path into a NUL-terminated buffer. */
static int32_t c_path(char *dst, size_t cap, const uint8_t *path, size_t len)
{
	if (len >= cap) {
		return SMP_PORT_ENAMETOOLONG;
	}
	memcpy(dst, path, len);
	dst[len] = '\0';
	return 0;
}

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
		return port_err(count);
	}
	if (index >= (uint32_t)count) {
		return SMP_PORT_ENOENT;
	}
	err = sys_heap_runtime_stats_get(heaps[index], &st);
	if (err != 0) {
		return port_err(err);
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
		return port_err(err);
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

	return port_err(rtc_set_time(rtc, &t));
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

int32_t smp_port_bootloader_info(int32_t *mode, uint32_t *no_downgrade)
{
#ifdef CONFIG_BOOTLOADER_MCUBOOT
#if defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SINGLE_APP)
	*mode = 0;
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_SCRATCH)
	*mode = 1;
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_OVERWRITE_ONLY)
	*mode = 2;
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_MOVE) ||                               \
	defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_WITHOUT_SCRATCH)
	*mode = 3;
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP_WITH_REVERT)
	*mode = 5;
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP)
	*mode = 4;
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_RAM_LOAD)
	*mode = 6;
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_FIRMWARE_UPDATER)
	*mode = 7;
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_OFFSET)
	*mode = 9;
#else
	*mode = -1;
#endif
	*no_downgrade = IS_ENABLED(CONFIG_MCUBOOT_BOOTLOADER_NO_DOWNGRADE);
	return 0;
#else
	ARG_UNUSED(mode);
	ARG_UNUSED(no_downgrade);
	return SMP_PORT_ENOTSUP;
#endif
}

/* ---- flash areas ------------------------------------------------------------------------ */

#ifdef CONFIG_FLASH_MAP
#if FIXED_PARTITION_EXISTS(slot0_partition)
#define SLOT0_ID FIXED_PARTITION_ID(slot0_partition)
#else
#define SLOT0_ID SMP_PORT_ENOENT
#endif
#if FIXED_PARTITION_EXISTS(slot1_partition)
#define SLOT1_ID FIXED_PARTITION_ID(slot1_partition)
#else
#define SLOT1_ID SMP_PORT_ENOENT
#endif
#if FIXED_PARTITION_EXISTS(slot2_partition)
#define SLOT2_ID FIXED_PARTITION_ID(slot2_partition)
#else
#define SLOT2_ID SMP_PORT_ENOENT
#endif
#if FIXED_PARTITION_EXISTS(slot3_partition)
#define SLOT3_ID FIXED_PARTITION_ID(slot3_partition)
#else
#define SLOT3_ID SMP_PORT_ENOENT
#endif
#if FIXED_PARTITION_EXISTS(slot4_partition)
#define SLOT4_ID FIXED_PARTITION_ID(slot4_partition)
#else
#define SLOT4_ID SMP_PORT_ENOENT
#endif
#if FIXED_PARTITION_EXISTS(slot5_partition)
#define SLOT5_ID FIXED_PARTITION_ID(slot5_partition)
#else
#define SLOT5_ID SMP_PORT_ENOENT
#endif
#if FIXED_PARTITION_EXISTS(storage_partition)
#define STORAGE_ID FIXED_PARTITION_ID(storage_partition)
#else
#define STORAGE_ID SMP_PORT_ENOENT
#endif

static const int32_t area_ids[] = {
	[SMP_PORT_AREA_SLOT0] = SLOT0_ID,
	[SMP_PORT_AREA_SLOT1] = SLOT1_ID,
	[SMP_PORT_AREA_SLOT2] = SLOT2_ID,
	[SMP_PORT_AREA_SLOT3] = SLOT3_ID,
	[SMP_PORT_AREA_SLOT4] = SLOT4_ID,
	[SMP_PORT_AREA_SLOT5] = SLOT5_ID,
	[SMP_PORT_AREA_STORAGE] = STORAGE_ID,
};

int32_t smp_port_flash_area_id(uint32_t area)
{
	return area < ARRAY_SIZE(area_ids) ? area_ids[area] : SMP_PORT_ENOENT;
}

/* Opens `id`; flash_area_close() is a no-op, so areas are not kept open. */
static int32_t open_area(uint8_t id, const struct flash_area **fa)
{
	return port_err(flash_area_open(id, fa));
}

int64_t smp_port_flash_size(uint8_t id)
{
	const struct flash_area *fa;
	int32_t rc = open_area(id, &fa);

	if (rc != 0) {
		return rc;
	}
	rc = (int32_t)fa->fa_size;
	flash_area_close(fa);
	return (int64_t)(uint32_t)rc;
}

int32_t smp_port_flash_write_align(uint8_t id)
{
	const struct flash_area *fa;
	int32_t rc = open_area(id, &fa);

	if (rc == 0) {
		rc = (int32_t)flash_area_align(fa);
		flash_area_close(fa);
	}
	return rc;
}

int32_t smp_port_flash_erase_unit(uint8_t id)
{
	const struct flash_area *fa;
	struct flash_pages_info info;
	int32_t rc = open_area(id, &fa);

	if (rc != 0) {
		return rc;
	}
#ifdef CONFIG_FLASH_PAGE_LAYOUT
	rc = port_err(flash_get_page_info_by_offs(flash_area_get_device(fa), fa->fa_off, &info));
#else
	ARG_UNUSED(info);
	rc = SMP_PORT_ENOTSUP;
#endif
	flash_area_close(fa);
	return rc == 0 ? (int32_t)info.size : rc;
}

int32_t smp_port_flash_erased_value(uint8_t id)
{
	const struct flash_area *fa;
	int32_t rc = open_area(id, &fa);

	if (rc == 0) {
		rc = flash_area_erased_val(fa);
		flash_area_close(fa);
	}
	return rc;
}

int32_t smp_port_flash_read(uint8_t id, uint32_t off, uint8_t *dst, size_t len)
{
	const struct flash_area *fa;
	int32_t rc = open_area(id, &fa);

	if (rc == 0) {
		rc = port_err(flash_area_read(fa, (off_t)off, dst, len));
		flash_area_close(fa);
	}
	return rc;
}

int32_t smp_port_flash_write(uint8_t id, uint32_t off, const uint8_t *src, size_t len)
{
	const struct flash_area *fa;
	int32_t rc = open_area(id, &fa);

	if (rc == 0) {
		rc = port_err(flash_area_write(fa, (off_t)off, src, len));
		flash_area_close(fa);
	}
	return rc;
}

int32_t smp_port_flash_erase(uint8_t id, uint32_t off, uint32_t len)
{
	const struct flash_area *fa;
	int32_t rc = open_area(id, &fa);

	if (rc == 0) {
		rc = port_err(flash_area_erase(fa, (off_t)off, len));
		flash_area_close(fa);
	}
	return rc;
}
#else /* !CONFIG_FLASH_MAP */
int32_t smp_port_flash_area_id(uint32_t area)
{
	ARG_UNUSED(area);
	return SMP_PORT_ENOENT;
}
int64_t smp_port_flash_size(uint8_t id)
{
	ARG_UNUSED(id);
	return SMP_PORT_ENOENT;
}
int32_t smp_port_flash_write_align(uint8_t id)
{
	ARG_UNUSED(id);
	return SMP_PORT_ENOENT;
}
int32_t smp_port_flash_erase_unit(uint8_t id)
{
	ARG_UNUSED(id);
	return SMP_PORT_ENOENT;
}
int32_t smp_port_flash_erased_value(uint8_t id)
{
	ARG_UNUSED(id);
	return SMP_PORT_ENOENT;
}
int32_t smp_port_flash_read(uint8_t id, uint32_t off, uint8_t *dst, size_t len)
{
	ARG_UNUSED(id);
	ARG_UNUSED(off);
	ARG_UNUSED(dst);
	ARG_UNUSED(len);
	return SMP_PORT_ENOENT;
}
int32_t smp_port_flash_write(uint8_t id, uint32_t off, const uint8_t *src, size_t len)
{
	ARG_UNUSED(id);
	ARG_UNUSED(off);
	ARG_UNUSED(src);
	ARG_UNUSED(len);
	return SMP_PORT_ENOENT;
}
int32_t smp_port_flash_erase(uint8_t id, uint32_t off, uint32_t len)
{
	ARG_UNUSED(id);
	ARG_UNUSED(off);
	ARG_UNUSED(len);
	return SMP_PORT_ENOENT;
}
#endif /* CONFIG_FLASH_MAP */

/* ---- MCUboot ---------------------------------------------------------------------------- */

int32_t smp_port_boot_swap_type(uint32_t image)
{
#ifdef CONFIG_BOOTLOADER_MCUBOOT
	return port_err(mcuboot_swap_type_multi((int)image));
#else
	ARG_UNUSED(image);
	return SMP_PORT_ENOTSUP;
#endif
}

int32_t smp_port_boot_request_upgrade(uint32_t image, uint32_t permanent)
{
#ifdef CONFIG_BOOTLOADER_MCUBOOT
	return port_err(boot_request_upgrade_multi(
		(int)image, permanent ? BOOT_UPGRADE_PERMANENT : BOOT_UPGRADE_TEST));
#else
	ARG_UNUSED(image);
	ARG_UNUSED(permanent);
	return SMP_PORT_ENOTSUP;
#endif
}

int32_t smp_port_boot_confirm(uint32_t image)
{
#ifdef CONFIG_BOOTLOADER_MCUBOOT
	return port_err(boot_write_img_confirmed_multi((int)image));
#else
	ARG_UNUSED(image);
	return SMP_PORT_ENOTSUP;
#endif
}

int32_t smp_port_boot_is_confirmed(uint32_t image)
{
#ifdef CONFIG_BOOTLOADER_MCUBOOT
	/* Zephyr's API answers for the running image (image 0) only. */
	if (image != 0) {
		return SMP_PORT_ENOENT;
	}
	return boot_is_img_confirmed() ? 1 : 0;
#else
	ARG_UNUSED(image);
	return SMP_PORT_ENOTSUP;
#endif
}

/* ---- file system ------------------------------------------------------------------------ */

#ifdef CONFIG_FILE_SYSTEM
static struct fs_file_t files[SMP_PORT_FS_FILES];
static bool file_used[SMP_PORT_FS_FILES];
/* Longest path: the group's limit plus the suffixes of the port's staging names. */
static char path_buf[CONFIG_SMP_RS_FS_PATH_LEN + 16];
static char path_buf2[CONFIG_SMP_RS_FS_PATH_LEN + 16];

static struct fs_file_t *file_of(uint32_t handle)
{
	return handle < SMP_PORT_FS_FILES && file_used[handle] ? &files[handle] : NULL;
}

int32_t smp_port_fs_open(const uint8_t *path, size_t path_len, uint32_t flags)
{
	fs_mode_t mode = 0;
	uint32_t h;
	int32_t rc = c_path(path_buf, sizeof(path_buf), path, path_len);

	if (rc != 0) {
		return rc;
	}
	for (h = 0; h < SMP_PORT_FS_FILES && file_used[h]; h++) {
	}
	if (h == SMP_PORT_FS_FILES) {
		return SMP_PORT_EBUSY;
	}
	if (flags & SMP_PORT_FS_READ) {
		mode |= FS_O_READ;
	}
	if (flags & SMP_PORT_FS_WRITE) {
		mode |= FS_O_WRITE;
	}
	if (flags & SMP_PORT_FS_CREATE) {
		mode |= FS_O_CREATE;
	}
	fs_file_t_init(&files[h]);
	rc = port_err(fs_open(&files[h], path_buf, mode));
	if (rc != 0) {
		return rc;
	}
	if (flags & SMP_PORT_FS_TRUNC) {
		rc = port_err(fs_truncate(&files[h], 0));
		if (rc != 0) {
			(void)fs_close(&files[h]);
			return rc;
		}
	}
	file_used[h] = true;
	return (int32_t)h;
}

int32_t smp_port_fs_read(uint32_t handle, uint64_t off, uint8_t *dst, size_t len)
{
	struct fs_file_t *f = file_of(handle);
	ssize_t n;
	int32_t rc;

	if (f == NULL) {
		return SMP_PORT_EINVAL;
	}
	rc = port_err(fs_seek(f, (off_t)off, FS_SEEK_SET));
	if (rc != 0) {
		return rc;
	}
	n = fs_read(f, dst, len);
	return n < 0 ? port_err((int)n) : (int32_t)n;
}

int32_t smp_port_fs_write(uint32_t handle, uint64_t off, const uint8_t *src, size_t len)
{
	struct fs_file_t *f = file_of(handle);
	int32_t rc;

	if (f == NULL) {
		return SMP_PORT_EINVAL;
	}
	rc = port_err(fs_seek(f, (off_t)off, FS_SEEK_SET));
	while (rc == 0 && len > 0) {
		ssize_t n = fs_write(f, src, len);

		if (n < 0) {
			return port_err((int)n);
		}
		if (n == 0) {
			return SMP_PORT_ENOSPC;
		}
		src += n;
		len -= (size_t)n;
	}
	return rc;
}

int32_t smp_port_fs_close(uint32_t handle)
{
	struct fs_file_t *f = file_of(handle);

	if (f == NULL) {
		return SMP_PORT_EINVAL;
	}
	file_used[handle] = false;
	return port_err(fs_close(f));
}

int64_t smp_port_fs_stat(const uint8_t *path, size_t path_len)
{
	struct fs_dirent entry;
	int32_t rc = c_path(path_buf, sizeof(path_buf), path, path_len);

	if (rc != 0) {
		return rc;
	}
	rc = port_err(fs_stat(path_buf, &entry));
	if (rc != 0) {
		return rc;
	}
	if (entry.type == FS_DIR_ENTRY_DIR) {
		return SMP_PORT_EISDIR;
	}
	return (int64_t)entry.size;
}

int32_t smp_port_fs_unlink(const uint8_t *path, size_t path_len)
{
	int32_t rc = c_path(path_buf, sizeof(path_buf), path, path_len);

	return rc != 0 ? rc : port_err(fs_unlink(path_buf));
}

int32_t smp_port_fs_rename(const uint8_t *from, size_t from_len, const uint8_t *to,
			   size_t to_len)
{
	int32_t rc = c_path(path_buf, sizeof(path_buf), from, from_len);

	if (rc == 0) {
		rc = c_path(path_buf2, sizeof(path_buf2), to, to_len);
	}
	if (rc != 0) {
		return rc;
	}
	/* LittleFS replaces an existing target atomically. A file system that refuses to
	 * (-EEXIST) gets the target removed first: not atomic, but the staged data survive.
	 */
	rc = fs_rename(path_buf, path_buf2);
	if (rc == -EEXIST && fs_unlink(path_buf2) == 0) {
		rc = fs_rename(path_buf, path_buf2);
	}
	return port_err(rc);
}
#else /* !CONFIG_FILE_SYSTEM */
int32_t smp_port_fs_open(const uint8_t *path, size_t path_len, uint32_t flags)
{
	ARG_UNUSED(path);
	ARG_UNUSED(path_len);
	ARG_UNUSED(flags);
	return SMP_PORT_ENOTSUP;
}
int32_t smp_port_fs_read(uint32_t handle, uint64_t off, uint8_t *dst, size_t len)
{
	ARG_UNUSED(handle);
	ARG_UNUSED(off);
	ARG_UNUSED(dst);
	ARG_UNUSED(len);
	return SMP_PORT_ENOTSUP;
}
int32_t smp_port_fs_write(uint32_t handle, uint64_t off, const uint8_t *src, size_t len)
{
	ARG_UNUSED(handle);
	ARG_UNUSED(off);
	ARG_UNUSED(src);
	ARG_UNUSED(len);
	return SMP_PORT_ENOTSUP;
}
int32_t smp_port_fs_close(uint32_t handle)
{
	ARG_UNUSED(handle);
	return SMP_PORT_ENOTSUP;
}
int64_t smp_port_fs_stat(const uint8_t *path, size_t path_len)
{
	ARG_UNUSED(path);
	ARG_UNUSED(path_len);
	return SMP_PORT_ENOTSUP;
}
int32_t smp_port_fs_unlink(const uint8_t *path, size_t path_len)
{
	ARG_UNUSED(path);
	ARG_UNUSED(path_len);
	return SMP_PORT_ENOTSUP;
}
int32_t smp_port_fs_rename(const uint8_t *from, size_t from_len, const uint8_t *to,
			   size_t to_len)
{
	ARG_UNUSED(from);
	ARG_UNUSED(from_len);
	ARG_UNUSED(to);
	ARG_UNUSED(to_len);
	return SMP_PORT_ENOTSUP;
}
#endif /* CONFIG_FILE_SYSTEM */

/* ---- statistics ---------------------------------------------------------------------------- */

#ifdef CONFIG_STATS
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
	int32_t rc = c_path(gname, sizeof(gname), group, group_len);

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
#else /* !CONFIG_STATS */
int32_t smp_port_stats_group(uint32_t index, uint8_t *name, size_t name_cap)
{
	ARG_UNUSED(index);
	ARG_UNUSED(name);
	ARG_UNUSED(name_cap);
	return SMP_PORT_ENOENT;
}
int32_t smp_port_stats_entry(const uint8_t *group, size_t group_len, uint32_t index,
			     uint8_t *name, size_t name_cap, uint64_t *value)
{
	ARG_UNUSED(group);
	ARG_UNUSED(group_len);
	ARG_UNUSED(index);
	ARG_UNUSED(name);
	ARG_UNUSED(name_cap);
	ARG_UNUSED(value);
	return SMP_PORT_ENOENT;
}
#endif /* CONFIG_STATS */

/* ---- settings ----------------------------------------------------------------------------- */

#if defined(CONFIG_SETTINGS) && defined(CONFIG_SETTINGS_RUNTIME)
static char setting_name[CONFIG_SMP_RS_SETTINGS_NAME_LEN + 1];

int32_t smp_port_settings_get(const uint8_t *name, size_t name_len, uint8_t *buf, size_t cap)
{
	int32_t rc = c_path(setting_name, sizeof(setting_name), name, name_len);

	return rc != 0 ? SMP_PORT_EINVAL : port_err(settings_runtime_get(setting_name, buf, cap));
}

int32_t smp_port_settings_set(const uint8_t *name, size_t name_len, const uint8_t *val,
			      size_t val_len)
{
	int32_t rc = c_path(setting_name, sizeof(setting_name), name, name_len);

	return rc != 0 ? SMP_PORT_EINVAL
		       : port_err(settings_runtime_set(setting_name, val, val_len));
}

int32_t smp_port_settings_delete(const uint8_t *name, size_t name_len)
{
	int32_t rc = c_path(setting_name, sizeof(setting_name), name, name_len);

	return rc != 0 ? SMP_PORT_EINVAL : port_err(settings_delete(setting_name));
}

int32_t smp_port_settings_commit(void)
{
	return port_err(settings_commit());
}

int32_t smp_port_settings_load(void)
{
	return port_err(settings_load());
}

int32_t smp_port_settings_save(const uint8_t *subtree, size_t subtree_len)
{
	int32_t rc;

	if (subtree_len == 0) {
		return port_err(settings_save());
	}
	rc = c_path(setting_name, sizeof(setting_name), subtree, subtree_len);
	return rc != 0 ? SMP_PORT_EINVAL : port_err(settings_save_subtree(setting_name));
}
#else /* !(CONFIG_SETTINGS && CONFIG_SETTINGS_RUNTIME) */
int32_t smp_port_settings_get(const uint8_t *name, size_t name_len, uint8_t *buf, size_t cap)
{
	ARG_UNUSED(name);
	ARG_UNUSED(name_len);
	ARG_UNUSED(buf);
	ARG_UNUSED(cap);
	return SMP_PORT_ENOTSUP;
}
int32_t smp_port_settings_set(const uint8_t *name, size_t name_len, const uint8_t *val,
			      size_t val_len)
{
	ARG_UNUSED(name);
	ARG_UNUSED(name_len);
	ARG_UNUSED(val);
	ARG_UNUSED(val_len);
	return SMP_PORT_ENOTSUP;
}
int32_t smp_port_settings_delete(const uint8_t *name, size_t name_len)
{
	ARG_UNUSED(name);
	ARG_UNUSED(name_len);
	return SMP_PORT_ENOTSUP;
}
int32_t smp_port_settings_commit(void)
{
	return SMP_PORT_ENOTSUP;
}
int32_t smp_port_settings_load(void)
{
	return SMP_PORT_ENOTSUP;
}
int32_t smp_port_settings_save(const uint8_t *subtree, size_t subtree_len)
{
	ARG_UNUSED(subtree);
	ARG_UNUSED(subtree_len);
	return SMP_PORT_ENOTSUP;
}
#endif

/* ---- shell ---------------------------------------------------------------------------------- */

int32_t smp_port_shell_exec(const uint8_t *line, size_t line_len, uint8_t *out, size_t out_cap,
			    size_t *out_len, int32_t *ret)
{
#ifdef CONFIG_SHELL_BACKEND_DUMMY
	static char cmd[CONFIG_SHELL_CMD_BUFF_SIZE];
	const struct shell *sh = shell_backend_dummy_get_ptr();
	const char *text;
	size_t size = 0;
	int32_t rc = c_path(cmd, sizeof(cmd), line, line_len);

	if (rc != 0) {
		return SMP_PORT_EINVAL;
	}
	shell_backend_dummy_clear_output(sh);
	*ret = shell_execute_cmd(sh, cmd);
	text = shell_backend_dummy_get_output(sh, &size);
	size = MIN(size, out_cap);
	memcpy(out, text, size);
	*out_len = size;
	return 0;
#else
	ARG_UNUSED(line);
	ARG_UNUSED(line_len);
	ARG_UNUSED(out);
	ARG_UNUSED(out_cap);
	ARG_UNUSED(out_len);
	ARG_UNUSED(ret);
	return SMP_PORT_ENOTSUP;
#endif
}

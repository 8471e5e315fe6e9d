/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * A test double of include/smp_port.h over RAM, in portable C (no OS). It is linked
 * with librustapp.a by the host test (tests/host/) and by the MCU link check (ci/mcu.sh),
 * so every port function rustapp references must exist here.
 *
 * Behaviour is deterministic and inspectable through the smp_double_* globals declared
 * in smp_port_double.h.
 */

#include <string.h>

#include "smp_port.h"
#include "smp_port_double.h"

#ifndef SMP_DOUBLE_SLOT_SIZE
#define SMP_DOUBLE_SLOT_SIZE (64u * 1024u)
#endif
#define SMP_DOUBLE_ERASE_UNIT 4096u
#define SMP_DOUBLE_WRITE_ALIGN 4u
#define SMP_DOUBLE_AREAS 3 /* slot0, slot1, storage */

struct smp_double_state smp_double;

static void clear_files(void);

static uint8_t flash[SMP_DOUBLE_AREAS][SMP_DOUBLE_SLOT_SIZE];

void smp_double_reset_state(void)
{
	memset(&smp_double, 0, sizeof(smp_double));
	memset(flash, 0xff, sizeof(flash));
	clear_files();
}

/* ---- zephyr-lang-rust hook ---- */

void rust_panic_wrap(void)
{
	smp_double.panics++;
	for (;;) {
	}
}

/* ---- logging, start, uptime and reset: src/smp_queue.c has them when it is linked in
 * (tests/glue-host/, -DSMP_DOUBLE_NO_QUEUE) ----
 */
#ifndef SMP_DOUBLE_NO_QUEUE
void smp_port_log(uint32_t level, const uint8_t *msg, size_t len)
{
	size_t n = len < sizeof(smp_double.last_log) - 1 ? len : sizeof(smp_double.last_log) - 1;

	memcpy(smp_double.last_log, msg, n);
	smp_double.last_log[n] = '\0';
	smp_double.last_log_level = level;
	smp_double.logs++;
}

void smp_port_start(void)
{
	smp_double.started++;
}

/* ---- OS ---- */

uint64_t smp_port_uptime_ms(void)
{
	if (smp_double.uptime_hook != NULL) {
		smp_double.uptime_hook();
	}
	return smp_double.uptime_ms;
}

int32_t smp_port_reset_schedule(uint32_t boot_mode)
{
	if (boot_mode > 1) {
		return SMP_PORT_ENOTSUP;
	}
	smp_double.resets++;
	smp_double.reset_boot_mode = boot_mode;
	return 0;
}
#endif /* SMP_DOUBLE_NO_QUEUE */

static const struct {
	const char *name;
	int32_t prio;
	uint32_t stack_size, stack_used;
} threads[] = {
	{"main", 0, 2048, 512},
	{"idle", 15, 320, 64},
};

int32_t smp_port_thread_get(uint32_t index, uint8_t *name, size_t name_cap, size_t *name_len,
			    int32_t *prio, uint32_t *state, uint32_t *stack_size,
			    uint32_t *stack_used, uint64_t *runtime, uint32_t *flags)
{
	size_t n;

	if (index >= sizeof(threads) / sizeof(threads[0])) {
		return SMP_PORT_ENOENT;
	}
	n = strlen(threads[index].name);
	n = n < name_cap ? n : name_cap;
	memcpy(name, threads[index].name, n);
	*name_len = n;
	*prio = threads[index].prio;
	*state = 0;
	*stack_size = threads[index].stack_size;
	*stack_used = threads[index].stack_used;
	*runtime = 0;
	*flags = SMP_PORT_THREAD_HAS_STACK;
	return 0;
}

int32_t smp_port_heap_get(uint32_t index, uint64_t *size, uint64_t *free_bytes,
			  uint64_t *min_free)
{
	if (index > 0) {
		return SMP_PORT_ENOENT;
	}
	*size = 4096;
	*free_bytes = 1024;
	*min_free = 512;
	return 0;
}

int32_t smp_port_rtc_get(uint16_t *fields)
{
	if (!smp_double.rtc_set) {
		return SMP_PORT_ENODATA;
	}
	memcpy(fields, smp_double.rtc, sizeof(smp_double.rtc));
	return 0;
}

int32_t smp_port_rtc_set(const uint16_t *fields)
{
	memcpy(smp_double.rtc, fields, sizeof(smp_double.rtc));
	smp_double.rtc_set = 1;
	return 0;
}

static const char *const identity[SMP_PORT_ID_COUNT] = {
	[SMP_PORT_ID_NODE_NAME] = "double",
	[SMP_PORT_ID_KERNEL_RELEASE] = "v0.0.0-double",
	[SMP_PORT_ID_KERNEL_VERSION] = "4.2.0",
	[SMP_PORT_ID_BUILD_DATE_TIME] = NULL,
	[SMP_PORT_ID_MACHINE] = "arm",
	[SMP_PORT_ID_PROCESSOR] = "cortex-m4",
	[SMP_PORT_ID_HARDWARE_PLATFORM] = "double/ram",
	[SMP_PORT_ID_OS_NAME] = "Zephyr",
};

const uint8_t *smp_port_identity(uint32_t which, size_t *len)
{
	if (which >= SMP_PORT_ID_COUNT || identity[which] == NULL) {
		*len = 0;
		return NULL;
	}
	*len = strlen(identity[which]);
	return (const uint8_t *)identity[which];
}

int32_t smp_port_bootloader_info(int32_t *mode, uint32_t *no_downgrade)
{
	*mode = 1; /* swap using scratch */
	*no_downgrade = 0;
	return 0;
}

/* ---- flash: areas 0 (slot0), 1 (slot1), 2 (storage) ---- */

int32_t smp_port_flash_area_id(uint32_t area)
{
	switch (area) {
	case SMP_PORT_AREA_SLOT0:
		return 0;
	case SMP_PORT_AREA_SLOT1:
		return 1;
	case SMP_PORT_AREA_STORAGE:
		return 2;
	default:
		return SMP_PORT_ENOENT;
	}
}

static int32_t area_check(uint8_t id, uint32_t off, size_t len)
{
	if (id >= SMP_DOUBLE_AREAS) {
		return SMP_PORT_ENOENT;
	}
	if (off > SMP_DOUBLE_SLOT_SIZE || len > SMP_DOUBLE_SLOT_SIZE - off) {
		return SMP_PORT_EINVAL;
	}
	return 0;
}

int64_t smp_port_flash_size(uint8_t id)
{
	return id < SMP_DOUBLE_AREAS ? (int64_t)SMP_DOUBLE_SLOT_SIZE : SMP_PORT_ENOENT;
}

int32_t smp_port_flash_write_align(uint8_t id)
{
	return id < SMP_DOUBLE_AREAS ? (int32_t)SMP_DOUBLE_WRITE_ALIGN : SMP_PORT_ENOENT;
}

int32_t smp_port_flash_erase_unit(uint8_t id)
{
	return id < SMP_DOUBLE_AREAS ? (int32_t)SMP_DOUBLE_ERASE_UNIT : SMP_PORT_ENOENT;
}

int32_t smp_port_flash_erased_value(uint8_t id)
{
	return id < SMP_DOUBLE_AREAS ? 0xff : SMP_PORT_ENOENT;
}

int32_t smp_port_flash_read(uint8_t id, uint32_t off, uint8_t *dst, size_t len)
{
	int32_t rc = area_check(id, off, len);

	if (rc == 0) {
		memcpy(dst, &flash[id][off], len);
	}
	return rc;
}

int32_t smp_port_flash_write(uint8_t id, uint32_t off, const uint8_t *src, size_t len)
{
	int32_t rc = area_check(id, off, len);

	if (rc != 0) {
		return rc;
	}
	if (off % SMP_DOUBLE_WRITE_ALIGN != 0 || len % SMP_DOUBLE_WRITE_ALIGN != 0) {
		return SMP_PORT_EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		/* NOR semantics: writing can only clear bits. */
		flash[id][off + i] &= src[i];
	}
	return 0;
}

int32_t smp_port_flash_erase(uint8_t id, uint32_t off, uint32_t len)
{
	int32_t rc = area_check(id, off, len);

	if (rc != 0) {
		return rc;
	}
	if (off % SMP_DOUBLE_ERASE_UNIT != 0 || len % SMP_DOUBLE_ERASE_UNIT != 0) {
		return SMP_PORT_EINVAL;
	}
	memset(&flash[id][off], 0xff, len);
	return 0;
}

/* ---- MCUboot: one image, state kept in smp_double ---- */

void smp_double_boot(void)
{
	static uint8_t tmp[SMP_DOUBLE_SLOT_SIZE];

	/* What MCUboot does at a reset, reduced to its outcome for image 0. */
	switch (smp_double.swap_type) {
	case SMP_PORT_SWAP_TEST:
	case SMP_PORT_SWAP_PERM:
		memcpy(tmp, flash[0], sizeof(tmp));
		memcpy(flash[0], flash[1], sizeof(tmp));
		memcpy(flash[1], tmp, sizeof(tmp));
		smp_double.confirmed = smp_double.swap_type == SMP_PORT_SWAP_PERM;
		smp_double.swap_type =
			smp_double.confirmed ? SMP_PORT_SWAP_NONE : SMP_PORT_SWAP_REVERT;
		break;
	case SMP_PORT_SWAP_REVERT:
		memcpy(tmp, flash[0], sizeof(tmp));
		memcpy(flash[0], flash[1], sizeof(tmp));
		memcpy(flash[1], tmp, sizeof(tmp));
		smp_double.swap_type = SMP_PORT_SWAP_NONE;
		smp_double.confirmed = 1;
		break;
	default:
		break;
	}
}

int32_t smp_port_boot_swap_type(uint32_t image)
{
	if (image != 0) {
		return SMP_PORT_ENOENT;
	}
	if (smp_double.swap_type == SMP_PORT_SWAP_REVERT && smp_double.confirmed) {
		return SMP_PORT_SWAP_NONE;
	}
	return smp_double.swap_type != 0 ? smp_double.swap_type : SMP_PORT_SWAP_NONE;
}

int32_t smp_port_boot_request_upgrade(uint32_t image, uint32_t permanent)
{
	if (image != 0) {
		return SMP_PORT_ENOENT;
	}
	smp_double.swap_type = permanent ? SMP_PORT_SWAP_PERM : SMP_PORT_SWAP_TEST;
	return 0;
}

int32_t smp_port_boot_confirm(uint32_t image)
{
	if (image != 0) {
		return SMP_PORT_ENOENT;
	}
	smp_double.confirmed = 1;
	if (smp_double.swap_type == SMP_PORT_SWAP_REVERT) {
		smp_double.swap_type = SMP_PORT_SWAP_NONE;
	}
	return 0;
}

int32_t smp_port_boot_is_confirmed(uint32_t image)
{
	if (image != 0) {
		return SMP_PORT_ENOENT;
	}
	return smp_double.confirmed;
}

/* ---- file system: a few RAM files, one directory "/lfs1" ---- */

#ifndef SMP_DOUBLE_FILE_MAX
#define SMP_DOUBLE_FILE_MAX 4096u
#endif
#define FILES 4
#define PATH_MAX_LEN 96

static struct ram_file {
	char path[PATH_MAX_LEN];
	size_t path_len;
	uint8_t data[SMP_DOUBLE_FILE_MAX];
	size_t size;
	int exists;
} ram_files[FILES];

static struct ram_file *open_files[SMP_PORT_FS_FILES];

static void clear_files(void)
{
	memset(ram_files, 0, sizeof(ram_files));
	memset(open_files, 0, sizeof(open_files));
}

static struct ram_file *find_file(const uint8_t *path, size_t len)
{
	for (int i = 0; i < FILES; i++) {
		if (ram_files[i].exists && ram_files[i].path_len == len &&
		    memcmp(ram_files[i].path, path, len) == 0) {
			return &ram_files[i];
		}
	}
	return NULL;
}

static int is_dir(const uint8_t *path, size_t len)
{
	return len == 5 && memcmp(path, "/lfs1", 5) == 0;
}

int32_t smp_port_fs_open(const uint8_t *path, size_t path_len, uint32_t flags)
{
	struct ram_file *f;
	int h;

	if (path_len >= PATH_MAX_LEN) {
		return SMP_PORT_ENAMETOOLONG;
	}
	if (is_dir(path, path_len)) {
		return SMP_PORT_EISDIR;
	}
	for (h = 0; h < SMP_PORT_FS_FILES && open_files[h] != NULL; h++) {
	}
	if (h == SMP_PORT_FS_FILES) {
		return SMP_PORT_EBUSY;
	}
	f = find_file(path, path_len);
	if (f == NULL) {
		if (!(flags & SMP_PORT_FS_CREATE)) {
			return SMP_PORT_ENOENT;
		}
		for (int i = 0; i < FILES && f == NULL; i++) {
			if (!ram_files[i].exists) {
				f = &ram_files[i];
			}
		}
		if (f == NULL) {
			return SMP_PORT_ENOSPC;
		}
		memcpy(f->path, path, path_len);
		f->path_len = path_len;
		f->size = 0;
		f->exists = 1;
	}
	if (flags & SMP_PORT_FS_TRUNC) {
		f->size = 0;
	}
	open_files[h] = f;
	smp_double.files_open++;
	return h;
}

static struct ram_file *handle_file(uint32_t handle)
{
	return handle < SMP_PORT_FS_FILES ? open_files[handle] : NULL;
}

int32_t smp_port_fs_read(uint32_t handle, uint64_t off, uint8_t *dst, size_t len)
{
	struct ram_file *f = handle_file(handle);

	if (f == NULL) {
		return SMP_PORT_EINVAL;
	}
	if (off >= f->size) {
		return 0;
	}
	if (len > f->size - off) {
		len = f->size - (size_t)off;
	}
	memcpy(dst, &f->data[off], len);
	return (int32_t)len;
}

int32_t smp_port_fs_write(uint32_t handle, uint64_t off, const uint8_t *src, size_t len)
{
	struct ram_file *f = handle_file(handle);

	if (f == NULL) {
		return SMP_PORT_EINVAL;
	}
	if (off > SMP_DOUBLE_FILE_MAX || len > SMP_DOUBLE_FILE_MAX - off) {
		return SMP_PORT_ENOSPC;
	}
	if (off > f->size) {
		memset(&f->data[f->size], 0, (size_t)off - f->size);
	}
	memcpy(&f->data[off], src, len);
	if (off + len > f->size) {
		f->size = (size_t)off + len;
	}
	return 0;
}

int32_t smp_port_fs_close(uint32_t handle)
{
	if (handle_file(handle) == NULL) {
		return SMP_PORT_EINVAL;
	}
	open_files[handle] = NULL;
	smp_double.files_open--;
	return 0;
}

int64_t smp_port_fs_stat(const uint8_t *path, size_t path_len)
{
	struct ram_file *f;

	if (is_dir(path, path_len)) {
		return SMP_PORT_EISDIR;
	}
	f = find_file(path, path_len);
	return f != NULL ? (int64_t)f->size : SMP_PORT_ENOENT;
}

int32_t smp_port_fs_unlink(const uint8_t *path, size_t path_len)
{
	struct ram_file *f = find_file(path, path_len);

	if (f == NULL) {
		return SMP_PORT_ENOENT;
	}
	f->exists = 0;
	return 0;
}

int32_t smp_port_fs_rename(const uint8_t *from, size_t from_len, const uint8_t *to,
			   size_t to_len)
{
	struct ram_file *f = find_file(from, from_len);
	struct ram_file *old = find_file(to, to_len);

	if (f == NULL) {
		return SMP_PORT_ENOENT;
	}
	if (to_len >= PATH_MAX_LEN) {
		return SMP_PORT_ENAMETOOLONG;
	}
	if (old != NULL && old != f) {
		old->exists = 0;
	}
	memcpy(f->path, to, to_len);
	f->path_len = to_len;
	smp_double.renames++;
	return 0;
}

/* ---- settings: two keys under the root "app" ---- */

static struct {
	const char *name;
	uint8_t val[16];
	size_t len;
} settings[] = {{"app/a", {1, 2}, 2}, {"app/b", {0}, 0}};

static int setting_index(const uint8_t *name, size_t len)
{
	if (len < 4 || memcmp(name, "app/", 4) != 0) {
		return SMP_PORT_EINVAL;
	}
	for (int i = 0; i < 2; i++) {
		if (strlen(settings[i].name) == len && memcmp(settings[i].name, name, len) == 0) {
			return i;
		}
	}
	return SMP_PORT_ENOENT;
}

int32_t smp_port_settings_get(const uint8_t *name, size_t name_len, uint8_t *buf, size_t cap)
{
	int i = setting_index(name, name_len);

	if (i < 0) {
		return i;
	}
	memcpy(buf, settings[i].val, settings[i].len < cap ? settings[i].len : cap);
	return (int32_t)settings[i].len;
}

int32_t smp_port_settings_set(const uint8_t *name, size_t name_len, const uint8_t *val,
			      size_t val_len)
{
	int i = setting_index(name, name_len);

	if (i < 0) {
		return i;
	}
	if (val_len > sizeof(settings[i].val)) {
		return SMP_PORT_ENOSPC;
	}
	memcpy(settings[i].val, val, val_len);
	settings[i].len = val_len;
	return 0;
}

int32_t smp_port_settings_delete(const uint8_t *name, size_t name_len)
{
	int i = setting_index(name, name_len);

	if (i < 0) {
		return i;
	}
	settings[i].len = 0;
	return 0;
}

int32_t smp_port_settings_commit(void)
{
	return 0;
}

int32_t smp_port_settings_load(void)
{
	return 0;
}

int32_t smp_port_settings_save(const uint8_t *subtree, size_t subtree_len)
{
	(void)subtree;
	(void)subtree_len;
	smp_double.settings_saves++;
	return 0;
}

/* ---- statistics: one group "smp_double" with two counters ---- */

int32_t smp_port_stats_group(uint32_t index, uint8_t *name, size_t name_cap)
{
	static const char g[] = "smp_double";
	size_t n = sizeof(g) - 1;

	if (index > 0) {
		return SMP_PORT_ENOENT;
	}
	n = n < name_cap ? n : name_cap;
	memcpy(name, g, n);
	return (int32_t)n;
}

int32_t smp_port_stats_entry(const uint8_t *group, size_t group_len, uint32_t index,
			     uint8_t *name, size_t name_cap, uint64_t *value)
{
	static const char *const names[] = {"rx", "tx"};
	size_t n;

	if (group_len != 10 || memcmp(group, "smp_double", 10) != 0 || index > 1) {
		return SMP_PORT_ENOENT;
	}
	n = strlen(names[index]);
	n = n < name_cap ? n : name_cap;
	memcpy(name, names[index], n);
	*value = 100u + index;
	return (int32_t)n;
}

/* ---- shell: answers "ran: <line>\r\n", fails on "fail" ---- */

int32_t smp_port_shell_exec(const uint8_t *line, size_t line_len, uint8_t *out, size_t out_cap,
			    size_t *out_len, int32_t *ret)
{
	static const char prefix[] = "ran: ";
	size_t n = 0;

	smp_double.shell_runs++;
	for (size_t i = 0; i < sizeof(prefix) - 1 && n < out_cap; i++) {
		out[n++] = (uint8_t)prefix[i];
	}
	for (size_t i = 0; i < line_len && n < out_cap; i++) {
		out[n++] = line[i];
	}
	if (n < out_cap) {
		out[n++] = '\r';
	}
	if (n < out_cap) {
		out[n++] = '\n';
	}
	*out_len = n;
	*ret = (line_len == 4 && memcmp(line, "fail", 4) == 0) ? -8 : 0;
	return 0;
}

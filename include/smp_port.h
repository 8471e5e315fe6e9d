/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * smp_port.h: the C functions the Rust side (rustapp) calls.
 *
 * This header is the whole seam from Rust to Zephyr. It is the input of bindgen
 * (src/port_sys.rs is generated from it and checked in; ci/check-bindings.sh fails when
 * the generated file is stale). src/smp_queue.c and src/smp_port_<subsystem>.c implement
 * it over Zephyr's APIs, each subsystem's file built only with the groups that call it,
 * and tests/port-double/ implements all of it over RAM for the host and link checks.
 *
 * Rules of the seam:
 *  - only fixed-width integers and pointer + length pairs cross it (no enums, no structs,
 *    no Zephyr types, no NUL-terminated strings in arguments);
 *  - functions that can fail return a negative SMP_PORT_E* code (0 or a non-negative count
 *    on success). The codes are fixed here rather than taken from errno.h, whose values
 *    differ between C libraries (the host test double runs on glibc); the Zephyr glue maps
 *    errno values onto them in one function, and Rust turns them into a Result in one
 *    place (check() in src/port.rs);
 *  - every function is called from the SMP work queue thread only, one call at a time.
 */

#ifndef SMP_PORT_H_
#define SMP_PORT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Error codes ------------------------------------------------------------------------ */

#define SMP_PORT_EIO          (-1)  /* any failure without a more precise code */
#define SMP_PORT_ENOENT       (-2)  /* no such thread, heap, partition, file, entry */
#define SMP_PORT_ENOTSUP      (-3)  /* the build or board lacks the feature */
#define SMP_PORT_ENODATA      (-4)  /* RTC never set */
#define SMP_PORT_EINVAL       (-5)  /* bad argument (alignment, range, boot mode) */
#define SMP_PORT_ENOSPC       (-6)  /* file system or partition full */
#define SMP_PORT_EBUSY        (-7)  /* resource in use */
#define SMP_PORT_ENAMETOOLONG (-8)  /* path longer than the port's limit */
#define SMP_PORT_EISDIR       (-9)  /* path names a directory */
#define SMP_PORT_EROFS        (-10) /* read-only file system */

/* ---- Hooks provided by zephyr-lang-rust's main.c ------------------------------------ */

/** Panics the kernel (k_panic()); never returns. Called by rustapp's panic handler. */
void rust_panic_wrap(void);

/* ---- Logging -------------------------------------------------------------------------- */

/** Log levels, matching Zephyr's LOG_LEVEL_* values. */
#define SMP_PORT_LOG_ERR 1
#define SMP_PORT_LOG_WRN 2
#define SMP_PORT_LOG_INF 3
#define SMP_PORT_LOG_DBG 4

/**
 * Emits one log message through Zephyr's logger.
 *
 * @param level SMP_PORT_LOG_*.
 * @param msg   Message text (UTF-8), `len` bytes; msg[len] is a NUL byte, so the text
 *              may also be used as a C string.
 * @param len   Length of the text without the NUL.
 */
void smp_port_log(uint32_t level, const uint8_t *msg, size_t len);

/* ---- Transport start-up ------------------------------------------------------------------ */

/**
 * Starts the SMP work queue thread and the transports selected in Kconfig, then returns.
 * Called once by rust_main() after the server is initialised; from then on the transports
 * queue their input to the work queue, whose thread is the only one that calls into Rust.
 */
void smp_port_start(void);

/* ---- OS services ---------------------------------------------------------------------- */

/** Milliseconds since boot (k_uptime_get()). */
uint64_t smp_port_uptime_ms(void);

/**
 * Schedules a warm reboot after CONFIG_SMP_RS_RESET_MS, so that the response to the reset
 * request leaves first.
 *
 * @param boot_mode 0 = normal boot, 1 = stay in the bootloader (needs retention support).
 * @return 0, or SMP_PORT_ENOTSUP for a boot mode the build cannot honour.
 */
int32_t smp_port_reset_schedule(uint32_t boot_mode);

/** Thread-state flags reported by smp_port_thread_get(). */
#define SMP_PORT_THREAD_HAS_STACK   0x1u
#define SMP_PORT_THREAD_HAS_RUNTIME 0x2u

/**
 * Reads the thread at position `index` of the kernel's thread list.
 *
 * @param index     0-based position in k_thread_foreach() order.
 * @param name      Buffer for the thread name (not NUL-terminated), `name_cap` bytes.
 * @param name_len  Out: bytes written to `name`.
 * @param prio      Out: priority.
 * @param state     Out: thread state bits.
 * @param stack_size Out: stack size in bytes (if flag HAS_STACK).
 * @param stack_used Out: stack bytes used (if flag HAS_STACK).
 * @param runtime   Out: execution cycles (if flag HAS_RUNTIME).
 * @param flags     Out: SMP_PORT_THREAD_* flags.
 * @return 0, SMP_PORT_ENOENT past the last thread.
 */
int32_t smp_port_thread_get(uint32_t index, uint8_t *name, size_t name_cap, size_t *name_len,
			    int32_t *prio, uint32_t *state, uint32_t *stack_size,
			    uint32_t *stack_used, uint64_t *runtime, uint32_t *flags);

/**
 * Reads heap statistics of heap `index` (sys_heap_runtime_stats_get()).
 *
 * @return 0, SMP_PORT_ENOENT past the last heap, SMP_PORT_ENOTSUP without heap statistics.
 */
int32_t smp_port_heap_get(uint32_t index, uint64_t *size, uint64_t *free_bytes,
			  uint64_t *min_free);

/**
 * Date and time as seven integers: year, month (1-12), day (1-31), hour, minute, second,
 * millisecond.
 */
#define SMP_PORT_DATETIME_FIELDS 7

/**
 * Reads the RTC (the `rtc` devicetree alias).
 *
 * @param fields Out: SMP_PORT_DATETIME_FIELDS values.
 * @return 0, SMP_PORT_ENODATA if the RTC was never set, SMP_PORT_ENOTSUP if the board has no
 *         RTC, another negative SMP_PORT_E* code on failure.
 */
int32_t smp_port_rtc_get(uint16_t *fields);

/** Sets the RTC from SMP_PORT_DATETIME_FIELDS values. */
int32_t smp_port_rtc_set(const uint16_t *fields);

/** Identity strings of `os info`. */
#define SMP_PORT_ID_NODE_NAME         0 /* n: hostname or Bluetooth name */
#define SMP_PORT_ID_KERNEL_RELEASE    1 /* r: build version */
#define SMP_PORT_ID_KERNEL_VERSION    2 /* v: KERNEL_VERSION_STRING */
#define SMP_PORT_ID_BUILD_DATE_TIME   3 /* b: build date/time, SMP_PORT_ENOENT if not built in */
#define SMP_PORT_ID_MACHINE           4 /* m: CONFIG_ARCH */
#define SMP_PORT_ID_PROCESSOR         5 /* p: processor */
#define SMP_PORT_ID_HARDWARE_PLATFORM 6 /* i: CONFIG_BOARD_TARGET */
#define SMP_PORT_ID_OS_NAME           7 /* o: "Zephyr" */
#define SMP_PORT_ID_COUNT             8

/**
 * Returns one identity string: a pointer to static storage and its length.
 *
 * @param which SMP_PORT_ID_*.
 * @param len   Out: length in bytes.
 * @return the text (valid for the program's lifetime), or NULL if not available.
 */
const uint8_t *smp_port_identity(uint32_t which, size_t *len);

/**
 * MCUboot facts for `os bootloader info`.
 *
 * @param mode         Out: enum mcuboot_mode value (-1 unknown).
 * @param no_downgrade Out: 1 if MCUboot refuses downgrades.
 * @return 0, SMP_PORT_ENOTSUP when the image does not run under MCUboot.
 */
int32_t smp_port_bootloader_info(int32_t *mode, uint32_t *no_downgrade);

/* ---- Flash areas (storage/flash_map.h) ----------------------------------------------- */

/** Flash area ids of the slots and the storage partition; SMP_PORT_ENOENT if absent. */
#define SMP_PORT_AREA_SLOT0   0 /* slot0_partition: primary slot of image 0 */
#define SMP_PORT_AREA_SLOT1   1 /* slot1_partition: secondary slot of image 0 */
#define SMP_PORT_AREA_SLOT2   2
#define SMP_PORT_AREA_SLOT3   3
#define SMP_PORT_AREA_SLOT4   4
#define SMP_PORT_AREA_SLOT5   5
#define SMP_PORT_AREA_STORAGE 6 /* storage_partition */

/**
 * Maps a logical area (SMP_PORT_AREA_*) to its flash_map partition id.
 * @return the id (0-255), or SMP_PORT_ENOENT if the devicetree has no such partition.
 */
int32_t smp_port_flash_area_id(uint32_t area);

/** Size of partition `id` in bytes, or a negative SMP_PORT_E* code. */
int64_t smp_port_flash_size(uint8_t id);

/** Write block size (alignment of writes) of partition `id`, or a negative SMP_PORT_E* code. */
int32_t smp_port_flash_write_align(uint8_t id);

/** Erase unit (page size at the start of the partition) of `id`, or a negative SMP_PORT_E* code. */
int32_t smp_port_flash_erase_unit(uint8_t id);

/** Value of an erased byte (0xff on NOR flash), or a negative SMP_PORT_E* code. */
int32_t smp_port_flash_erased_value(uint8_t id);

/**
 * Size of the first sector of partition `id`: where a secondary slot's image starts under
 * MCUboot's swap using offset (Zephyr's boot_get_image_start_offset), or a negative
 * SMP_PORT_E* code (SMP_PORT_ENOTSUP without a flash page layout).
 */
int32_t smp_port_flash_first_sector(uint8_t id);

/** Reads `len` bytes at `off` of partition `id` into `dst`. */
int32_t smp_port_flash_read(uint8_t id, uint32_t off, uint8_t *dst, size_t len);

/** Writes `len` bytes (aligned to the write block size) at `off` of partition `id`. */
int32_t smp_port_flash_write(uint8_t id, uint32_t off, const uint8_t *src, size_t len);

/** Erases `len` bytes (whole erase units) at `off` of partition `id`. */
int32_t smp_port_flash_erase(uint8_t id, uint32_t off, uint32_t len);

/* ---- MCUboot control (dfu/mcuboot.h) --------------------------------------------------- */

/** Swap types, matching BOOT_SWAP_TYPE_* of dfu/mcuboot.h. */
#define SMP_PORT_SWAP_NONE   1
#define SMP_PORT_SWAP_TEST   2
#define SMP_PORT_SWAP_PERM   3
#define SMP_PORT_SWAP_REVERT 4
#define SMP_PORT_SWAP_FAIL   5

/**
 * What MCUboot will do at the next boot for image `image`: SMP_PORT_SWAP_*, or a negative
 * SMP_PORT_E* code.
 */
int32_t smp_port_boot_swap_type(uint32_t image);

/** Marks the secondary slot of `image` pending; `permanent` 0 = test once, 1 = permanent. */
int32_t smp_port_boot_request_upgrade(uint32_t image, uint32_t permanent);

/** Confirms the image running from the primary slot of `image`. */
int32_t smp_port_boot_confirm(uint32_t image);

/**
 * 1 if the image in the primary slot of `image` is confirmed, 0 if not, or a negative
 * SMP_PORT_E* code (SMP_PORT_ENOENT for an image the build does not know).
 */
int32_t smp_port_boot_is_confirmed(uint32_t image);

/* ---- File system (fs/fs.h) ------------------------------------------------------------- */

/** Files that can be open at once (an upload, a hash, a staging record). */
#define SMP_PORT_FS_FILES 3

/** Open flags for smp_port_fs_open(). */
#define SMP_PORT_FS_READ   0x1u
#define SMP_PORT_FS_WRITE  0x2u
#define SMP_PORT_FS_CREATE 0x4u
#define SMP_PORT_FS_TRUNC  0x8u

/**
 * Opens the file `path` (absolute, e.g. "/lfs1/x.bin", not NUL-terminated).
 * @return a handle (0 .. SMP_PORT_FS_FILES-1), or a negative SMP_PORT_E* code
 *         (SMP_PORT_ENOENT, SMP_PORT_ENAMETOOLONG, SMP_PORT_EBUSY when all handles are in use).
 */
int32_t smp_port_fs_open(const uint8_t *path, size_t path_len, uint32_t flags);

/** Reads up to `len` bytes at `off` of file `handle`; returns the bytes read (0 at the end). */
int32_t smp_port_fs_read(uint32_t handle, uint64_t off, uint8_t *dst, size_t len);

/** Writes all `len` bytes at `off` of file `handle`; returns 0. */
int32_t smp_port_fs_write(uint32_t handle, uint64_t off, const uint8_t *src, size_t len);

/** Closes file `handle`, flushing it to the medium. */
int32_t smp_port_fs_close(uint32_t handle);

/**
 * Size of the file `path`.
 * @return the size, SMP_PORT_ENOENT if it does not exist, SMP_PORT_EISDIR for a directory.
 */
int64_t smp_port_fs_stat(const uint8_t *path, size_t path_len);

/** Deletes the file `path`. */
int32_t smp_port_fs_unlink(const uint8_t *path, size_t path_len);

/** Renames `from` to `to`, replacing a file `to` atomically if it exists. */
int32_t smp_port_fs_rename(const uint8_t *from, size_t from_len, const uint8_t *to,
			   size_t to_len);

/* ---- Statistics (stats/stats.h) ---------------------------------------------------------- */

/**
 * Reads the name of statistics group number `index` (registration order).
 * @return the name length (written to `name`, not NUL-terminated), SMP_PORT_ENOENT past the last.
 */
int32_t smp_port_stats_group(uint32_t index, uint8_t *name, size_t name_cap);

/**
 * Reads entry `index` of the statistics group named `group`.
 * @param name  Out buffer for the entry name.
 * @param value Out: the counter value.
 * @return the name length, SMP_PORT_ENOENT past the last entry or for an unknown group.
 */
int32_t smp_port_stats_entry(const uint8_t *group, size_t group_len, uint32_t index,
			     uint8_t *name, size_t name_cap, uint64_t *value);

/* ---- Settings (settings/settings.h) ------------------------------------------------------ */

/**
 * Reads the runtime value of setting `name` into `buf`.
 * @return the value length (may exceed `cap`; only `cap` bytes are written),
 *         SMP_PORT_EINVAL if no handler serves the name's root, SMP_PORT_ENOENT if the
 *         handler does not know it, SMP_PORT_ENOTSUP if settings are not built in.
 */
int32_t smp_port_settings_get(const uint8_t *name, size_t name_len, uint8_t *buf, size_t cap);

/** Sets the runtime value of `name`. Errors as smp_port_settings_get(). */
int32_t smp_port_settings_set(const uint8_t *name, size_t name_len, const uint8_t *val,
			      size_t val_len);

/** Deletes `name` from the persistent store. */
int32_t smp_port_settings_delete(const uint8_t *name, size_t name_len);

/** settings_commit(). */
int32_t smp_port_settings_commit(void);

/** settings_load(). */
int32_t smp_port_settings_load(void);

/** settings_save(), or settings_save_subtree() of `subtree` when `subtree_len` > 0. */
int32_t smp_port_settings_save(const uint8_t *subtree, size_t subtree_len);

/* ---- Shell (shell/shell.h, dummy backend) ----------------------------------------------- */

/**
 * Executes one shell command line (not NUL-terminated) on the dummy shell backend and
 * copies its output (truncated to `out_cap`) into `out`.
 * @param out_len Out: bytes of output written.
 * @param ret     Out: the command's return value.
 * @return 0, or SMP_PORT_ENOTSUP without a shell.
 */
int32_t smp_port_shell_exec(const uint8_t *line, size_t line_len, uint8_t *out, size_t out_cap,
			    size_t *out_len, int32_t *ret);

#ifdef __cplusplus
}
#endif

#endif /* SMP_PORT_H_ */

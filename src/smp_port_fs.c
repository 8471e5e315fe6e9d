/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * include/smp_port.h over the file system API (src/port/fs.rs), for the file-system
 * group. Built with CONFIG_SMP_RS_GRP_FS (CMakeLists.txt), which depends on
 * CONFIG_FILE_SYSTEM.
 *
 * Called from Rust (src/port/), on the SMP work queue thread only.
 */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <zephyr/fs/fs.h>
#include <zephyr/kernel.h>

#include "smp_glue.h"
#include "smp_port.h"

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
	int32_t rc = smp_glue_c_str(path_buf, sizeof(path_buf), path, path_len);

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
	rc = smp_glue_port_err(fs_open(&files[h], path_buf, mode));
	if (rc != 0) {
		return rc;
	}
	if (flags & SMP_PORT_FS_TRUNC) {
		rc = smp_glue_port_err(fs_truncate(&files[h], 0));
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
	rc = smp_glue_port_err(fs_seek(f, (off_t)off, FS_SEEK_SET));
	if (rc != 0) {
		return rc;
	}
	n = fs_read(f, dst, len);
	return n < 0 ? smp_glue_port_err((int)n) : (int32_t)n;
}

int32_t smp_port_fs_write(uint32_t handle, uint64_t off, const uint8_t *src, size_t len)
{
	struct fs_file_t *f = file_of(handle);
	int32_t rc;

	if (f == NULL) {
		return SMP_PORT_EINVAL;
	}
	rc = smp_glue_port_err(fs_seek(f, (off_t)off, FS_SEEK_SET));
	while (rc == 0 && len > 0) {
		ssize_t n = fs_write(f, src, len);

		if (n < 0) {
			return smp_glue_port_err((int)n);
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
	return smp_glue_port_err(fs_close(f));
}

int64_t smp_port_fs_stat(const uint8_t *path, size_t path_len)
{
	struct fs_dirent entry;
	int32_t rc = smp_glue_c_str(path_buf, sizeof(path_buf), path, path_len);

	if (rc != 0) {
		return rc;
	}
	rc = smp_glue_port_err(fs_stat(path_buf, &entry));
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
	int32_t rc = smp_glue_c_str(path_buf, sizeof(path_buf), path, path_len);

	return rc != 0 ? rc : smp_glue_port_err(fs_unlink(path_buf));
}

int32_t smp_port_fs_rename(const uint8_t *from, size_t from_len, const uint8_t *to,
			   size_t to_len)
{
	int32_t rc = smp_glue_c_str(path_buf, sizeof(path_buf), from, from_len);

	if (rc == 0) {
		rc = smp_glue_c_str(path_buf2, sizeof(path_buf2), to, to_len);
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
	return smp_glue_port_err(rc);
}

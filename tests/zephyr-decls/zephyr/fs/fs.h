#ifndef DECLS_FS_H_
#define DECLS_FS_H_
/* zephyrproject-rtos/zephyr include/zephyr/fs/fs.h @ f6d21bbff531 and
 * include/zephyr/fs/fs_interface.h @ 53ef68d4598b (MAX_FILE_NAME, fs_mode_t, fs_file_t).
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#if (CONFIG_FILE_SYSTEM_MAX_FILE_NAME - 0) > 0
#define MAX_FILE_NAME CONFIG_FILE_SYSTEM_MAX_FILE_NAME
#elif defined(CONFIG_FILE_SYSTEM_LITTLEFS)
#define MAX_FILE_NAME 256
#elif defined(CONFIG_FAT_FILESYSTEM_ELM) && defined(CONFIG_FS_FATFS_LFN)
#define MAX_FILE_NAME CONFIG_FS_FATFS_MAX_LFN
#else
#define MAX_FILE_NAME 12
#endif
typedef uint8_t fs_mode_t;
struct fs_mount_t;
#define FS_O_READ 0x01
#define FS_O_WRITE 0x02
#define FS_O_RDWR (FS_O_READ | FS_O_WRITE)
#define FS_O_CREATE 0x10
#define FS_O_APPEND 0x20
#define FS_SEEK_SET 0
enum fs_dir_entry_type { FS_DIR_ENTRY_FILE = 0, FS_DIR_ENTRY_DIR };
struct fs_dirent {
	enum fs_dir_entry_type type;
	char name[MAX_FILE_NAME + 1];
	size_t size;
};
struct fs_file_t {
	void *filep;
	const struct fs_mount_t *mp;
	fs_mode_t flags;
};
static inline void fs_file_t_init(struct fs_file_t *zfp)
{
	zfp->filep = NULL;
	zfp->mp = NULL;
	zfp->flags = 0;
}
int fs_open(struct fs_file_t *zfp, const char *file_name, fs_mode_t flags);
int fs_close(struct fs_file_t *zfp);
ssize_t fs_read(struct fs_file_t *zfp, void *ptr, size_t size);
ssize_t fs_write(struct fs_file_t *zfp, const void *ptr, size_t size);
int fs_seek(struct fs_file_t *zfp, off_t offset, int whence);
int fs_truncate(struct fs_file_t *zfp, off_t length);
int fs_unlink(const char *path);
int fs_rename(const char *from, const char *to);
int fs_stat(const char *path, struct fs_dirent *entry);
#endif

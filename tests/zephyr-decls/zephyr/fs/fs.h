#ifndef DECLS_FS_H_
#define DECLS_FS_H_
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#define MAX_FILE_NAME 255
typedef uint8_t fs_mode_t;
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
	const void *mp;
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

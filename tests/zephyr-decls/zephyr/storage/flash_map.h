#ifndef DECLS_FLASH_MAP_H_
#define DECLS_FLASH_MAP_H_
/* zephyrproject-rtos/zephyr include/zephyr/storage/flash_map.h @ 831f74162738 (no
 * fa_device_id any more; fa_label with CONFIG_FLASH_MAP_LABELS). FIXED_PARTITION_* are
 * devicetree macros there, reduced to fixed answers here.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zephyr/device.h>
#include <zephyr/devicetree.h>
struct flash_area {
	uint8_t fa_id;
	uint16_t pad16;
	off_t fa_off;
	size_t fa_size;
	const struct device *fa_dev;
#if CONFIG_FLASH_MAP_LABELS
	const char *fa_label;
#endif
};
int flash_area_open(uint8_t id, const struct flash_area **fa);
void flash_area_close(const struct flash_area *fa);
int flash_area_read(const struct flash_area *fa, off_t off, void *dst, size_t len);
int flash_area_write(const struct flash_area *fa, off_t off, const void *src, size_t len);
int flash_area_erase(const struct flash_area *fa, off_t off, size_t len);
uint32_t flash_area_align(const struct flash_area *fa);
const struct device *flash_area_get_device(const struct flash_area *fa);
uint8_t flash_area_erased_val(const struct flash_area *fa);
/* struct flash_sector and flash_area_get_sectors as in the same header @ 00cafdabf373
 * (declared there without a Kconfig condition; implemented in flash_map_layout.c, which
 * subsys/storage/flash_map/CMakeLists.txt @ 13ce23f47877 builds with CONFIG_FLASH_PAGE_LAYOUT).
 */
struct flash_sector {
	off_t fs_off;
	size_t fs_size;
};
int flash_area_get_sectors(int fa_id, uint32_t *count, struct flash_sector *sectors);

#ifdef DT_NO_PARTITIONS
#define FIXED_PARTITION_EXISTS(label) 0
#else
#define FIXED_PARTITION_EXISTS(label) DECLS_FP_EXISTS_##label
#endif
#define DECLS_FP_EXISTS_slot0_partition 1
#define DECLS_FP_EXISTS_slot1_partition 1
#define DECLS_FP_EXISTS_storage_partition 1
#define FIXED_PARTITION_ID(label) DECLS_FP_ID_##label
#define DECLS_FP_ID_slot0_partition 1
#define DECLS_FP_ID_slot1_partition 2
#define DECLS_FP_ID_storage_partition 3
#endif

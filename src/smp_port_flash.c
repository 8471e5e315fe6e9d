/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * include/smp_port.h over the flash map (src/port/flash.rs): the slot partitions of the
 * image group and storage_partition of the Zephyr basic group. Built with
 * CONFIG_SMP_RS_GRP_IMG or CONFIG_SMP_RS_GRP_ZBASIC (CMakeLists.txt), both of which depend
 * on CONFIG_FLASH_MAP.
 *
 * Called from Rust (src/port/), on the SMP work queue thread only.
 */

#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/drivers/flash.h>
#include <zephyr/kernel.h>
#include <zephyr/storage/flash_map.h>
#include <zephyr/sys/util.h>

#include "smp_glue.h"
#include "smp_port.h"

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
	return smp_glue_port_err(flash_area_open(id, fa));
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
	rc = smp_glue_port_err(flash_get_page_info_by_offs(flash_area_get_device(fa), fa->fa_off, &info));
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

/*
 * The first sector's size, as zephyrproject-rtos/zephyr subsys/dfu/boot/mcuboot.c
 * (030cbd8f6f14) boot_get_image_start_offset computes a secondary slot's image start:
 * CONFIG_IMG_CUSTOM_SECTOR_SIZE when set (non-zero; its Kconfig definition was not read),
 * else flash_area_get_sectors() asked for SWAP_USING_OFFSET_SECTOR_UPDATE_BEGIN sectors
 * (1, include/zephyr/dfu/mcuboot.h @ 030cbd8f6f14), where -ENOMEM only says the partition
 * has more sectors than that (the count is then left as passed in, flash_map_layout.c
 * @ 13ce23f47877). Upstream also answers 0 while a revert is pending; here the image group
 * does that per request (img::Config::secondary_offset). flash_map_layout.c is built with
 * CONFIG_FLASH_PAGE_LAYOUT (subsys/storage/flash_map/CMakeLists.txt @ 13ce23f47877).
 */
int32_t smp_port_flash_first_sector(uint8_t id)
{
#if defined(CONFIG_IMG_CUSTOM_SECTOR_SIZE) && CONFIG_IMG_CUSTOM_SECTOR_SIZE != 0
	ARG_UNUSED(id);
	return (int32_t)CONFIG_IMG_CUSTOM_SECTOR_SIZE;
#elif defined(CONFIG_FLASH_PAGE_LAYOUT)
	struct flash_sector sector;
	uint32_t count = 1;
	int rc = flash_area_get_sectors(id, &count, &sector);

	if (rc != 0 && rc != -ENOMEM) {
		return smp_glue_port_err(rc);
	}
	if (count != 1 || sector.fs_size == 0 || sector.fs_size > INT32_MAX) {
		return SMP_PORT_EIO;
	}
	return (int32_t)sector.fs_size;
#else
	ARG_UNUSED(id);
	return SMP_PORT_ENOTSUP;
#endif
}

int32_t smp_port_flash_read(uint8_t id, uint32_t off, uint8_t *dst, size_t len)
{
	const struct flash_area *fa;
	int32_t rc = open_area(id, &fa);

	if (rc == 0) {
		rc = smp_glue_port_err(flash_area_read(fa, (off_t)off, dst, len));
		flash_area_close(fa);
	}
	return rc;
}

int32_t smp_port_flash_write(uint8_t id, uint32_t off, const uint8_t *src, size_t len)
{
	const struct flash_area *fa;
	int32_t rc = open_area(id, &fa);

	if (rc == 0) {
		rc = smp_glue_port_err(flash_area_write(fa, (off_t)off, src, len));
		flash_area_close(fa);
	}
	return rc;
}

int32_t smp_port_flash_erase(uint8_t id, uint32_t off, uint32_t len)
{
	const struct flash_area *fa;
	int32_t rc = open_area(id, &fa);

	if (rc == 0) {
		rc = smp_glue_port_err(flash_area_erase(fa, (off_t)off, len));
		flash_area_close(fa);
	}
	return rc;
}

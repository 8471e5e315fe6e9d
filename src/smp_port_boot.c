/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * include/smp_port.h for MCUboot (src/port/boot.rs): the bootloader facts of
 * "os bootloader info" (OS group; also the image group's BootControl::info), and, with the
 * image group, MCUboot control through zephyr/dfu/mcuboot.h. Built with
 * CONFIG_SMP_RS_GRP_OS or CONFIG_SMP_RS_GRP_IMG (CMakeLists.txt); the control functions
 * only with CONFIG_SMP_RS_GRP_IMG, which depends on CONFIG_BOOTLOADER_MCUBOOT.
 *
 * Called from Rust (src/port/), on the SMP work queue thread only.
 */

#include <zephyr/kernel.h>
#include <zephyr/sys/util.h>

#ifdef CONFIG_SMP_RS_GRP_IMG
#include <zephyr/dfu/mcuboot.h>
#endif

#include "smp_glue.h"
#include "smp_port.h"

/* The mode as the previous smp_port.c mapped it (corrected in the next commit). */
#if defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SINGLE_APP)
#define SMP_MCUBOOT_MODE 0
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_SCRATCH)
#define SMP_MCUBOOT_MODE 1
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_OVERWRITE_ONLY)
#define SMP_MCUBOOT_MODE 2
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_MOVE) ||                               \
	defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_WITHOUT_SCRATCH)
#define SMP_MCUBOOT_MODE 3
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP_WITH_REVERT)
#define SMP_MCUBOOT_MODE 5
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP)
#define SMP_MCUBOOT_MODE 4
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_RAM_LOAD)
#define SMP_MCUBOOT_MODE 6
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_FIRMWARE_UPDATER)
#define SMP_MCUBOOT_MODE 7
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_OFFSET)
#define SMP_MCUBOOT_MODE 9
#else
#define SMP_MCUBOOT_MODE (-1)
#endif

int32_t smp_port_bootloader_info(int32_t *mode, uint32_t *no_downgrade)
{
	if (!IS_ENABLED(CONFIG_BOOTLOADER_MCUBOOT)) {
		return SMP_PORT_ENOTSUP;
	}
	*mode = SMP_MCUBOOT_MODE;
	*no_downgrade = IS_ENABLED(CONFIG_MCUBOOT_BOOTLOADER_NO_DOWNGRADE);
	return 0;
}

#ifdef CONFIG_SMP_RS_GRP_IMG
/*
 * zephyr/dfu/mcuboot.h; implemented in subsys/dfu/boot/mcuboot.c, which Zephyr builds with
 * CONFIG_MCUBOOT_IMG_MANAGER (see tests/zephyr-decls/README.md).
 */

int32_t smp_port_boot_swap_type(uint32_t image)
{
	return smp_glue_port_err(mcuboot_swap_type_multi((int)image));
}

int32_t smp_port_boot_request_upgrade(uint32_t image, uint32_t permanent)
{
	return smp_glue_port_err(boot_request_upgrade_multi(
		(int)image, permanent ? BOOT_UPGRADE_PERMANENT : BOOT_UPGRADE_TEST));
}

int32_t smp_port_boot_confirm(uint32_t image)
{
	return smp_glue_port_err(boot_write_img_confirmed_multi((int)image));
}

int32_t smp_port_boot_is_confirmed(uint32_t image)
{
	/* Zephyr's API answers for the running image (image 0) only. */
	if (image != 0) {
		return SMP_PORT_ENOENT;
	}
	return boot_is_img_confirmed() ? 1 : 0;
}
#endif /* CONFIG_SMP_RS_GRP_IMG */

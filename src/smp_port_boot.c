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

/*
 * The MCUboot mode the application was built for: the MCUBOOT_BOOTLOADER_MODE choice of
 * zephyrproject-rtos/zephyr modules/Kconfig.mcuboot (commit fc9fd668b344), one symbol of
 * which is set whenever CONFIG_BOOTLOADER_MCUBOOT is, as the value of MCUboot's
 * enum mcuboot_mode (mcu-tools/mcuboot boot/bootutil/include/bootutil/boot_status.h,
 * commit 2d4bacc3c15e: SINGLE_SLOT 0, SWAP_USING_SCRATCH 1, UPGRADE_ONLY 2,
 * SWAP_USING_MOVE 3, DIRECT_XIP 4, DIRECT_XIP_WITH_REVERT 5, RAM_LOAD 6,
 * FIRMWARE_LOADER 7, SINGLE_SLOT_RAM_LOAD 8, SWAP_USING_OFFSET 9).
 *
 * Zephyr's os_mgmt (subsys/mgmt/mcumgr/grp/os_mgmt/src/os_mgmt.c, commit b2d53f60895e)
 * maps SINGLE_APP, SWAP_SCRATCH, OVERWRITE_ONLY, SWAP_WITHOUT_SCRATCH (as SWAP_USING_MOVE),
 * DIRECT_XIP, DIRECT_XIP_WITH_REVERT and FIRMWARE_UPDATER the same way. The choice members
 * that file does not know are mapped to the mode MCUboot itself reports for the same build
 * (boot/bootutil/src/boot_record.c, commit 2d4bacc3c15e): SWAP_USING_MOVE and the deprecated
 * SWAP_WITHOUT_SCRATCH are swap-using-move, RAM_LOAD_WITH_REVERT is RAM_LOAD (MCUboot has
 * no separate value; revert is a flag of RAM load), SINGLE_APP_RAM_LOAD is
 * SINGLE_SLOT_RAM_LOAD, SWAP_USING_OFFSET is SWAP_USING_OFFSET.
 */
#if defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SINGLE_APP)
#define SMP_MCUBOOT_MODE 0
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_SCRATCH)
#define SMP_MCUBOOT_MODE 1
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_OVERWRITE_ONLY)
#define SMP_MCUBOOT_MODE 2
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_MOVE) ||                               \
	defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_WITHOUT_SCRATCH)
#define SMP_MCUBOOT_MODE 3
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP)
#define SMP_MCUBOOT_MODE 4
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP_WITH_REVERT)
#define SMP_MCUBOOT_MODE 5
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_RAM_LOAD) ||                                      \
	defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_RAM_LOAD_WITH_REVERT)
#define SMP_MCUBOOT_MODE 6
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_FIRMWARE_UPDATER)
#define SMP_MCUBOOT_MODE 7
#elif defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SINGLE_APP_RAM_LOAD)
#define SMP_MCUBOOT_MODE 8
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

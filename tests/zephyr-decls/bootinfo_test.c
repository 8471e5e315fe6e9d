/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Run by ci/c-syntax.sh: src/smp_port_boot.c built with one MCUBOOT_BOOTLOADER_MODE choice
 * (-DCONFIG_MCUBOOT_BOOTLOADER_MODE_<X>=1) must report -DEXPECT_MODE (enum mcuboot_mode of
 * mcu-tools/mcuboot boot/bootutil/include/bootutil/boot_status.h) and, without
 * CONFIG_BOOTLOADER_MCUBOOT, no bootloader at all.
 */

#include <stdio.h>

#include "smp_port.h"

int main(void)
{
	int32_t mode = -100;
	uint32_t no_downgrade = 7;
	int32_t rc = smp_port_bootloader_info(&mode, &no_downgrade);

#ifdef CONFIG_BOOTLOADER_MCUBOOT
	if (rc != 0 || mode != EXPECT_MODE || no_downgrade != EXPECT_NO_DOWNGRADE) {
		printf("rc %d mode %d no_downgrade %u, expected 0 %d %d\n", (int)rc, (int)mode,
		       (unsigned int)no_downgrade, EXPECT_MODE, EXPECT_NO_DOWNGRADE);
		return 1;
	}
#else
	if (rc != SMP_PORT_ENOTSUP) {
		printf("rc %d without MCUboot, expected %d\n", (int)rc, SMP_PORT_ENOTSUP);
		return 1;
	}
#endif
	return 0;
}

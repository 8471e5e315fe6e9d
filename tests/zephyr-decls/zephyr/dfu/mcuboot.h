#ifndef DECLS_MCUBOOT_H_
#define DECLS_MCUBOOT_H_
/* zephyrproject-rtos/zephyr include/zephyr/dfu/mcuboot.h @ 030cbd8f6f14. Implemented in
 * subsys/dfu/boot/mcuboot.c, built with CONFIG_MCUBOOT_IMG_MANAGER.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#define BOOT_SWAP_TYPE_NONE 1
#define BOOT_SWAP_TYPE_TEST 2
#define BOOT_SWAP_TYPE_PERM 3
#define BOOT_SWAP_TYPE_REVERT 4
#define BOOT_SWAP_TYPE_FAIL 5
#define BOOT_UPGRADE_TEST 0
#define BOOT_UPGRADE_PERMANENT 1
bool boot_is_img_confirmed(void);
int boot_write_img_confirmed(void);
int boot_write_img_confirmed_multi(int image_index);
int mcuboot_swap_type(void);
int mcuboot_swap_type_multi(int image_index);
int boot_request_upgrade(int permanent);
int boot_request_upgrade_multi(int image_index, int permanent);
#if defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_OFFSET)
size_t boot_get_image_start_offset(uint8_t area_id);
#else
#define boot_get_image_start_offset(...) 0
#endif
#endif

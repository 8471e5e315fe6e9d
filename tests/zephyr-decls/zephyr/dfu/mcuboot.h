#ifndef DECLS_MCUBOOT_H_
#define DECLS_MCUBOOT_H_
#include <stdbool.h>
#define BOOT_UPGRADE_TEST 0
#define BOOT_UPGRADE_PERMANENT 1
bool boot_is_img_confirmed(void);
int boot_write_img_confirmed(void);
int boot_write_img_confirmed_multi(int image_index);
int mcuboot_swap_type(void);
int mcuboot_swap_type_multi(int image_index);
int boot_request_upgrade(int permanent);
int boot_request_upgrade_multi(int image_index, int permanent);
#endif

#ifndef DECLS_BOOTMODE_H_
#define DECLS_BOOTMODE_H_
/* zephyrproject-rtos/zephyr include/zephyr/retention/bootmode.h @ 48b230010c09. */
#include <stdint.h>
int bootmode_set(uint8_t boot_mode);
#endif

#ifndef DECLS_BOOTMODE_H_
#define DECLS_BOOTMODE_H_
#include <stdint.h>
int bootmode_set(uint8_t boot_mode);
#endif

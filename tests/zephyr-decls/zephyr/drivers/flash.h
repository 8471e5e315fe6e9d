#ifndef DECLS_FLASH_H_
#define DECLS_FLASH_H_
/* zephyrproject-rtos/zephyr include/zephyr/drivers/flash.h @ 48b230010c09 (a __syscall
 * there; the page layout API only with CONFIG_FLASH_PAGE_LAYOUT, implemented in
 * drivers/flash/flash_page_layout.c, built with the same symbol).
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zephyr/device.h>
struct flash_pages_info {
	off_t start_offset;
	size_t size;
	uint32_t index;
};
#if defined(CONFIG_FLASH_PAGE_LAYOUT)
int flash_get_page_info_by_offs(const struct device *dev, off_t offset,
				struct flash_pages_info *info);
#endif
#endif

/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Run by ci/c-syntax.sh: smp_port_flash_first_sector() of src/smp_port_flash.c over a
 * scripted flash_area_get_sectors(). With -DEXPECT_CUSTOM=<n> the build also sets
 * CONFIG_IMG_CUSTOM_SECTOR_SIZE=<n> and the answer must be <n> without asking the flash
 * map; without CONFIG_FLASH_PAGE_LAYOUT it must be SMP_PORT_ENOTSUP. Otherwise the cases
 * below follow flash_area_get_sectors' contract (include/zephyr/storage/flash_map.h
 * @ 00cafdabf373, flash_map_layout.c @ 13ce23f47877): -ENOMEM when the partition has more
 * sectors than asked for, the count then left as passed in.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <zephyr/drivers/flash.h>
#include <zephyr/storage/flash_map.h>

#include "smp_port.h"

static int script_rc;
static uint32_t script_count;
static size_t script_size;
static int calls, last_id;
static uint32_t asked;

int flash_area_get_sectors(int fa_id, uint32_t *count, struct flash_sector *sectors)
{
	calls++;
	last_id = fa_id;
	asked = *count;
	if (script_rc == 0 || script_rc == -ENOMEM) {
		sectors[0].fs_off = 0;
		sectors[0].fs_size = script_size;
	}
	if (script_rc == 0) {
		*count = script_count;
	}
	return script_rc;
}

/* The rest of the flash map smp_port_flash.c links against; never reached here. */
int flash_area_open(uint8_t id, const struct flash_area **fa) { return -ENOENT; }
void flash_area_close(const struct flash_area *fa) {}
int flash_area_read(const struct flash_area *fa, off_t off, void *dst, size_t len) { return -EIO; }
int flash_area_write(const struct flash_area *fa, off_t off, const void *src, size_t len) { return -EIO; }
int flash_area_erase(const struct flash_area *fa, off_t off, size_t len) { return -EIO; }
uint32_t flash_area_align(const struct flash_area *fa) { return 0; }
const struct device *flash_area_get_device(const struct flash_area *fa) { return NULL; }
uint8_t flash_area_erased_val(const struct flash_area *fa) { return 0; }
#ifdef CONFIG_FLASH_PAGE_LAYOUT
int flash_get_page_info_by_offs(const struct device *dev, off_t offset,
				struct flash_pages_info *info) { return -EIO; }
#endif

static int failures;

static void expect(const char *what, int rc, uint32_t count, size_t size, int32_t want)
{
	script_rc = rc;
	script_count = count;
	script_size = size;
	calls = 0;
	asked = 0;
	last_id = -1;
	int32_t got = smp_port_flash_first_sector(7);
#if defined(EXPECT_CUSTOM)
	int want_calls = 0;
	want = EXPECT_CUSTOM;
#elif defined(CONFIG_FLASH_PAGE_LAYOUT)
	int want_calls = 1;
#else
	int want_calls = 0;
	want = SMP_PORT_ENOTSUP;
#endif
	if (got != want || calls != want_calls || (calls && (last_id != 7 || asked != 1))) {
		printf("FAIL %s: got %d (%d calls, id %d, asked for %u), expected %d (%d calls)\n",
		       what, (int)got, calls, last_id, (unsigned int)asked, (int)want, want_calls);
		failures++;
	}
}

int main(void)
{
	expect("more sectors than asked for (-ENOMEM)", -ENOMEM, 0, 4096, 4096);
	expect("a one-sector partition", 0, 1, 2048, 2048);
	expect("no sector returned", 0, 0, 2048, SMP_PORT_EIO);
	expect("a zero-sized sector", -ENOMEM, 0, 0, SMP_PORT_EIO);
	expect("no such partition", -EINVAL, 0, 4096, SMP_PORT_EINVAL);
	expect("no driver", -ENODEV, 0, 4096, SMP_PORT_ENOENT);
	expect("a driver error", -EIO, 0, 4096, SMP_PORT_EIO);
	return failures != 0;
}

/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Link check for the MCU targets (ci/mcu.sh): references every entry point of smp_rs.h so
 * that the linked image holds what a Zephyr image would, with the RAM double standing in
 * for the smp_port_*.c glue. It is linked, sized and not run.
 */

#include "smp_port_double.h"
#include "smp_rs.h"

static uint8_t rx[64];
static uint8_t tx[512];

int main(void)
{
	size_t used = 0;
	int32_t n;

	smp_double_reset_state();
	rust_main();
	n = smp_rs_process(SMP_RS_TRANSPORT_UDP4, rx, sizeof(rx), tx, sizeof(tx));
	n += smp_rs_serial_feed(SMP_RS_TRANSPORT_UART, rx, sizeof(rx), &used, tx, sizeof(tx));
	n += smp_rs_serial_feed(SMP_RS_TRANSPORT_CONSOLE, rx, sizeof(rx), &used, tx, sizeof(tx));
	n += smp_rs_serial_reset(SMP_RS_TRANSPORT_UART);
	n += smp_rs_poll();
	n += (int32_t)(smp_rs_buf_size() + smp_rs_buf_count() + smp_rs_serial_out_size());
	return n;
}

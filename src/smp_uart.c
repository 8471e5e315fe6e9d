/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * SMP over serial lines with the console framing (Base64 lines, CRC16):
 *  - the dedicated SMP UART, devicetree chosen `zephyr,uart-mcumgr` (a USB CDC-ACM UART
 *    with usb.overlay): transport SMP_RS_TRANSPORT_UART, text is ignored;
 *  - the console UART, chosen `zephyr,console`: transport SMP_RS_TRANSPORT_CONSOLE, where
 *    SMP lines and text share the line; with CONFIG_SMP_RS_CONSOLE_SHELL, text lines run as
 *    shell commands and their output is written back.
 * The UART interrupt only moves bytes into a ring buffer; decoding, SMP and the shell run
 * on the SMP work queue (in Rust), which writes the output back by polling.
 */

#include <errno.h>

#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/drivers/uart.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/sys/ring_buffer.h>

#include "smp_glue.h"
#include "smp_rs.h"

LOG_MODULE_DECLARE(smp_rs, CONFIG_SMP_RS_LOG_LEVEL);

struct serial_line {
	const struct device *dev;
	uint8_t transport;
	struct ring_buf *rx;
	struct k_work work;
	uint32_t overruns;
};

/* Serial output of one response (only touched on the SMP work queue thread). */
static uint8_t serial_out[SMP_GLUE_SERIAL_OUT_SIZE];

static void uart_isr(const struct device *dev, void *user_data)
{
	struct serial_line *line = user_data;

	while (uart_irq_update(dev) > 0 && uart_irq_rx_ready(dev) > 0) {
		uint8_t buf[32];
		int n = uart_fifo_read(dev, buf, sizeof(buf));

		if (n <= 0) {
			break;
		}
		if (ring_buf_put(line->rx, buf, (uint32_t)n) < (uint32_t)n) {
			line->overruns++;
		}
		(void)k_work_submit_to_queue(smp_glue_queue(), &line->work);
	}
}

static void write_out(const struct device *dev, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uart_poll_out(dev, data[i]);
	}
}

static void serial_work(struct k_work *work)
{
	struct serial_line *line = CONTAINER_OF(work, struct serial_line, work);
	uint8_t chunk[64];
	uint32_t n;

	if (line->overruns != 0) {
		LOG_WRN("serial input overrun (%u); partial frame dropped",
			(unsigned int)line->overruns);
		line->overruns = 0;
		(void)smp_rs_serial_reset(line->transport);
	}
	while ((n = ring_buf_get(line->rx, chunk, sizeof(chunk))) > 0) {
		size_t off = 0;

		while (off < n) {
			size_t used = 0;
			int32_t out = smp_rs_serial_feed(line->transport, &chunk[off], n - off,
							 &used, serial_out, sizeof(serial_out));

			if (out < 0) {
				LOG_ERR("smp_rs_serial_feed: %d", (int)out);
				return;
			}
			write_out(line->dev, serial_out, (size_t)out);
			off += used;
		}
	}
}

static int start_line(struct serial_line *line)
{
	int err;

	if (!device_is_ready(line->dev)) {
		return -ENODEV;
	}
	k_work_init(&line->work, serial_work);
	err = uart_irq_callback_user_data_set(line->dev, uart_isr, line);
	if (err != 0) {
		return err;
	}
	uart_irq_rx_enable(line->dev);
	return 0;
}

#ifdef CONFIG_SMP_RS_TRANSPORT_UART
RING_BUF_DECLARE(uart_rx_ring, CONFIG_SMP_RS_SERIAL_RX_RING_SIZE);
static struct serial_line smp_uart = {
	.dev = DEVICE_DT_GET(DT_CHOSEN(zephyr_uart_mcumgr)),
	.transport = SMP_RS_TRANSPORT_UART,
	.rx = &uart_rx_ring,
};
#endif

#ifdef CONFIG_SMP_RS_TRANSPORT_CONSOLE
RING_BUF_DECLARE(console_rx_ring, CONFIG_SMP_RS_SERIAL_RX_RING_SIZE);
static struct serial_line smp_console = {
	.dev = DEVICE_DT_GET(DT_CHOSEN(zephyr_console)),
	.transport = SMP_RS_TRANSPORT_CONSOLE,
	.rx = &console_rx_ring,
};
#endif

int smp_uart_start(void)
{
	int err = 0;

#ifdef CONFIG_SMP_RS_TRANSPORT_UART
	err = start_line(&smp_uart);
	if (err != 0) {
		LOG_ERR("SMP UART: %d", err);
	}
#endif
#ifdef CONFIG_SMP_RS_TRANSPORT_CONSOLE
	err = start_line(&smp_console);
	if (err != 0) {
		LOG_ERR("console: %d", err);
	}
#endif
	return err;
}

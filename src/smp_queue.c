/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The SMP work queue: the packet pool every transport receives into, the queue thread
 * that hands each buffer to Rust (the only thread that enters it), the start-up of the
 * transports, and the port functions for logging, uptime and reset.
 */

#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/sys/reboot.h>
#ifdef CONFIG_RETENTION_BOOT_MODE
#include <zephyr/retention/bootmode.h>
#endif
#ifdef CONFIG_SMP_RS_TRANSPORT_BT
#include <zephyr/bluetooth/conn.h>
#endif

#include "smp_glue.h"
#include "smp_port.h"
#include "smp_rs.h"

LOG_MODULE_REGISTER(smp_rs, CONFIG_SMP_RS_LOG_LEVEL);

K_MEM_SLAB_DEFINE_STATIC(smp_pool, sizeof(struct smp_pkt), CONFIG_SMP_RS_BUF_COUNT, 4);
K_FIFO_DEFINE(smp_rx_fifo);
K_THREAD_STACK_DEFINE(smp_wq_stack, CONFIG_SMP_RS_WORKQUEUE_STACK_SIZE);

static struct k_work_q smp_wq;
static struct k_work rx_work;
static struct k_work_delayable reset_work;
static struct k_work_delayable poll_work;
static uint8_t reset_boot_mode;

/* Responses of one buffer, back to back (only touched on the work queue thread). */
static uint8_t smp_tx[CONFIG_SMP_RS_BUF_SIZE];

struct smp_pkt *smp_glue_alloc(k_timeout_t timeout)
{
	void *block;

	if (k_mem_slab_alloc(&smp_pool, &block, timeout) != 0) {
		return NULL;
	}
	memset(block, 0, offsetof(struct smp_pkt, data));
	return block;
}

void smp_glue_free(struct smp_pkt *pkt)
{
#ifdef CONFIG_SMP_RS_TRANSPORT_BT
	if (pkt->conn != NULL) {
		bt_conn_unref(pkt->conn);
		pkt->conn = NULL;
	}
#endif
	k_mem_slab_free(&smp_pool, pkt);
}

void smp_glue_enqueue(struct smp_pkt *pkt)
{
	k_fifo_put(&smp_rx_fifo, pkt);
	(void)k_work_submit_to_queue(&smp_wq, &rx_work);
}

struct k_work_q *smp_glue_queue(void)
{
	return &smp_wq;
}

static void deliver(struct smp_pkt *req, const uint8_t *rsp, size_t len)
{
	switch (req->transport) {
#ifdef CONFIG_SMP_RS_TRANSPORT_BT
	case SMP_RS_TRANSPORT_BT:
		smp_bt_send(req, rsp, len);
		break;
#endif
#ifdef CONFIG_SMP_RS_TRANSPORT_UDP
	case SMP_RS_TRANSPORT_UDP4:
	case SMP_RS_TRANSPORT_UDP6:
		smp_udp_send(req, rsp, len);
		break;
#endif
	default:
		LOG_WRN("response for unknown transport %u dropped", req->transport);
		break;
	}
}

static void rx_work_handler(struct k_work *work)
{
	struct smp_pkt *pkt;

	ARG_UNUSED(work);
	while ((pkt = k_fifo_get(&smp_rx_fifo, K_NO_WAIT)) != NULL) {
		int32_t n = smp_rs_process(pkt->transport, pkt->data, pkt->len, smp_tx,
					   sizeof(smp_tx));
		size_t off = 0;

		if (n < 0) {
			LOG_ERR("smp_rs_process: %d", (int)n);
			n = 0;
		}
		/* Each response is a whole SMP packet: 8-byte header + big-endian length. */
		while ((size_t)n - off >= 8) {
			size_t len = 8 + ((size_t)smp_tx[off + 2] << 8 | smp_tx[off + 3]);

			if (len > (size_t)n - off) {
				break;
			}
			deliver(pkt, &smp_tx[off], len);
			off += len;
		}
		smp_glue_free(pkt);
	}
}

static void poll_work_handler(struct k_work *work)
{
	ARG_UNUSED(work);
	(void)smp_rs_poll();
	(void)k_work_schedule_for_queue(&smp_wq, &poll_work, K_MSEC(CONFIG_SMP_RS_POLL_MS));
}

static void reset_work_handler(struct k_work *work)
{
	ARG_UNUSED(work);
#ifdef CONFIG_RETENTION_BOOT_MODE
	if (reset_boot_mode != 0) {
		(void)bootmode_set(reset_boot_mode);
	}
#endif
	sys_reboot(SYS_REBOOT_WARM);
}

void smp_port_start(void)
{
	static const struct k_work_queue_config cfg = {
		.name = "smp_wq",
	};
	int err;

	if (smp_rs_serial_out_size() > SMP_GLUE_SERIAL_OUT_SIZE ||
	    smp_rs_buf_size() != CONFIG_SMP_RS_BUF_SIZE) {
		LOG_ERR("rustapp and the C glue disagree on buffer sizes; not starting");
		return;
	}
	k_work_init(&rx_work, rx_work_handler);
	k_work_init_delayable(&reset_work, reset_work_handler);
	k_work_init_delayable(&poll_work, poll_work_handler);
	/* k_work_queue_init() "must be invoked before starting a work queue structure for the
	 * first time" (zephyrproject-rtos/zephyr include/zephyr/kernel.h); kernel/work.c
	 * (290b04a308dd) zeroes the queue there, and k_work_queue_start() asserts on its flags.
	 */
	k_work_queue_init(&smp_wq);
	k_work_queue_start(&smp_wq, smp_wq_stack, K_THREAD_STACK_SIZEOF(smp_wq_stack),
			   CONFIG_SMP_RS_WORKQUEUE_PRIORITY, &cfg);
	(void)k_work_schedule_for_queue(&smp_wq, &poll_work, K_MSEC(CONFIG_SMP_RS_POLL_MS));

#ifdef CONFIG_SMP_RS_TRANSPORT_BT
	err = smp_bt_start();
	if (err != 0) {
		LOG_ERR("Bluetooth transport: %d", err);
	}
#endif
#ifdef CONFIG_SMP_RS_TRANSPORT_UDP
	err = smp_udp_start();
	if (err != 0) {
		LOG_ERR("UDP transport: %d", err);
	}
#endif
#if defined(CONFIG_SMP_RS_TRANSPORT_UART) || defined(CONFIG_SMP_RS_TRANSPORT_CONSOLE)
	err = smp_uart_start();
	if (err != 0) {
		LOG_ERR("serial transport: %d", err);
	}
#endif
	ARG_UNUSED(err);
}

void smp_port_log(uint32_t level, const uint8_t *msg, size_t len)
{
	/* Rust passes a NUL-terminated line; the logger copies it (it is not read-only). */
	const char *text = (const char *)msg;

	ARG_UNUSED(len);
	switch (level) {
	case SMP_PORT_LOG_ERR:
		LOG_ERR("%s", text);
		break;
	case SMP_PORT_LOG_WRN:
		LOG_WRN("%s", text);
		break;
	case SMP_PORT_LOG_INF:
		LOG_INF("%s", text);
		break;
	default:
		LOG_DBG("%s", text);
		break;
	}
}

uint64_t smp_port_uptime_ms(void)
{
	return (uint64_t)k_uptime_get();
}

int32_t smp_port_reset_schedule(uint32_t boot_mode)
{
	if (boot_mode > 1 || (boot_mode == 1 && !IS_ENABLED(CONFIG_RETENTION_BOOT_MODE))) {
		return SMP_PORT_ENOTSUP;
	}
	reset_boot_mode = (uint8_t)boot_mode;
	(void)k_work_schedule_for_queue(&smp_wq, &reset_work, K_MSEC(CONFIG_SMP_RS_RESET_MS));
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* What the Zephyr stubs of tests/glue-host/ record, and how the test drives them. */

#ifndef GLUE_STUBS_H_
#define GLUE_STUBS_H_

#include <stddef.h>
#include <stdint.h>

struct uart_out {
	uint8_t buf[8192];
	size_t len;
};

struct udp_datagram {
	int sock;
	uint8_t data[2048];
	size_t len;
	uint8_t addr[32];
	uint32_t addr_len;
};

struct glue_stubs {
	int verbose;
	int64_t uptime_ms;
	char last_log[256];
	int last_log_level;
	int blocks_in_use;
	int work_deferred;
	void *scheduled;
	int queue_started;
	/* The queue last passed to k_work_queue_init(); starts of any other queue. */
	void *queue_inited;
	int queue_start_uninit;
	int bt_enabled;
	int advertising;
	uint8_t adv_uuid[16];
	int bt_connected;
	int bt_subscribed;
	uint16_t bt_mtu;
	uint8_t notified[8192];
	size_t notify_len;
	uint16_t notify_sizes[16];
	int notifications;
	struct uart_out uart_out;
	struct uart_out console_out;
	/* UDP: sockets opened and bound (family, port), threads created, datagrams. */
	int sockets;
	int bound_family[2];
	uint16_t bound_port[2];
	int threads;
	void (*thread_entry[2])(void *, void *, void *);
	void *thread_arg[2];
	struct udp_datagram to_receive;
	struct udp_datagram sent[4];
	int sent_count;
};

extern struct glue_stubs stubs;

struct bt_conn *glue_conn(void);
int glue_conn_refs(void);
void glue_uart_receive(int console, const uint8_t *data, size_t len, size_t piece);
/* Runs UDP receive thread `i` until it has handed one datagram (stubs.to_receive) to the
 * SMP queue and waits for the next.
 */
void glue_udp_run_once(int i);

#endif /* GLUE_STUBS_H_ */

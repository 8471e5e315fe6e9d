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

struct glue_stubs {
	int verbose;
	int64_t uptime_ms;
	char last_log[256];
	int last_log_level;
	int blocks_in_use;
	int work_deferred;
	void *scheduled;
	int queue_started;
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
};

extern struct glue_stubs stubs;

struct bt_conn *glue_conn(void);
int glue_conn_refs(void);
void glue_uart_receive(int console, const uint8_t *data, size_t len, size_t piece);

#endif /* GLUE_STUBS_H_ */

/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Host implementations of the Zephyr functions the C glue calls, as declared in
 * tests/zephyr-decls/: just enough kernel (slab, FIFO, work items run at once), Bluetooth
 * (one fake connection; notifications recorded), UART (one fake device per chosen node;
 * output recorded) and ring buffer for tests/glue-host/main.c to drive the real glue.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <zephyr/bluetooth/bluetooth.h>
#include <zephyr/bluetooth/gatt.h>
#include <zephyr/drivers/uart.h>
#include <zephyr/kernel.h>
#include <zephyr/net/socket.h>
#include <zephyr/retention/bootmode.h>
#include <zephyr/sys/reboot.h>
#include <zephyr/sys/ring_buffer.h>

#include "glue_stubs.h"

struct glue_stubs stubs;

/* ---- logging ---- */

void decls_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(stubs.last_log, sizeof(stubs.last_log), fmt, ap);
	va_end(ap);
	stubs.last_log_level = level;
	if (stubs.verbose) {
		printf("  [log %d] %s\n", level, stubs.last_log);
	}
}

/* ---- kernel ---- */

int64_t k_uptime_get(void)
{
	return stubs.uptime_ms;
}

int k_mem_slab_alloc(struct k_mem_slab *slab, void **mem, k_timeout_t timeout)
{
	(void)timeout;
	for (uint32_t i = 0; i < slab->num_blocks; i++) {
		if (!(slab->used & (1u << i))) {
			slab->used |= 1u << i;
			*mem = slab->buffer + i * slab->block_size;
			stubs.blocks_in_use++;
			return 0;
		}
	}
	return -12; /* -ENOMEM */
}

void k_mem_slab_free(struct k_mem_slab *slab, void *mem)
{
	uint32_t i = (uint32_t)(((char *)mem - slab->buffer) / slab->block_size);

	slab->used &= ~(1u << i);
	stubs.blocks_in_use--;
}

void k_fifo_put(struct k_fifo *fifo, void *data)
{
	*(void **)data = NULL;
	if (fifo->tail != NULL) {
		*(void **)fifo->tail = data;
	} else {
		fifo->head = data;
	}
	fifo->tail = data;
}

void *k_fifo_get(struct k_fifo *fifo, k_timeout_t timeout)
{
	void *data = fifo->head;

	(void)timeout;
	if (data != NULL) {
		fifo->head = *(void **)data;
		if (fifo->head == NULL) {
			fifo->tail = NULL;
		}
	}
	return data;
}

void k_work_init(struct k_work *work, k_work_handler_t handler)
{
	work->handler = handler;
}

void k_work_init_delayable(struct k_work_delayable *dwork, k_work_handler_t handler)
{
	dwork->work.handler = handler;
}

/* Work runs at once, on the caller's stack (the glue's ordering is kept: one item at a time). */
int k_work_submit_to_queue(struct k_work_q *queue, struct k_work *work)
{
	static int running;

	(void)queue;
	if (running) {
		stubs.work_deferred++;
		return 0;
	}
	running = 1;
	work->handler(work);
	running = 0;
	return 1;
}

int k_work_schedule_for_queue(struct k_work_q *queue, struct k_work_delayable *dwork,
			      k_timeout_t delay)
{
	(void)queue;
	(void)delay;
	stubs.scheduled = dwork;
	return 1;
}

/* Zephyr requires k_work_queue_init() before the first k_work_queue_start() (kernel.h). */
void k_work_queue_init(struct k_work_q *queue)
{
	stubs.queue_inited = queue;
}

void k_work_queue_start(struct k_work_q *queue, k_thread_stack_t *stack, size_t stack_size,
			int prio, const struct k_work_queue_config *cfg)
{
	(void)stack;
	(void)stack_size;
	(void)prio;
	(void)cfg;
	if (stubs.queue_inited != queue) {
		stubs.queue_start_uninit++;
	}
	stubs.queue_started++;
}

void sys_reboot(int type)
{
	(void)type;
	fprintf(stderr, "sys_reboot called\n");
	for (;;) {
	}
}

int bootmode_set(uint8_t boot_mode)
{
	(void)boot_mode;
	return 0;
}

/* ---- Bluetooth ---- */

struct bt_conn {
	int refs;
	uint8_t index;
};

static struct bt_conn conn0 = {.refs = 1};

struct bt_conn *glue_conn(void)
{
	return &conn0;
}

const struct bt_uuid decls_uuid_primary, decls_uuid_chrc, decls_uuid_ccc;

struct bt_conn *bt_conn_ref(struct bt_conn *conn)
{
	conn->refs++;
	return conn;
}

void bt_conn_unref(struct bt_conn *conn)
{
	conn->refs--;
}

int glue_conn_refs(void)
{
	return conn0.refs;
}

uint8_t bt_conn_index(const struct bt_conn *conn)
{
	return conn->index;
}

int bt_conn_get_info(const struct bt_conn *conn, struct bt_conn_info *info)
{
	(void)conn;
	memset(info, 0, sizeof(*info));
	info->state = stubs.bt_connected ? BT_CONN_STATE_CONNECTED : BT_CONN_STATE_DISCONNECTED;
	return 0;
}

int bt_enable(bt_ready_cb_t cb)
{
	(void)cb;
	stubs.bt_enabled++;
	return 0;
}

const char *bt_get_name(void)
{
	return CONFIG_BT_DEVICE_NAME;
}

int bt_le_adv_start(const struct bt_le_adv_param *param, const struct bt_data *ad,
		    size_t ad_len, const struct bt_data *sd, size_t sd_len)
{
	(void)param;
	(void)sd;
	(void)sd_len;
	/* Keep the advertised 128-bit service UUID for the test to check. */
	for (size_t i = 0; i < ad_len; i++) {
		if (ad[i].type == BT_DATA_UUID128_ALL && ad[i].data_len == 16) {
			memcpy(stubs.adv_uuid, ad[i].data, 16);
		}
	}
	stubs.advertising++;
	return 0;
}

bool bt_gatt_is_subscribed(struct bt_conn *conn, const struct bt_gatt_attr *attr,
			   uint16_t ccc_type)
{
	(void)conn;
	(void)attr;
	return ccc_type == BT_GATT_CCC_NOTIFY && stubs.bt_subscribed;
}

uint16_t bt_gatt_get_mtu(struct bt_conn *conn)
{
	(void)conn;
	return stubs.bt_mtu;
}

int bt_gatt_notify(struct bt_conn *conn, const struct bt_gatt_attr *attr, const void *data,
		   uint16_t len)
{
	(void)conn;
	(void)attr;
	if (stubs.notify_len + len > sizeof(stubs.notified)) {
		return -12;
	}
	memcpy(stubs.notified + stubs.notify_len, data, len);
	stubs.notify_len += len;
	stubs.notify_sizes[stubs.notifications++ % 16] = len;
	return 0;
}

/* ---- UART: two fake devices ---- */

const struct device decls_device_chosen_zephyr_uart_mcumgr = {"uart-mcumgr"};
const struct device decls_device_chosen_zephyr_console = {"console"};
const struct device decls_device_rtc_alias = {"rtc"};

static struct fake_uart {
	const struct device *dev;
	uart_irq_callback_user_data_t cb;
	void *user_data;
	const uint8_t *rx;
	size_t rx_len;
} uarts[2] = {
	{.dev = &decls_device_chosen_zephyr_uart_mcumgr},
	{.dev = &decls_device_chosen_zephyr_console},
};

static struct fake_uart *uart_of(const struct device *dev)
{
	return dev == uarts[0].dev ? &uarts[0] : &uarts[1];
}

bool device_is_ready(const struct device *dev)
{
	(void)dev;
	return true;
}

int uart_irq_callback_user_data_set(const struct device *dev, uart_irq_callback_user_data_t cb,
				    void *user_data)
{
	uart_of(dev)->cb = cb;
	uart_of(dev)->user_data = user_data;
	return 0;
}

void uart_irq_rx_enable(const struct device *dev)
{
	(void)dev;
}

int uart_irq_update(const struct device *dev)
{
	(void)dev;
	return 1;
}

int uart_irq_rx_ready(const struct device *dev)
{
	return uart_of(dev)->rx_len > 0;
}

int uart_fifo_read(const struct device *dev, uint8_t *rx_data, const int size)
{
	struct fake_uart *u = uart_of(dev);
	size_t n = u->rx_len < (size_t)size ? u->rx_len : (size_t)size;

	memcpy(rx_data, u->rx, n);
	u->rx += n;
	u->rx_len -= n;
	return (int)n;
}

void uart_poll_out(const struct device *dev, unsigned char out_char)
{
	struct uart_out *o = dev == uarts[0].dev ? &stubs.uart_out : &stubs.console_out;

	if (o->len < sizeof(o->buf)) {
		o->buf[o->len++] = out_char;
	}
}

/* Delivers bytes to a UART as its interrupt would, in pieces of at most `piece`. */
void glue_uart_receive(int console, const uint8_t *data, size_t len, size_t piece)
{
	struct fake_uart *u = &uarts[console ? 1 : 0];

	while (len > 0) {
		size_t n = len < piece ? len : piece;

		u->rx = data;
		u->rx_len = n;
		u->cb(u->dev, u->user_data);
		data += n;
		len -= n;
	}
}

/* ---- ring buffer ---- */

uint32_t ring_buf_put(struct ring_buf *buf, const uint8_t *data, uint32_t size)
{
	uint32_t n = 0;

	while (n < size && buf->head - buf->tail < buf->size) {
		buf->buffer[buf->head++ % buf->size] = data[n++];
	}
	return n;
}

uint32_t ring_buf_get(struct ring_buf *buf, uint8_t *data, uint32_t size)
{
	uint32_t n = 0;

	while (n < size && buf->tail != buf->head) {
		data[n++] = buf->buffer[buf->tail++ % buf->size];
	}
	return n;
}

/* ---- threads and UDP sockets ---- */

k_tid_t k_thread_create(struct k_thread *new_thread, k_thread_stack_t *stack, size_t stack_size,
			k_thread_entry_t entry, void *p1, void *p2, void *p3, int prio,
			uint32_t options, k_timeout_t delay)
{
	(void)stack;
	(void)stack_size;
	(void)p2;
	(void)p3;
	(void)prio;
	(void)options;
	(void)delay;
	if (stubs.threads < 2) {
		stubs.thread_entry[stubs.threads] = entry;
		stubs.thread_arg[stubs.threads] = p1;
	}
	stubs.threads++;
	return new_thread;
}

int k_thread_name_set(k_tid_t thread, const char *str)
{
	(void)thread;
	(void)str;
	return 0;
}

int32_t k_sleep(k_timeout_t timeout)
{
	(void)timeout;
	return 0;
}

const struct net_in6_addr net_in6addr_any;

int zsock_socket(int family, int type, int proto)
{
	(void)family;
	if (type != NET_SOCK_DGRAM || proto != NET_IPPROTO_UDP) {
		errno = EINVAL;
		return -1;
	}
	return 10 + stubs.sockets++;
}

int zsock_close(int sock)
{
	(void)sock;
	return 0;
}

int zsock_bind(int sock, const struct net_sockaddr *addr, net_socklen_t addrlen)
{
	int i = sock - 10;

	(void)addrlen;
	if (i < 0 || i > 1) {
		return -1;
	}
	stubs.bound_family[i] = addr->sa_family;
	if (addr->sa_family == NET_AF_INET) {
		stubs.bound_port[i] = net_htons(((const struct net_sockaddr_in *)addr)->sin_port);
	} else {
		stubs.bound_port[i] = net_htons(((const struct net_sockaddr_in6 *)addr)->sin6_port);
	}
	return 0;
}

static jmp_buf udp_wait;
static int udp_delivered;

ssize_t zsock_recvfrom(int sock, void *buf, size_t max_len, int flags,
		       struct net_sockaddr *src_addr, net_socklen_t *addrlen)
{
	(void)sock;
	(void)flags;
	if (udp_delivered) {
		/* The thread waits for its next datagram: back to the test. */
		longjmp(udp_wait, 1);
	}
	udp_delivered = 1;
	if (stubs.to_receive.len > max_len) {
		errno = EMSGSIZE;
		return -1;
	}
	memcpy(buf, stubs.to_receive.data, stubs.to_receive.len);
	memcpy(src_addr, stubs.to_receive.addr, stubs.to_receive.addr_len);
	*addrlen = stubs.to_receive.addr_len;
	return (ssize_t)stubs.to_receive.len;
}

ssize_t zsock_sendto(int sock, const void *buf, size_t len, int flags,
		     const struct net_sockaddr *dest_addr, net_socklen_t addrlen)
{
	struct udp_datagram *d = &stubs.sent[stubs.sent_count++ % 4];

	(void)flags;
	d->sock = sock;
	d->len = len < sizeof(d->data) ? len : sizeof(d->data);
	memcpy(d->data, buf, d->len);
	d->addr_len = addrlen < sizeof(d->addr) ? addrlen : sizeof(d->addr);
	memcpy(d->addr, dest_addr, d->addr_len);
	return (ssize_t)len;
}

void glue_udp_run_once(int i)
{
	udp_delivered = 0;
	if (setjmp(udp_wait) == 0) {
		stubs.thread_entry[i](stubs.thread_arg[i], NULL, NULL);
	}
}

/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Host test of the C glue itself: src/smp_queue.c, smp_bt.c, smp_udp.c and smp_uart.c,
 * compiled against tests/zephyr-decls/ with the small Zephyr implementations of
 * zephyr_stubs.c, linked with librustapp.a (host build) and the RAM double of the port
 * functions. It drives the glue as Zephyr would (GATT writes, datagrams, UART interrupts)
 * and checks what leaves it (notifications, datagrams, UART output), buffer accounting
 * included. Run by
 * ci/glue-test.sh.
 */

#include <stdio.h>
#include <string.h>

#include <zephyr/bluetooth/conn.h>
#include <zephyr/bluetooth/gatt.h>
#include <zephyr/net/socket.h>

#include "glue_stubs.h"
#include "smp_port.h"
#include "smp_port_double.h"
#include "smp_rs.h"

extern const struct bt_gatt_service_static smp_bt_svc;
extern const struct bt_conn_cb smp_bt_conn_cb;

static int failures, checks;

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		checks++;                                                                  \
		if (!(cond)) {                                                             \
			failures++;                                                        \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);                        \
			printf(__VA_ARGS__);                                               \
			printf("\n");                                                      \
		}                                                                          \
	} while (0)

/* TV1 of the spec: v1 echo, 54 bytes, and its response. */
static const uint8_t tv1_req[] = {
	0x02, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x01, 0x00, 0xbf, 0x61, 0x64, 0x78, 0x28, 0x73,
	0x68, 0x6f, 0x72, 0x74, 0x20, 0x4d, 0x43, 0x55, 0x4d, 0x47, 0x52, 0x20, 0x74, 0x65,
	0x73, 0x74, 0x20, 0x61, 0x70, 0x70, 0x6c, 0x69, 0x63, 0x61, 0x74, 0x69, 0x6f, 0x6e,
	0x20, 0x6d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0x2e, 0x2e, 0x2e, 0xff};
static const uint8_t tv1_rsp[] = {
	0x03, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x01, 0x00, 0xbf, 0x61, 0x72, 0x78, 0x28, 0x73,
	0x68, 0x6f, 0x72, 0x74, 0x20, 0x4d, 0x43, 0x55, 0x4d, 0x47, 0x52, 0x20, 0x74, 0x65,
	0x73, 0x74, 0x20, 0x61, 0x70, 0x70, 0x6c, 0x69, 0x63, 0x61, 0x74, 0x69, 0x6f, 0x6e,
	0x20, 0x6d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0x2e, 0x2e, 0x2e, 0xff};

/* TV10: `{"d":"hello"}` as one serial line, and the line of its response. */
static const char tv10_req[] = "\x06\x09" "ABQCAAAKAABCAL9hZGVoZWxsb/+Q2g==\n";
static const char tv10_rsp[] = "\x06\x09" "ABQDAAAKAABCAL9hcmVoZWxsb//dlA==\n";

static ssize_t gatt_write(const uint8_t *data, uint16_t len)
{
	const struct bt_gatt_attr *chr = &smp_bt_svc.attrs[2];

	return chr->write(glue_conn(), chr, data, len, 0, BT_GATT_WRITE_FLAG_CMD);
}

static void reset_bt_capture(void)
{
	stubs.notify_len = 0;
	stubs.notifications = 0;
}

static void test_start(void)
{
	/* 8D53DC1D-1DB7-4CD3-868B-8A527460AA84, little-endian as advertised. */
	static const uint8_t uuid[16] = {0x84, 0xaa, 0x60, 0x74, 0x52, 0x8a, 0x8b, 0x86,
					 0xd3, 0x4c, 0xb7, 0x1d, 0x1d, 0xdc, 0x53, 0x8d};

	CHECK(stubs.queue_started == 1, "SMP work queue not started");
	CHECK(stubs.queue_start_uninit == 0, "work queue started before k_work_queue_init()");
	CHECK(stubs.bt_enabled == 1 && stubs.advertising == 1, "Bluetooth not advertising");
	CHECK(memcmp(stubs.adv_uuid, uuid, 16) == 0, "advertised UUID is not the SMP service");
	CHECK(stubs.scheduled != NULL, "housekeeping poll not scheduled");
	CHECK(smp_bt_svc.attr_count == 4, "SMP service has %zu attributes",
	      smp_bt_svc.attr_count);
}

static void test_bt_fragmented_echo(void)
{
	reset_bt_capture();
	CHECK(gatt_write(tv1_req, 20) == 20, "fragment 1");
	CHECK(gatt_write(tv1_req + 20, 20) == 20, "fragment 2");
	CHECK(stubs.notifications == 0, "answered before the packet was complete");
	CHECK(gatt_write(tv1_req + 40, sizeof(tv1_req) - 40) == (ssize_t)sizeof(tv1_req) - 40,
	      "fragment 3");
	CHECK(stubs.notify_len == sizeof(tv1_rsp) &&
		      memcmp(stubs.notified, tv1_rsp, sizeof(tv1_rsp)) == 0,
	      "echo response over notifications (%zu bytes)", stubs.notify_len);
	/* ATT MTU 23: notifications of at most 20 bytes. */
	CHECK(stubs.notifications == 3 && stubs.notify_sizes[0] == 20 &&
		      stubs.notify_sizes[1] == 20 && stubs.notify_sizes[2] == 14,
	      "notification sizes");
	CHECK(stubs.blocks_in_use == 0, "%d packet buffers leaked", stubs.blocks_in_use);
	CHECK(glue_conn_refs() == 1, "connection reference leaked (%d)", glue_conn_refs());
}

static void test_bt_whole_packet_large_mtu(void)
{
	reset_bt_capture();
	stubs.bt_mtu = 247;
	CHECK(gatt_write(tv1_req, sizeof(tv1_req)) == (ssize_t)sizeof(tv1_req), "one write");
	CHECK(stubs.notifications == 1 && stubs.notify_len == sizeof(tv1_rsp), "one notification");
	stubs.bt_mtu = 23;
}

static void test_bt_bad_input(void)
{
	uint8_t big[8] = {0x02, 0, 0xff, 0xff, 0, 0, 1, 0};

	reset_bt_capture();
	CHECK(gatt_write(tv1_req, 5) < 0, "a first fragment shorter than a header accepted");
	CHECK(gatt_write(big, sizeof(big)) < 0, "a packet larger than the buffer accepted");
	CHECK(stubs.blocks_in_use == 0, "buffers leaked on bad input");

	/* A peer that goes away mid-packet: its partial packet is dropped. */
	CHECK(gatt_write(tv1_req, 20) == 20, "partial packet");
	CHECK(stubs.blocks_in_use == 1, "partial packet not held");
	smp_bt_conn_cb.disconnected(glue_conn(), 0x13);
	CHECK(stubs.blocks_in_use == 0, "partial packet not dropped on disconnect");

	/* The client turns notifications off mid-packet: the partial packet is dropped. */
	{
		const struct decls_ccc *ccc = smp_bt_svc.attrs[3].user_data;

		CHECK(gatt_write(tv1_req, 20) == 20, "partial packet");
		ccc->cfg_changed(&smp_bt_svc.attrs[3], 0);
		CHECK(stubs.blocks_in_use == 0, "partial packet kept after notifications went off");
	}

	/* No subscription: the response is dropped, the buffer still freed. */
	stubs.bt_subscribed = 0;
	CHECK(gatt_write(tv1_req, sizeof(tv1_req)) == (ssize_t)sizeof(tv1_req), "write");
	CHECK(stubs.notifications == 0 && stubs.blocks_in_use == 0, "unsubscribed peer");
	stubs.bt_subscribed = 1;

	/* Afterwards everything still works. */
	test_bt_fragmented_echo();
}

static void test_udp(void)
{
	struct net_sockaddr_in6 peer = {
		.sin6_family = NET_AF_INET6,
		.sin6_port = net_htons(50123),
	};

	CHECK(stubs.sockets == 2 && stubs.threads == 2, "UDP: %d sockets, %d threads",
	      stubs.sockets, stubs.threads);
	CHECK(stubs.bound_family[0] == NET_AF_INET && stubs.bound_port[0] == 1337 &&
		      stubs.bound_family[1] == NET_AF_INET6 && stubs.bound_port[1] == 1337,
	      "UDP sockets not bound to port 1337 for IPv4 and IPv6");

	/* A datagram from an IPv6 peer: the response goes back to it, on the same socket. */
	peer.sin6_addr.s6_addr[15] = 1;
	memcpy(stubs.to_receive.data, tv1_req, sizeof(tv1_req));
	stubs.to_receive.len = sizeof(tv1_req);
	memcpy(stubs.to_receive.addr, &peer, sizeof(peer));
	stubs.to_receive.addr_len = sizeof(peer);
	stubs.sent_count = 0;
	glue_udp_run_once(1);
	CHECK(stubs.sent_count == 1 && stubs.sent[0].sock == 11 &&
		      stubs.sent[0].len == sizeof(tv1_rsp) &&
		      memcmp(stubs.sent[0].data, tv1_rsp, sizeof(tv1_rsp)) == 0,
	      "UDP response (%d datagrams)", stubs.sent_count);
	CHECK(stubs.sent[0].addr_len == sizeof(peer) &&
		      memcmp(stubs.sent[0].addr, &peer, sizeof(peer)) == 0,
	      "UDP response not sent to the requester");
	CHECK(stubs.blocks_in_use == 1, "UDP: %d buffers in use (one waits for the next datagram)",
	      stubs.blocks_in_use);
}

static void test_uart(void)
{
	stubs.uart_out.len = 0;
	glue_uart_receive(0, (const uint8_t *)tv10_req, sizeof(tv10_req) - 1, 7);
	CHECK(stubs.uart_out.len == sizeof(tv10_rsp) - 1 &&
		      memcmp(stubs.uart_out.buf, tv10_rsp, sizeof(tv10_rsp) - 1) == 0,
	      "SMP UART echo (%zu bytes out)", stubs.uart_out.len);
}

static void test_console(void)
{
	static const char in[] = "hello\n";
	static const char want[] = "ran: hello\r\n";

	stubs.console_out.len = 0;
	glue_uart_receive(1, (const uint8_t *)in, sizeof(in) - 1, 3);
	glue_uart_receive(1, (const uint8_t *)tv10_req, sizeof(tv10_req) - 1, 32);
	CHECK(stubs.console_out.len == sizeof(want) - 1 + sizeof(tv10_rsp) - 1 &&
		      memcmp(stubs.console_out.buf, want, sizeof(want) - 1) == 0 &&
		      memcmp(stubs.console_out.buf + sizeof(want) - 1, tv10_rsp,
			     sizeof(tv10_rsp) - 1) == 0,
	      "console: shell output then SMP response (%zu bytes out)", stubs.console_out.len);
}

int main(int argc, char **argv)
{
	(void)argv;
	stubs.verbose = argc > 1;
	stubs.bt_connected = 1;
	stubs.bt_subscribed = 1;
	stubs.bt_mtu = 23;
	smp_double_reset_state();
	CHECK(smp_rs_init() == 0, "smp_rs_init");
	smp_port_start();

	test_start();
	test_bt_fragmented_echo();
	test_bt_whole_packet_large_mtu();
	test_bt_bad_input();
	test_udp();
	test_uart();
	test_console();

	printf("%d checks, %d failures\n", checks, failures);
	if (failures == 0) {
		printf("All tests passed\n");
	}
	return failures == 0 ? 0 : 1;
}

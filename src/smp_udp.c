/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * SMP over UDP: one socket and one receive thread per address family (IPv4, IPv6), both on
 * CONFIG_SMP_RS_UDP_PORT. A datagram is one receive buffer; it is queued for the SMP work
 * queue, which sends each response as one datagram back to the sender.
 */

#include <errno.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/socket.h>

#include "smp_glue.h"
#include "smp_rs.h"

LOG_MODULE_DECLARE(smp_rs, CONFIG_SMP_RS_LOG_LEVEL);

/* Zephyr 4.4 gave the socket symbols a net_/NET_ prefix (the old names remain only in a
 * compatibility mode). Trees before it have just the POSIX-style names.
 */
#ifndef NET_AF_INET
#define NET_AF_INET     AF_INET
#define NET_AF_INET6    AF_INET6
#define NET_SOCK_DGRAM  SOCK_DGRAM
#define NET_IPPROTO_UDP IPPROTO_UDP
#define NET_INADDR_ANY  INADDR_ANY
#define net_htons       htons
#define net_htonl       htonl
#define net_in6addr_any in6addr_any
#define net_sockaddr     sockaddr
#define net_sockaddr_in  sockaddr_in
#define net_sockaddr_in6 sockaddr_in6
#define net_socklen_t    socklen_t
#endif

BUILD_ASSERT(sizeof(struct net_sockaddr_in6) <= SMP_GLUE_PEER_MAX, "peer address does not fit");

struct udp_family {
	int family;
	uint8_t transport;
	int sock;
	struct k_thread thread;
};

#ifdef CONFIG_SMP_RS_UDP_IPV4
static struct udp_family udp4 = {.family = NET_AF_INET, .transport = SMP_RS_TRANSPORT_UDP4,
				 .sock = -1};
K_THREAD_STACK_DEFINE(udp4_stack, CONFIG_SMP_RS_UDP_STACK_SIZE);
#endif
#ifdef CONFIG_SMP_RS_UDP_IPV6
static struct udp_family udp6 = {.family = NET_AF_INET6, .transport = SMP_RS_TRANSPORT_UDP6,
				 .sock = -1};
K_THREAD_STACK_DEFINE(udp6_stack, CONFIG_SMP_RS_UDP_STACK_SIZE);
#endif

static int open_socket(struct udp_family *f)
{
	union {
		struct net_sockaddr_in in4;
		struct net_sockaddr_in6 in6;
	} addr;
	net_socklen_t len;

	memset(&addr, 0, sizeof(addr));
	if (f->family == NET_AF_INET) {
		addr.in4.sin_family = NET_AF_INET;
		addr.in4.sin_port = net_htons(CONFIG_SMP_RS_UDP_PORT);
		addr.in4.sin_addr.s_addr = net_htonl(NET_INADDR_ANY);
		len = sizeof(addr.in4);
	} else {
		addr.in6.sin6_family = NET_AF_INET6;
		addr.in6.sin6_port = net_htons(CONFIG_SMP_RS_UDP_PORT);
		addr.in6.sin6_addr = net_in6addr_any;
		len = sizeof(addr.in6);
	}
	f->sock = zsock_socket(f->family, NET_SOCK_DGRAM, NET_IPPROTO_UDP);
	if (f->sock < 0) {
		return -errno;
	}
	if (zsock_bind(f->sock, (struct net_sockaddr *)&addr, len) < 0) {
		int err = -errno;

		(void)zsock_close(f->sock);
		f->sock = -1;
		return err;
	}
	return 0;
}

static void udp_thread(void *p1, void *p2, void *p3)
{
	struct udp_family *f = p1;

	ARG_UNUSED(p2);
	ARG_UNUSED(p3);
	for (;;) {
		struct smp_pkt *pkt = smp_glue_alloc(K_FOREVER);
		net_socklen_t alen = SMP_GLUE_PEER_MAX;
		ssize_t n;

		if (pkt == NULL) {
			continue;
		}
		n = zsock_recvfrom(f->sock, pkt->data, sizeof(pkt->data), 0,
				   (struct net_sockaddr *)pkt->peer_addr, &alen);
		if (n <= 0) {
			smp_glue_free(pkt);
			if (n < 0) {
				LOG_WRN("UDP receive failed (%d)", errno);
				k_sleep(K_MSEC(100));
			}
			continue;
		}
		pkt->transport = f->transport;
		pkt->len = (uint16_t)n;
		pkt->peer_len = alen;
		smp_glue_enqueue(pkt);
	}
}

static int start_family(struct udp_family *f, k_thread_stack_t *stack, size_t stack_size,
			const char *name)
{
	int err = open_socket(f);

	if (err != 0) {
		return err;
	}
	k_thread_create(&f->thread, stack, stack_size, udp_thread, f, NULL, NULL,
			CONFIG_SMP_RS_UDP_THREAD_PRIORITY, 0, K_NO_WAIT);
	k_thread_name_set(&f->thread, name);
	return 0;
}

int smp_udp_start(void)
{
	int err = 0;

#ifdef CONFIG_SMP_RS_UDP_IPV4
	err = start_family(&udp4, udp4_stack, K_THREAD_STACK_SIZEOF(udp4_stack), "smp_udp4");
	if (err != 0) {
		LOG_ERR("UDP/IPv4 socket: %d", err);
	}
#endif
#ifdef CONFIG_SMP_RS_UDP_IPV6
	err = start_family(&udp6, udp6_stack, K_THREAD_STACK_SIZEOF(udp6_stack), "smp_udp6");
	if (err != 0) {
		LOG_ERR("UDP/IPv6 socket: %d", err);
	}
#endif
	return err;
}

void smp_udp_send(struct smp_pkt *req, const uint8_t *rsp, size_t len)
{
	int sock = -1;

#ifdef CONFIG_SMP_RS_UDP_IPV4
	if (req->transport == SMP_RS_TRANSPORT_UDP4) {
		sock = udp4.sock;
	}
#endif
#ifdef CONFIG_SMP_RS_UDP_IPV6
	if (req->transport == SMP_RS_TRANSPORT_UDP6) {
		sock = udp6.sock;
	}
#endif
	if (sock < 0 || zsock_sendto(sock, rsp, len, 0, (struct net_sockaddr *)req->peer_addr,
				     req->peer_len) < 0) {
		LOG_WRN("UDP response dropped (%d)", errno);
	}
}

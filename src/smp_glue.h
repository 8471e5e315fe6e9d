/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Internal interface of the C glue: the packet pool and the one SMP work queue that every
 * transport hands its input to, and the helpers of the smp_port_<subsystem>.c files. Only
 * smp_queue.c enters Rust (smp_rs.h), and only from that work queue's thread.
 */

#ifndef SMP_GLUE_H_
#define SMP_GLUE_H_

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <zephyr/kernel.h>

#include "smp_port.h"

/* Room for the largest socket address a reply goes to (struct sockaddr_in6). */
#define SMP_GLUE_PEER_MAX 32

/* One received SMP buffer, with what its transport needs to answer it. */
struct smp_pkt {
	void *fifo_reserved; /* first word: used by k_fifo */
	uint8_t transport;   /* SMP_RS_TRANSPORT_* */
	uint16_t len;
	void *conn;          /* Bluetooth: struct bt_conn *, reference held */
	uint32_t peer_len;   /* UDP: length of peer_addr */
	uint8_t peer_addr[SMP_GLUE_PEER_MAX] __aligned(4);
	uint8_t data[CONFIG_SMP_RS_BUF_SIZE];
};

/* Worst-case serial encoding of one response (the same bound rustapp reports through
 * smp_rs_serial_out_size(); checked at start-up).
 */
#define SMP_GLUE_SERIAL_OUT_SIZE ((((CONFIG_SMP_RS_BUF_SIZE + 4) + 88) / 89 + 1) * 127)

/* A free packet buffer, or NULL when none frees up within `timeout`. */
struct smp_pkt *smp_glue_alloc(k_timeout_t timeout);

/* Returns a buffer to the pool (after dropping its Bluetooth reference, if any). */
void smp_glue_free(struct smp_pkt *pkt);

/* Queues a received buffer for the SMP work queue; takes ownership. */
void smp_glue_enqueue(struct smp_pkt *pkt);

/* The SMP work queue, for transports that run serial work items on it. */
struct k_work_q *smp_glue_queue(void);

/* Transport start-up and reply delivery (each in its transport's file). `rsp` holds
 * `len` bytes of one SMP response packet.
 */
int smp_bt_start(void);
void smp_bt_send(struct smp_pkt *req, const uint8_t *rsp, size_t len);
const char *smp_bt_name(void);

int smp_udp_start(void);
void smp_udp_send(struct smp_pkt *req, const uint8_t *rsp, size_t len);

int smp_uart_start(void);

/* ---- Shared by the smp_port_<subsystem>.c files ---------------------------------------- */

/* The one place where a Zephyr errno value becomes an SMP_PORT_E* code (values >= 0 pass). */
static inline int32_t smp_glue_port_err(int err)
{
	if (err >= 0) {
		return err;
	}
	switch (-err) {
	case ENOENT:
	case ENODEV:
		return SMP_PORT_ENOENT;
	case ENOTSUP:
	case ENOSYS:
		return SMP_PORT_ENOTSUP;
	case ENODATA:
		return SMP_PORT_ENODATA;
	case EINVAL:
	case ERANGE:
		return SMP_PORT_EINVAL;
	case ENOSPC:
	case EFBIG:
		return SMP_PORT_ENOSPC;
	case EBUSY:
	case EAGAIN:
		return SMP_PORT_EBUSY;
	case ENAMETOOLONG:
		return SMP_PORT_ENAMETOOLONG;
	case EISDIR:
		return SMP_PORT_EISDIR;
	case EROFS:
		return SMP_PORT_EROFS;
	default:
		return SMP_PORT_EIO;
	}
}

/* Copies a (ptr, len) name into a NUL-terminated buffer of `cap` bytes. */
static inline int32_t smp_glue_c_str(char *dst, size_t cap, const uint8_t *src, size_t len)
{
	if (len >= cap) {
		return SMP_PORT_ENAMETOOLONG;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

#endif /* SMP_GLUE_H_ */

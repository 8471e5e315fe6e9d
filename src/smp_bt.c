/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * SMP over Bluetooth LE GATT: the SMP service (8D53DC1D-1DB7-4CD3-868B-8A527460AA84) with
 * one characteristic (DA2E7828-FBCE-4E01-AE9E-261174997C48, write without response +
 * notify). Writes are reassembled into whole SMP packets (the first fragment carries the
 * 8-byte header, whose length field says how many bytes follow) and queued for the SMP work
 * queue; responses go back as notifications of at most ATT_MTU - 3 bytes.
 */

#include <errno.h>
#include <string.h>

#include <zephyr/bluetooth/bluetooth.h>
#include <zephyr/bluetooth/conn.h>
#include <zephyr/bluetooth/gatt.h>
#include <zephyr/bluetooth/uuid.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

#include "smp_glue.h"
#include "smp_rs.h"

LOG_MODULE_DECLARE(smp_rs, CONFIG_SMP_RS_LOG_LEVEL);

#define SMP_BT_SVC_UUID_VAL BT_UUID_128_ENCODE(0x8d53dc1d, 0x1db7, 0x4cd3, 0x868b, 0x8a527460aa84)
#define SMP_BT_CHR_UUID_VAL BT_UUID_128_ENCODE(0xda2e7828, 0xfbce, 0x4e01, 0xae9e, 0x261174997c48)

static const struct bt_uuid_128 smp_bt_svc_uuid = BT_UUID_INIT_128(SMP_BT_SVC_UUID_VAL);
static const struct bt_uuid_128 smp_bt_chr_uuid = BT_UUID_INIT_128(SMP_BT_CHR_UUID_VAL);

#ifdef CONFIG_SMP_RS_BT_AUTHEN
#define SMP_BT_PERM (BT_GATT_PERM_WRITE_AUTHEN)
#define SMP_BT_CCC_PERM (BT_GATT_PERM_READ_AUTHEN | BT_GATT_PERM_WRITE_AUTHEN)
#else
#define SMP_BT_PERM (BT_GATT_PERM_WRITE)
#define SMP_BT_CCC_PERM (BT_GATT_PERM_READ | BT_GATT_PERM_WRITE)
#endif

/* The packet being reassembled, per connection. */
static struct smp_pkt *rx_partial[CONFIG_BT_MAX_CONN];

static void drop_partial(uint8_t idx)
{
	if (rx_partial[idx] != NULL) {
		smp_glue_free(rx_partial[idx]);
		rx_partial[idx] = NULL;
	}
}

static ssize_t smp_bt_write(struct bt_conn *conn, const struct bt_gatt_attr *attr,
			    const void *buf, uint16_t len, uint16_t offset, uint8_t flags)
{
	const uint8_t *data = buf;
	uint8_t idx = bt_conn_index(conn);
	struct smp_pkt *pkt = rx_partial[idx];
	size_t expected;

	ARG_UNUSED(attr);
	ARG_UNUSED(flags);
	if (offset != 0) {
		return BT_GATT_ERR(BT_ATT_ERR_INVALID_OFFSET);
	}
	if (pkt == NULL) {
		/* A new packet: the first fragment must hold the whole header. */
		if (len < 8) {
			return BT_GATT_ERR(BT_ATT_ERR_INVALID_ATTRIBUTE_LEN);
		}
		pkt = smp_glue_alloc(K_NO_WAIT);
		if (pkt == NULL) {
			return BT_GATT_ERR(BT_ATT_ERR_INSUFFICIENT_RESOURCES);
		}
		pkt->transport = SMP_RS_TRANSPORT_BT;
		rx_partial[idx] = pkt;
	}
	expected = pkt->len >= 8 ? 8 + ((size_t)pkt->data[2] << 8 | pkt->data[3])
				 : 8 + ((size_t)data[2] << 8 | data[3]);
	if (expected > sizeof(pkt->data) || pkt->len + (size_t)len > expected) {
		/* Oversize packet or overrun: drop it (invisible to a Write Command). */
		drop_partial(idx);
		return BT_GATT_ERR(BT_ATT_ERR_VALUE_NOT_ALLOWED);
	}
	memcpy(&pkt->data[pkt->len], data, len);
	pkt->len += len;
	if (pkt->len == expected) {
		rx_partial[idx] = NULL;
		pkt->conn = bt_conn_ref(conn);
		smp_glue_enqueue(pkt);
	}
	return len;
}

static void smp_bt_ccc_changed(const struct bt_gatt_attr *attr, uint16_t value)
{
	ARG_UNUSED(attr);
	LOG_DBG("SMP notifications %s", value == BT_GATT_CCC_NOTIFY ? "on" : "off");
	if (value != BT_GATT_CCC_NOTIFY) {
		/* A client that stops listening mid-packet abandons it (the callback does not say
		 * which connection, so every partial packet goes).
		 */
		for (uint8_t i = 0; i < ARRAY_SIZE(rx_partial); i++) {
			drop_partial(i);
		}
	}
}

BT_GATT_SERVICE_DEFINE(smp_bt_svc,
	BT_GATT_PRIMARY_SERVICE(&smp_bt_svc_uuid),
	BT_GATT_CHARACTERISTIC(&smp_bt_chr_uuid.uuid,
			       BT_GATT_CHRC_WRITE_WITHOUT_RESP | BT_GATT_CHRC_NOTIFY,
			       SMP_BT_PERM, NULL, smp_bt_write, NULL),
	BT_GATT_CCC(smp_bt_ccc_changed, SMP_BT_CCC_PERM),
);

/* The characteristic value attribute: service, declaration, value, CCC. */
#define SMP_BT_CHR_ATTR (&smp_bt_svc.attrs[2])

void smp_bt_send(struct smp_pkt *req, const uint8_t *rsp, size_t len)
{
	struct bt_conn *conn = req->conn;
	struct bt_conn_info info;
	size_t chunk;

	if (conn == NULL || bt_conn_get_info(conn, &info) != 0 ||
	    info.state != BT_CONN_STATE_CONNECTED) {
		return; /* the peer went away: its replies are dropped */
	}
	if (!bt_gatt_is_subscribed(conn, SMP_BT_CHR_ATTR, BT_GATT_CCC_NOTIFY)) {
		LOG_DBG("SMP response dropped: notifications are off");
		return;
	}
	chunk = bt_gatt_get_mtu(conn);
	if (chunk <= 3) {
		return;
	}
	chunk -= 3;
	for (size_t off = 0; off < len; off += chunk) {
		uint16_t n = (uint16_t)MIN(chunk, len - off);
		int err = bt_gatt_notify(conn, SMP_BT_CHR_ATTR, &rsp[off], n);

		if (err != 0) {
			LOG_WRN("SMP notification failed (%d); rest of the response dropped", err);
			return;
		}
	}
}

const char *smp_bt_name(void)
{
	return bt_get_name();
}

static const struct bt_data ad[] = {
	BT_DATA_BYTES(BT_DATA_FLAGS, (BT_LE_AD_GENERAL | BT_LE_AD_NO_BREDR)),
	BT_DATA_BYTES(BT_DATA_UUID128_ALL, SMP_BT_SVC_UUID_VAL),
};

static const struct bt_data sd[] = {
	BT_DATA(BT_DATA_NAME_COMPLETE, CONFIG_BT_DEVICE_NAME, sizeof(CONFIG_BT_DEVICE_NAME) - 1),
};

static void advertise(void)
{
	int err = bt_le_adv_start(BT_LE_ADV_CONN_FAST_1, ad, ARRAY_SIZE(ad), sd, ARRAY_SIZE(sd));

	if (err != 0 && err != -EALREADY) {
		LOG_ERR("advertising failed to start (%d)", err);
	}
}

static void on_disconnected(struct bt_conn *conn, uint8_t reason)
{
	ARG_UNUSED(reason);
	drop_partial(bt_conn_index(conn));
}

static void on_recycled(void)
{
	/* A connection object is free again: advertise for the next client. */
	advertise();
}

BT_CONN_CB_DEFINE(smp_bt_conn_cb) = {
	.disconnected = on_disconnected,
	.recycled = on_recycled,
};

int smp_bt_start(void)
{
	int err = bt_enable(NULL);

	if (err != 0) {
		return err;
	}
	advertise();
	return 0;
}

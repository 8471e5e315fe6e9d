#ifndef DECLS_BT_GATT_H_
#define DECLS_BT_GATT_H_
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <zephyr/bluetooth/conn.h>
#include <zephyr/bluetooth/uuid.h>
#define BT_GATT_PERM_READ (1 << 0)
#define BT_GATT_PERM_WRITE (1 << 1)
#define BT_GATT_PERM_READ_AUTHEN (1 << 4)
#define BT_GATT_PERM_WRITE_AUTHEN (1 << 5)
#define BT_GATT_ERR(_att_err) (-(_att_err))
#define BT_ATT_ERR_INVALID_OFFSET 0x07
#define BT_ATT_ERR_INVALID_ATTRIBUTE_LEN 0x0d
#define BT_ATT_ERR_INSUFFICIENT_RESOURCES 0x11
#define BT_ATT_ERR_VALUE_NOT_ALLOWED 0x13
#define BT_GATT_CHRC_WRITE_WITHOUT_RESP 0x04
#define BT_GATT_CHRC_NOTIFY 0x10
#define BT_GATT_CCC_NOTIFY 0x0001
#define BT_GATT_WRITE_FLAG_CMD (1 << 1)
struct bt_gatt_attr;
typedef ssize_t (*bt_gatt_attr_read_func_t)(struct bt_conn *conn, const struct bt_gatt_attr *attr,
					    void *buf, uint16_t len, uint16_t offset);
typedef ssize_t (*bt_gatt_attr_write_func_t)(struct bt_conn *conn,
					     const struct bt_gatt_attr *attr, const void *buf,
					     uint16_t len, uint16_t offset, uint8_t flags);
struct bt_gatt_attr {
	const struct bt_uuid *uuid;
	bt_gatt_attr_read_func_t read;
	bt_gatt_attr_write_func_t write;
	void *user_data;
	uint16_t handle;
	uint16_t perm: 15;
};
struct bt_gatt_service_static {
	const struct bt_gatt_attr *attrs;
	size_t attr_count;
};
struct bt_gatt_chrc {
	const struct bt_uuid *uuid;
	uint16_t value_handle;
	uint8_t properties;
};
typedef void (*bt_gatt_ccc_changed_t)(const struct bt_gatt_attr *attr, uint16_t value);
struct decls_ccc { bt_gatt_ccc_changed_t cfg_changed; };
#define BT_GATT_ATTRIBUTE(_uuid, _perm, _read, _write, _user_data)                         \
	{.uuid = _uuid, .read = _read, .write = _write, .user_data = _user_data,           \
	 .handle = 0, .perm = _perm}
#define BT_GATT_PRIMARY_SERVICE(_service)                                                  \
	BT_GATT_ATTRIBUTE(&decls_uuid_primary, BT_GATT_PERM_READ, NULL, NULL, (void *)_service)
#define BT_GATT_CHARACTERISTIC(_uuid, _props, _perm, _read, _write, _user_data)             \
	BT_GATT_ATTRIBUTE(&decls_uuid_chrc, BT_GATT_PERM_READ, NULL, NULL,                  \
			  ((struct bt_gatt_chrc[]){{.uuid = _uuid, .value_handle = 0U,      \
						    .properties = _props}})),               \
	BT_GATT_ATTRIBUTE(_uuid, _perm, _read, _write, _user_data)
#define BT_GATT_CCC(_changed, _perm)                                                       \
	BT_GATT_ATTRIBUTE(&decls_uuid_ccc, _perm, NULL, NULL,                               \
			  ((struct decls_ccc[]){{.cfg_changed = _changed}}))
#define BT_GATT_SERVICE_DEFINE(_name, ...)                                                 \
	static const struct bt_gatt_attr attr_##_name[] = {__VA_ARGS__};                   \
	const struct bt_gatt_service_static _name = {.attrs = attr_##_name,                 \
						     .attr_count = ARRAY_SIZE(attr_##_name)}
int bt_gatt_notify(struct bt_conn *conn, const struct bt_gatt_attr *attr, const void *data,
		   uint16_t len);
bool bt_gatt_is_subscribed(struct bt_conn *conn, const struct bt_gatt_attr *attr,
			   uint16_t ccc_type);
uint16_t bt_gatt_get_mtu(struct bt_conn *conn);
#endif

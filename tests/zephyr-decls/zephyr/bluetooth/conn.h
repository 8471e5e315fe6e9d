#ifndef DECLS_BT_CONN_H_
#define DECLS_BT_CONN_H_
#include <stdint.h>
struct bt_conn;
enum bt_conn_state {
	BT_CONN_STATE_DISCONNECTED,
	BT_CONN_STATE_CONNECTING,
	BT_CONN_STATE_CONNECTED,
	BT_CONN_STATE_DISCONNECTING,
};
struct bt_conn_info {
	uint8_t type;
	uint8_t role;
	uint8_t id;
	enum bt_conn_state state;
};
struct bt_conn *bt_conn_ref(struct bt_conn *conn);
void bt_conn_unref(struct bt_conn *conn);
uint8_t bt_conn_index(const struct bt_conn *conn);
int bt_conn_get_info(const struct bt_conn *conn, struct bt_conn_info *info);
struct bt_conn_cb {
	void (*connected)(struct bt_conn *conn, uint8_t err);
	void (*disconnected)(struct bt_conn *conn, uint8_t reason);
	void (*recycled)(void);
};
/* Not static here, so that tests/glue-host/ can call the callbacks. */
#define BT_CONN_CB_DEFINE(_name) const struct bt_conn_cb _name
#endif

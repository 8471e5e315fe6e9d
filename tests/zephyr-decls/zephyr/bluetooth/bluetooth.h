#ifndef DECLS_BLUETOOTH_H_
#define DECLS_BLUETOOTH_H_
#include <stddef.h>
#include <stdint.h>
#include <zephyr/bluetooth/conn.h>
typedef void (*bt_ready_cb_t)(int err);
int bt_enable(bt_ready_cb_t cb);
const char *bt_get_name(void);
struct bt_data {
	uint8_t type;
	uint8_t data_len;
	const uint8_t *data;
};
#define BT_DATA(_type, _data, _data_len)                                                   \
	{.type = (_type), .data_len = (_data_len), .data = (const uint8_t *)(_data)}
#define BT_DATA_BYTES(_type, _bytes...)                                                    \
	BT_DATA(_type, ((uint8_t[]){_bytes}), sizeof((uint8_t[]){_bytes}))
#define BT_DATA_FLAGS 0x01
#define BT_DATA_UUID128_ALL 0x07
#define BT_DATA_NAME_COMPLETE 0x09
#define BT_LE_AD_GENERAL 0x02
#define BT_LE_AD_NO_BREDR 0x04
struct bt_le_adv_param {
	uint8_t id;
	uint8_t sid;
	uint8_t secondary_max_skip;
	uint32_t options;
	uint32_t interval_min;
	uint32_t interval_max;
	const void *peer;
};
#define BT_LE_ADV_CONN_FAST_1                                                              \
	((const struct bt_le_adv_param[]){{.options = 1, .interval_min = 0x30,             \
					   .interval_max = 0x60}})
int bt_le_adv_start(const struct bt_le_adv_param *param, const struct bt_data *ad,
		    size_t ad_len, const struct bt_data *sd, size_t sd_len);
#endif

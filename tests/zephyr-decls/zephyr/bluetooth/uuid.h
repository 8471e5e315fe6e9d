#ifndef DECLS_BT_UUID_H_
#define DECLS_BT_UUID_H_
#include <stdint.h>
enum { BT_UUID_TYPE_16, BT_UUID_TYPE_32, BT_UUID_TYPE_128 };
struct bt_uuid { uint8_t type; };
struct bt_uuid_128 { struct bt_uuid uuid; uint8_t val[16]; };
#define BT_UUID_INIT_128(value...) {.uuid = {BT_UUID_TYPE_128}, .val = {value}}
#define BT_UUID_128_ENCODE(w32, w1, w2, w3, w48)                                           \
	(((w48) >> 0) & 0xFF), (((w48) >> 8) & 0xFF), (((w48) >> 16) & 0xFF),             \
	(((w48) >> 24) & 0xFF), (((w48) >> 32) & 0xFF), (((w48) >> 40) & 0xFF),            \
	(((w3) >> 0) & 0xFF), (((w3) >> 8) & 0xFF), (((w2) >> 0) & 0xFF),                  \
	(((w2) >> 8) & 0xFF), (((w1) >> 0) & 0xFF), (((w1) >> 8) & 0xFF),                  \
	(((w32) >> 0) & 0xFF), (((w32) >> 8) & 0xFF), (((w32) >> 16) & 0xFF),              \
	(((w32) >> 24) & 0xFF)
extern const struct bt_uuid decls_uuid_primary, decls_uuid_chrc, decls_uuid_ccc;
#endif

#ifndef DECLS_RING_BUFFER_H_
#define DECLS_RING_BUFFER_H_
#include <stdint.h>
struct ring_buf { uint8_t *buffer; uint32_t size; uint32_t head, tail; };
#define RING_BUF_DECLARE(name, size8)                                                      \
	static uint8_t name##_data[size8];                                                 \
	struct ring_buf name = {.buffer = name##_data, .size = (size8)}
uint32_t ring_buf_put(struct ring_buf *buf, const uint8_t *data, uint32_t size);
uint32_t ring_buf_get(struct ring_buf *buf, uint8_t *data, uint32_t size);
#endif

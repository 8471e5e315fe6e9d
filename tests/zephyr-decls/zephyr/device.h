#ifndef DECLS_DEVICE_H_
#define DECLS_DEVICE_H_
#include <stdbool.h>
struct device { const char *name; };
bool device_is_ready(const struct device *dev);
#define DEVICE_DT_GET(node_id) DECLS_DEVICE(node_id)
#define DECLS_DEVICE(node) (&decls_device_##node)
extern const struct device decls_device_rtc_alias, decls_device_chosen_zephyr_uart_mcumgr,
	decls_device_chosen_zephyr_console;
#endif

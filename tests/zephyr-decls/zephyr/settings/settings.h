#ifndef DECLS_SETTINGS_H_
#define DECLS_SETTINGS_H_
/* zephyrproject-rtos/zephyr include/zephyr/settings/settings.h @ 2fc765066dcd. */
#include <stddef.h>
#ifdef CONFIG_SETTINGS_RUNTIME
int settings_runtime_set(const char *name, const void *data, size_t len);
int settings_runtime_get(const char *name, void *data, size_t len);
#endif
int settings_delete(const char *name);
int settings_commit(void);
int settings_load(void);
int settings_save(void);
int settings_save_subtree(const char *subtree);
#endif

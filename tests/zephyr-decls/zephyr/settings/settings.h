#ifndef DECLS_SETTINGS_H_
#define DECLS_SETTINGS_H_
#include <stddef.h>
int settings_runtime_get(const char *name, void *data, size_t len);
int settings_runtime_set(const char *name, const void *data, size_t len);
int settings_delete(const char *name);
int settings_commit(void);
int settings_load(void);
int settings_save(void);
int settings_save_subtree(const char *subtree);
#endif

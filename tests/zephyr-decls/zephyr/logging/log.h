#ifndef DECLS_LOG_H_
#define DECLS_LOG_H_
void decls_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define LOG_MODULE_REGISTER(name, level) extern int decls_log_module_##name
#define LOG_MODULE_DECLARE(name, level) extern int decls_log_module_##name
#define LOG_ERR(...) decls_log(1, __VA_ARGS__)
#define LOG_WRN(...) decls_log(2, __VA_ARGS__)
#define LOG_INF(...) decls_log(3, __VA_ARGS__)
#define LOG_DBG(...) decls_log(4, __VA_ARGS__)
#endif

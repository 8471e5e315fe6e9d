#ifndef DECLS_REBOOT_H_
#define DECLS_REBOOT_H_
/* zephyrproject-rtos/zephyr include/zephyr/sys/reboot.h @ 5ac3e25ddee7 (FUNC_NORETURN). */
#define SYS_REBOOT_WARM 0
#define SYS_REBOOT_COLD 1
__attribute__((noreturn)) void sys_reboot(int type);
#endif

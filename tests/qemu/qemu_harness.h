/* SPDX-License-Identifier: Apache-2.0 */
/* The QEMU harness of rustapp (tests/qemu): what startup.c and harness.c share. */

#ifndef QEMU_HARNESS_H_
#define QEMU_HARNESS_H_

#include <stdint.h>

/* Exit codes: 0 all passed, 1 a check failed (tests/host/main.c), and these. */
#define HARNESS_EXIT_USAGE 2
#define HARNESS_EXIT_FAULT 3
#define HARNESS_EXIT_STACK 4
#define HARNESS_EXIT_TRANSCRIPT 5

/* Ends the program through semihosting with `code` as QEMU's exit status. */
void harness_exit(int code) __attribute__((noreturn));

/* SysTick ticks since reset (core clock; one instruction per ns under -icount shift=0). */
uint64_t harness_ticks(void);

/* Lowest word of the stack. */
uint32_t *harness_stack_limit(void);

#endif /* QEMU_HARNESS_H_ */

/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Bare-metal start-up for the QEMU test images of rustapp (ci/qemu.sh): vector table, .data
 * copy and .bss clearing, FPU enable (hard-float builds), SysTick as an instruction counter, a HardFault handler that reports the faulting address,
 * and semihosting for the command line and the exit code. No OS and no C runtime start-up
 * (linked with -nostartfiles; newlib's librdimon supplies stdio over semihosting).
 *
 * Architectural facts used (Armv7-M ARM, DDI0403E): the vector table's first word is the
 * initial MSP and the second the reset vector (B1.5.3); the exception frame holds r0-r3, r12,
 * lr, pc, xPSR (B1.5.6); CPACR (0xE000ED88) bits 20-23
 * enable CP10/CP11; CFSR 0xE000ED28, HFSR 0xE000ED2C, MMFAR 0xE000ED34, BFAR 0xE000ED38;
 * SysTick CSR 0xE000E010, RVR 0xE000E014, CVR 0xE000E018. Semihosting (Arm "Semihosting for
 * AArch32 and AArch64", v3.0): BKPT 0xAB on M-profile, SYS_WRITE0 0x04, SYS_GET_CMDLINE 0x15,
 * SYS_EXIT_EXTENDED 0x20 with ADP_Stopped_ApplicationExit 0x20026.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "qemu_harness.h"

extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start__[], __bss_end__[];
extern uint32_t __stack_top[], __stack_limit[];

extern void initialise_monitor_handles(void);
int harness_main(int argc, char **argv);

#define REG(addr) (*(volatile uint32_t *)(addr))
#define SCB_CPACR 0xE000ED88u
#define SCB_CFSR 0xE000ED28u
#define SCB_HFSR 0xE000ED2Cu
#define SCB_MMFAR 0xE000ED34u
#define SCB_BFAR 0xE000ED38u
#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u

static int semihost(int op, void *arg)
{
	register int r0 __asm__("r0") = op;
	register void *r1 __asm__("r1") = arg;

	__asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

void harness_exit(int code)
{
	uint32_t block[2] = {0x20026u, (uint32_t)code};

	fflush(NULL);
	semihost(0x20, block);
	for (;;) {
	}
}

/* ---- SysTick: a 24-bit down-counter at the core clock, extended by its wrap interrupt ---- */

static volatile uint32_t systick_wraps;

void SysTick_Handler(void)
{
	systick_wraps++;
}

uint64_t harness_ticks(void)
{
	uint32_t wraps, cvr;

	do {
		wraps = systick_wraps;
		cvr = REG(SYST_CVR);
	} while (wraps != systick_wraps);
	return (uint64_t)wraps * 0x1000000u + (0xFFFFFFu - cvr);
}

/* ---- faults ---- */

static void put_str(const char *s)
{
	semihost(0x04, (void *)s);
}

static void put_hex(const char *label, uint32_t v)
{
	char buf[32];
	size_t n = strlen(label);

	memcpy(buf, label, n);
	buf[n++] = '0';
	buf[n++] = 'x';
	for (int i = 7; i >= 0; i--) {
		buf[n++] = "0123456789abcdef"[(v >> (4 * i)) & 0xf];
	}
	buf[n++] = ' ';
	buf[n] = '\0';
	put_str(buf);
}

/* Called by HardFault_Handler with the stacked exception frame. */
void harness_fault_report(const uint32_t *frame)
{
	put_str("\nHardFault: ");
	put_hex("pc=", frame[6]);
	put_hex("lr=", frame[5]);
	put_hex("cfsr=", REG(SCB_CFSR));
	put_hex("hfsr=", REG(SCB_HFSR));
	put_hex("mmfar=", REG(SCB_MMFAR));
	put_hex("bfar=", REG(SCB_BFAR));
	put_str("\n");
	harness_exit(HARNESS_EXIT_FAULT);
}

/* Finds the frame on the stack the fault pushed it to (EXC_RETURN bit 2: PSP or MSP). */
__attribute__((naked)) void HardFault_Handler(void)
{
	__asm__ volatile(".syntax unified\n"
			 "movs r0, #4\n"
			 "mov r1, lr\n"
			 "tst r0, r1\n"
			 "beq 1f\n"
			 "mrs r0, psp\n"
			 "b harness_fault_report\n"
			 "1:\n"
			 "mrs r0, msp\n"
			 "b harness_fault_report\n");
}

static void Default_Handler(void)
{
	put_str("\nunexpected exception\n");
	harness_exit(HARNESS_EXIT_FAULT);
}

void Reset_Handler(void);

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
	(void (*)(void))__stack_top,
	Reset_Handler,
	Default_Handler,   /* NMI */
	HardFault_Handler, /* HardFault (MemManage, BusFault, UsageFault escalate to it) */
	HardFault_Handler,
	HardFault_Handler,
	HardFault_Handler,
	0,
	0,
	0,
	0,
	Default_Handler, /* SVCall */
	Default_Handler, /* DebugMonitor */
	0,
	Default_Handler, /* PendSV */
	SysTick_Handler,
};

/* ---- stack painting ---- */

uint32_t *harness_stack_limit(void)
{
	return __stack_limit;
}

/* newlib's exit() runs __libc_fini_array, which calls _fini (crti.o's, left out with the
 * other start files): nothing to finalise here.
 */
void _init(void);
void _fini(void);
void _init(void)
{
}
void _fini(void)
{
}

/* ---- reset ---- */

static char cmdline[512];
static char *argv_buf[8];

static int parse_cmdline(void)
{
	struct {
		char *buf;
		int len;
	} block = {cmdline, sizeof(cmdline) - 1};
	int argc = 0;
	char *p = cmdline;

	if (semihost(0x15, &block) != 0) {
		return 0;
	}
	cmdline[block.len] = '\0';
	while (*p != '\0' && argc < (int)(sizeof(argv_buf) / sizeof(argv_buf[0]))) {
		while (*p == ' ') {
			*p++ = '\0';
		}
		if (*p == '\0') {
			break;
		}
		argv_buf[argc++] = p;
		while (*p != '\0' && *p != ' ') {
			p++;
		}
	}
	return argc;
}

void Reset_Handler(void)
{
	uint32_t *src = __data_load;
	int argc;

	for (uint32_t *dst = __data_start; dst < __data_end;) {
		*dst++ = *src++;
	}
	for (uint32_t *dst = __bss_start__; dst < __bss_end__;) {
		*dst++ = 0;
	}
#if defined(__ARM_FP)
	/* Full access to CP10 and CP11 before the first floating-point instruction. */
	REG(SCB_CPACR) |= 0xFu << 20;
	__asm__ volatile("dsb\n isb" ::: "memory");
#endif
	/* SysTick from the processor clock, wrapping every 2^24 ticks, interrupt on wrap. */
	REG(SYST_RVR) = 0xFFFFFFu;
	REG(SYST_CVR) = 0;
	REG(SYST_CSR) = 0x7u;

	initialise_monitor_handles();
	argc = parse_cmdline();
	harness_exit(harness_main(argc, argv_buf));
}

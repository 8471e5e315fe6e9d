/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The request sequence of the host FFI test (tests/host/main.c, included below so that its
 * cases and helpers are shared, not copied), run on an emulated Cortex-M by ci/qemu.sh and
 * on the host as the reference, plus what only the emulated core can tell:
 *
 * - a transcript: every call of an smp_rs.h entry point, its input and its output, written
 *   as hex lines to a file (semihosting on the target). ci/qemu.sh compares each target's
 *   transcript with the host build's, so every response is checked byte for byte against
 *   what the host build produces for the same input;
 * - stack (target only): the stack below the caller is painted before each entry-point call
 *   and scanned after it; the deepest use by the SMP work-queue entry points is checked
 *   against CONFIG_SMP_RS_WORKQUEUE_STACK_SIZE and smp_rs_init's against
 *   CONFIG_MAIN_STACK_SIZE (rust_main runs on the main thread);
 * - cost (target only): instructions per echo, per KiB of image upload (hash and flash
 *   writes through the double) and per file download chunk, from SysTick under QEMU's
 *   -icount shift=0 (one instruction per virtual nanosecond), calibrated in the same run
 *   against a loop of known length.
 *
 * Usage: harness TRANSCRIPT RUNNING.bin UPDATE.bin [WQ_STACK MAIN_STACK]
 *        harness --unaligned-selftest   (target only: must end in a reported HardFault)
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define main host_test_main
#include "../host/main.c"
#undef main

#include "qemu_harness.h"

int32_t __real_smp_rs_init(void);
int32_t __real_smp_rs_poll(void);
int32_t __real_smp_rs_process(uint8_t transport, const uint8_t *rx, size_t rx_len, uint8_t *tx,
			      size_t tx_cap);
int32_t __real_smp_rs_serial_feed(uint8_t transport, const uint8_t *data, size_t len,
				  size_t *consumed, uint8_t *out, size_t out_cap);
int32_t __real_smp_rs_serial_reset(uint8_t transport);

static FILE *transcript;
static int instrument = 1; /* off while measuring cost */

static void log_hex(const char *label, const uint8_t *b, size_t n)
{
	fprintf(transcript, " %s=", label);
	for (size_t i = 0; i < n; i++) {
		fprintf(transcript, "%02x", b[i]);
	}
}

/* ---- stack measurement (target only) ---- */

enum entry { E_INIT, E_POLL, E_PROCESS, E_FEED, E_RESET, E_COUNT };

#if defined(__arm__)
static const char *const entry_names[E_COUNT] = {"smp_rs_init", "smp_rs_poll", "smp_rs_process",
						 "smp_rs_serial_feed", "smp_rs_serial_reset"};
static uint32_t deepest[E_COUNT];

#define PAINT 0xC5A3E1F7u

static inline __attribute__((always_inline)) uint32_t *stack_pointer(void)
{
	uint32_t *sp;

	__asm__ volatile("mov %0, sp" : "=r"(sp));
	return sp;
}

/* Paints from the stack's limit up to just below the caller's frame. Inlined into the
 * wrapper, so nothing of the wrapper itself lies below `sp`.
 */
#define STACK_PAINT(sp)                                                                    \
	do {                                                                               \
		if (instrument) {                                                          \
			for (volatile uint32_t *p = harness_stack_limit(); p < (sp) - 2; p++) { \
				*p = PAINT;                                                \
			}                                                                  \
		}                                                                          \
	} while (0)

static void stack_record(enum entry e, uint32_t *sp)
{
	uint32_t *p = harness_stack_limit();

	if (!instrument) {
		return;
	}
	while (p < sp - 2 && *p == PAINT) {
		p++;
	}
	if ((uint32_t)((sp - p) * 4) > deepest[e]) {
		deepest[e] = (uint32_t)((sp - p) * 4);
	}
}
#else
#define STACK_PAINT(sp) ((void)(sp))
static uint32_t *stack_pointer(void)
{
	return NULL;
}
static void stack_record(enum entry e, uint32_t *sp)
{
	(void)e;
	(void)sp;
}
#endif

/* ---- the wrapped entry points (the link passes -Wl,--wrap=smp_rs_*) ---- */

int32_t __wrap_smp_rs_init(void)
{
	uint32_t *sp = stack_pointer();
	int32_t rc;

	STACK_PAINT(sp);
	rc = __real_smp_rs_init();
	stack_record(E_INIT, sp);
	if (instrument) {
		fprintf(transcript, "init rc=%ld\n", (long)rc);
	}
	return rc;
}

int32_t __wrap_smp_rs_poll(void)
{
	uint32_t *sp = stack_pointer();
	int32_t rc;

	STACK_PAINT(sp);
	rc = __real_smp_rs_poll();
	stack_record(E_POLL, sp);
	if (instrument) {
		fprintf(transcript, "poll rc=%ld\n", (long)rc);
	}
	return rc;
}

int32_t __wrap_smp_rs_process(uint8_t transport, const uint8_t *rx, size_t rx_len, uint8_t *tx,
			      size_t tx_cap)
{
	uint32_t *sp = stack_pointer();
	int32_t rc;

	STACK_PAINT(sp);
	rc = __real_smp_rs_process(transport, rx, rx_len, tx, tx_cap);
	stack_record(E_PROCESS, sp);
	if (instrument) {
		fprintf(transcript, "process t=%u cap=%lu", transport, (unsigned long)tx_cap);
		if (rx != NULL) {
			log_hex("in", rx, rx_len);
		}
		fprintf(transcript, " rc=%ld", (long)rc);
		if (rc > 0) {
			log_hex("out", tx, (size_t)rc);
		}
		fprintf(transcript, "\n");
	}
	return rc;
}

int32_t __wrap_smp_rs_serial_feed(uint8_t transport, const uint8_t *data, size_t len,
				  size_t *consumed, uint8_t *out, size_t out_cap)
{
	uint32_t *sp = stack_pointer();
	int32_t rc;

	STACK_PAINT(sp);
	rc = __real_smp_rs_serial_feed(transport, data, len, consumed, out, out_cap);
	stack_record(E_FEED, sp);
	if (instrument) {
		fprintf(transcript, "feed t=%u cap=%lu", transport, (unsigned long)out_cap);
		log_hex("in", data, len);
		fprintf(transcript, " rc=%ld", (long)rc);
		if (rc >= 0) {
			fprintf(transcript, " used=%lu", (unsigned long)*consumed);
		}
		if (rc > 0) {
			log_hex("out", out, (size_t)rc);
		}
		fprintf(transcript, "\n");
	}
	return rc;
}

int32_t __wrap_smp_rs_serial_reset(uint8_t transport)
{
	uint32_t *sp = stack_pointer();
	int32_t rc;

	STACK_PAINT(sp);
	rc = __real_smp_rs_serial_reset(transport);
	stack_record(E_RESET, sp);
	if (instrument) {
		fprintf(transcript, "serial_reset t=%u rc=%ld\n", transport, (long)rc);
	}
	return rc;
}

/* ---- cost (target only) ---- */

#if defined(__arm__)
/* Two instructions per iteration (subs, bne): the yardstick for SysTick ticks. */
static void known_loop(uint32_t n)
{
	__asm__ volatile(".syntax unified\n"
			 "1: subs %0, %0, #1\n"
			 "bne 1b\n"
			 : "+r"(n)
			 :
			 : "cc");
}

static double insns_per_tick;

static uint64_t insns_since(uint64_t t0)
{
	return (uint64_t)((double)(harness_ticks() - t0) * insns_per_tick + 0.5);
}

static void calibrate(void)
{
	const uint32_t n = 4000000;
	uint64_t t0 = harness_ticks();

	known_loop(n);
	insns_per_tick = (2.0 * n) / (double)(harness_ticks() - t0);
	printf("cost: %.2f instructions per SysTick tick (calibrated over %lu)\n", insns_per_tick,
	       (unsigned long)(2 * n));
}

static void cost_echo(void)
{
	static const uint8_t r[] = {0x0a, 0, 0, 0x09, 0, 0, 0, 0,    0xa1,
				    0x61, 'd', 0x65, 'h', 'e', 'l', 'l', 'o'};
	const unsigned n = 2000;
	uint64_t t0 = harness_ticks();

	for (unsigned i = 0; i < n; i++) {
		if (smp_rs_process(SMP_RS_TRANSPORT_UDP4, r, sizeof(r), tx, sizeof(tx)) <= 0) {
			printf("cost: echo failed\n");
			harness_exit(1);
		}
	}
	printf("cost: echo (5 bytes): %lu instructions per request\n",
	       (unsigned long)(insns_since(t0) / n));
}

static void cost_upload(const char *path)
{
	static uint8_t image[32 * 1024];
	const size_t chunk = 512;
	size_t got = load(path, image, sizeof(image));
	uint64_t t0;

	if (got < 32) {
		harness_exit(HARNESS_EXIT_USAGE);
	}
	/* A real MCUboot header (the upload checks its magic), then a deterministic body. */
	for (size_t i = got; i < sizeof(image); i++) {
		image[i] = (uint8_t)(i * 131u + 7u);
	}
	t0 = harness_ticks();
	if (upload_image(image, sizeof(image), chunk) != 0) {
		printf("cost: upload failed\n");
		harness_exit(1);
	}
	printf("cost: image upload (%u-byte chunks, 32 KiB): %lu instructions per KiB\n",
	       (unsigned)chunk, (unsigned long)(insns_since(t0) / 32));
}

static void cost_download(void)
{
	static uint8_t file[1024];
	const unsigned n = 200;
	uint64_t t0;
	size_t len;

	for (size_t i = 0; i < sizeof(file); i++) {
		file[i] = (uint8_t)(i * 7u);
	}
	{
		struct cbor c = smp_start(req, sizeof(req), 2, 8, 0);

		cbor_head(&c, 5, 4);
		cbor_text(&c, "off");
		cbor_head(&c, 0, 0);
		cbor_text(&c, "data");
		cbor_bytes(&c, file, sizeof(file));
		cbor_text(&c, "name");
		cbor_text(&c, "/lfs1/bench.bin");
		cbor_text(&c, "len");
		cbor_head(&c, 0, sizeof(file));
		if (roundtrip(req, smp_finish(&c)) <= 8) {
			printf("cost: file upload failed\n");
			harness_exit(1);
		}
	}
	{
		struct cbor c = smp_start(req, sizeof(req), 0, 8, 0);

		cbor_head(&c, 5, 2);
		cbor_text(&c, "name");
		cbor_text(&c, "/lfs1/bench.bin");
		cbor_text(&c, "off");
		cbor_head(&c, 0, 0);
		len = smp_finish(&c);
	}
	t0 = harness_ticks();
	for (unsigned i = 0; i < n; i++) {
		if (roundtrip(req, len) < 8 + sizeof(file)) {
			printf("cost: file download failed\n");
			harness_exit(1);
		}
	}
	printf("cost: file download (%u-byte chunk): %lu instructions per request\n",
	       (unsigned)sizeof(file), (unsigned long)(insns_since(t0) / n));
}

static int check_stack(uint32_t wq_budget, uint32_t main_budget)
{
	uint32_t wq = 0;
	int ok;

	for (int e = 0; e < E_COUNT; e++) {
		printf("stack: %-20s %5lu bytes\n", entry_names[e], (unsigned long)deepest[e]);
		if (e != E_INIT && deepest[e] > wq) {
			wq = deepest[e];
		}
	}
	ok = wq <= wq_budget && deepest[E_INIT] <= main_budget;
	printf("stack: work queue entry points %lu of a budget of %lu, smp_rs_init %lu of %lu: %s\n",
	       (unsigned long)wq, (unsigned long)wq_budget, (unsigned long)deepest[E_INIT],
	       (unsigned long)main_budget, ok ? "ok" : "EXCEEDED");
	return ok;
}
#endif /* __arm__ */

#if defined(__arm__)
#define harness_main_name harness_main
#else
#define harness_main_name main
#endif

int harness_main_name(int argc, char **argv)
{
	char *args[3];
	int rc;

#if defined(__arm__)
	if (argc == 2 && strcmp(argv[1], "--unaligned-selftest") == 0) {
		/* A load-multiple from an address that is not word aligned: a UsageFault on
		 * every M-profile core (Armv6-M and Armv7-M alike), escalated to HardFault.
		 */
		static uint32_t words[4] = {1, 2, 3, 4};
		register uint8_t *p __asm__("r0") = (uint8_t *)words + 1;

		__asm__ volatile(".syntax unified\n"
				 "ldmia r0!, {r1, r2}\n"
				 : "+r"(p)
				 :
				 : "r1", "r2", "memory");
		printf("unaligned load-multiple did not fault\n");
		return 0;
	}
#endif
	if (argc != 4 && argc != 6) {
		fprintf(stderr, "usage: harness TRANSCRIPT RUNNING.bin UPDATE.bin "
				"[WQ_STACK MAIN_STACK]\n");
		return HARNESS_EXIT_USAGE;
	}
	transcript = fopen(argv[1], "w");
	if (transcript == NULL) {
		fprintf(stderr, "cannot open %s\n", argv[1]);
		return HARNESS_EXIT_TRANSCRIPT;
	}
	args[0] = argv[0];
	args[1] = argv[2];
	args[2] = argv[3];
	rc = host_test_main(3, args);
	fclose(transcript);
	if (rc != 0) {
		return rc;
	}
#if defined(__arm__)
	instrument = 0;
	calibrate();
	cost_echo();
	cost_upload(argv[3]);
	cost_download();
	if (argc == 6 && !check_stack((uint32_t)strtoul(argv[4], NULL, 0),
				      (uint32_t)strtoul(argv[5], NULL, 0))) {
		return HARNESS_EXIT_STACK;
	}
#endif
	return 0;
}

/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Host test of the Zephyr port: links librustapp.a (built for the host) with the RAM
 * double of smp_port.h and drives it only through the C entry points of smp_rs.h, as the
 * Zephyr glue does. Run by ci/host-test.sh.
 *
 * To extend: add rows to `packet_cases` (request -> expected response bytes, hex) or
 * `serial_cases` (bytes fed to a serial transport -> expected output), or a function to
 * `tests` for anything stateful, as test_image_upgrade() does for an upload, test and
 * confirm of real MCUboot images (the running and the new image are the arguments).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smp_port.h"
#include "smp_port_double.h"
#include "smp_rs.h"

static int failures;
static int checks;

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		checks++;                                                                  \
		if (!(cond)) {                                                             \
			failures++;                                                        \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);                        \
			printf(__VA_ARGS__);                                               \
			printf("\n");                                                      \
		}                                                                          \
	} while (0)

/* Parses hex digits, ignoring spaces; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex != '\0'; hex++) {
		int v;

		if (*hex == ' ') {
			continue;
		}
		v = (*hex >= 'a') ? *hex - 'a' + 10 : (*hex >= 'A') ? *hex - 'A' + 10 : *hex - '0';
		if (hi < 0) {
			hi = v;
		} else {
			if (n == cap) {
				fprintf(stderr, "hex too long\n");
				exit(2);
			}
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

static void print_hex(const char *label, const uint8_t *b, size_t n)
{
	printf("  %s:", label);
	for (size_t i = 0; i < n; i++) {
		printf(" %02x", b[i]);
	}
	printf("\n");
}

static int same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	if (an == bn && memcmp(a, b, an) == 0) {
		return 1;
	}
	print_hex("expected", a, an);
	print_hex("got     ", b, bn);
	return 0;
}

struct packet_case {
	const char *name;
	const char *req;
	const char *rsp; /* all responses, back to back; "" = no response */
};

static const struct packet_case packet_cases[] = {
	{"TV1 echo v1",
	 "02 00 00 2e 00 00 01 00 bf 61 64 78 28 73 68 6f 72 74 20 4d 43 55 4d 47 52 20 74 65"
	 "73 74 20 61 70 70 6c 69 63 61 74 69 6f 6e 20 6d 65 73 73 61 67 65 2e 2e 2e ff",
	 "03 00 00 2e 00 00 01 00 bf 61 72 78 28 73 68 6f 72 74 20 4d 43 55 4d 47 52 20 74 65"
	 "73 74 20 61 70 70 6c 69 63 61 74 69 6f 6e 20 6d 65 73 73 61 67 65 2e 2e 2e ff"},
	{"TV2 os info s", "00 00 00 0b 00 00 01 07 bf 66 66 6f 72 6d 61 74 61 73 ff",
	 "01 00 00 10 00 00 01 07 bf 66 6f 75 74 70 75 74 66 5a 65 70 68 79 72 ff"},
	{"TV3 info bad format v1", "00 00 00 0b 00 00 01 07 bf 66 66 6f 72 6d 61 74 61 38 ff",
	 "01 00 00 06 00 00 01 07 bf 62 72 63 03 ff"},
	{"TV3 info bad format v2", "08 00 00 0b 00 00 01 07 bf 66 66 6f 72 6d 61 74 61 38 ff",
	 "09 00 00 13 00 00 01 07 bf 63 65 72 72 bf 65 67 72 6f 75 70 00 62 72 63 02 ff ff"},
	{"TV6 mcumgr params (2048 x 2)", "08 00 00 02 00 00 02 06 bf ff",
	 "09 00 00 19 00 00 02 06 bf 68 62 75 66 5f 73 69 7a 65 19 08 00 69 62 75 66 5f 63 6f 75"
	 "6e 74 02 ff"},
	{"TV7 unknown group", "08 00 00 02 00 40 03 00 bf ff",
	 "09 00 00 06 00 40 03 00 bf 62 72 63 08 ff"},
	{"two echoes in one buffer",
	 "02 00 00 06 00 00 07 00 bf 61 64 61 61 ff 02 00 00 06 00 00 08 00 bf 61 64 61 62 ff",
	 "03 00 00 06 00 00 07 00 bf 61 72 61 61 ff 03 00 00 06 00 00 08 00 bf 61 72 61 62 ff"},
	{"truncated packet", "02 00 00 10 00 00 09 00 bf ff",
	 "03 00 00 06 00 00 09 00 bf 62 72 63 09 ff"},
	{"runt (less than a header)", "02 00 00", ""},
	/* The groups over the port double: a file round trip, then one read of each. */
	{"fs upload /lfs1/a.txt",
	 "0a 00 00 27 00 08 10 00 a4 63 6f 66 66 00 64 64 61 74 61 45 68 65 6c 6c 6f 64 6e 61"
	 "6d 65 6b 2f 6c 66 73 31 2f 61 2e 74 78 74 63 6c 65 6e 05",
	 "0b 00 00 07 00 08 10 00 bf 63 6f 66 66 05 ff"},
	{"fs download /lfs1/a.txt",
	 "08 00 00 17 00 08 11 00 a2 64 6e 61 6d 65 6b 2f 6c 66 73 31 2f 61 2e 74 78 74 63 6f"
	 "66 66 00",
	 "09 00 00 17 00 08 11 00 bf 63 6f 66 66 00 64 64 61 74 61 45 68 65 6c 6c 6f 63 6c"
	 "65 6e 05 ff"},
	{"fs status /lfs1/a.txt",
	 "08 00 00 12 00 08 12 01 a1 64 6e 61 6d 65 6b 2f 6c 66 73 31 2f 61 2e 74 78 74",
	 "09 00 00 07 00 08 12 01 bf 63 6c 65 6e 05 ff"},
	{"enum count", "08 00 00 01 00 0a 13 00 a0",
	 "09 00 00 09 00 0a 13 00 bf 65 63 6f 75 6e 74 08 ff"},
	{"stat list", "08 00 00 01 00 02 14 01 a0",
	 "09 00 00 19 00 02 14 01 bf 69 73 74 61 74 5f 6c 69 73 74 9f 6a 73 6d 70 5f 64 6f"
	 "75 62 6c 65 ff ff"},
	{"stat show smp_double",
	 "08 00 00 11 00 02 15 00 a1 64 6e 61 6d 65 6a 73 6d 70 5f 64 6f 75 62 6c 65",
	 "09 00 00 25 00 02 15 00 bf 64 6e 61 6d 65 6a 73 6d 70 5f 64 6f 75 62 6c 65 66 66"
	 "69 65 6c 64 73 bf 62 72 78 18 64 62 74 78 18 65 ff ff"},
	{"settings read app/a", "08 00 00 0c 00 03 16 00 a1 64 6e 61 6d 65 65 61 70 70 2f 61",
	 "09 00 00 09 00 03 16 00 bf 63 76 61 6c 42 01 02 ff"},
	{"shell exec kernel uptime",
	 "0a 00 00 15 00 09 17 00 a1 64 61 72 67 76 82 66 6b 65 72 6e 65 6c 66 75 70 74 69 6d"
	 "65",
	 "0b 00 00 1e 00 09 17 00 bf 61 6f 74 72 61 6e 3a 20 6b 65 72 6e 65 6c 20 75 70 74 69"
	 "6d 65 0d 0a 63 72 65 74 00 ff"},
	{"zbasic storage erase", "0a 00 00 01 00 3f 18 00 a0", "0b 00 00 02 00 3f 18 00 bf ff"},
};

struct serial_case {
	const char *name;
	uint8_t transport;
	const char *in;
	const char *out; /* expected output, concatenated over all feed calls */
};

static const struct serial_case serial_cases[] = {
	/* TV10: `{"d":"hello"}`, v1 write, seq 0x42. */
	{"TV10 echo over the SMP UART", SMP_RS_TRANSPORT_UART,
	 "06 09 41 42 51 43 41 41 41 4b 41 41 42 43 41 4c 39 68 5a 47 56 6f 5a 57 78 73 62 2f 2b"
	 "51 32 67 3d 3d 0a",
	 "06 09 41 42 51 44 41 41 41 4b 41 41 42 43 41 4c 39 68 63 6d 56 6f 5a 57 78 73 62 2f 2f"
	 "64 6c 41 3d 3d 0a"},
	{"shell line on the console", SMP_RS_TRANSPORT_CONSOLE, "68 65 6c 6c 6f 0a",
	 "72 61 6e 3a 20 68 65 6c 6c 6f 0d 0a"},
	{"text then a frame on the console", SMP_RS_TRANSPORT_CONSOLE,
	 "6c 73 0a 06 09 41 42 51 43 41 41 41 4b 41 41 42 43 41 4c 39 68 5a 47 56 6f 5a 57 78 73"
	 "62 2f 2b 51 32 67 3d 3d 0a",
	 "72 61 6e 3a 20 6c 73 0d 0a"
	 "06 09 41 42 51 44 41 41 41 4b 41 41 42 43 41 4c 39 68 63 6d 56 6f 5a 57 78 73 62 2f 2f"
	 "64 6c 41 3d 3d 0a"},
	{"text on the SMP UART is ignored", SMP_RS_TRANSPORT_UART, "6c 73 0a", ""},
	{"frame with a bad CRC is dropped", SMP_RS_TRANSPORT_UART,
	 "06 09 41 42 51 43 41 41 41 4b 41 41 42 43 41 4c 39 68 5a 47 56 6f 5a 57 78 73 62 2f 2b"
	 "51 32 41 3d 3d 0a",
	 ""},
};

static uint8_t req[4096];
static uint8_t want[8192];
static uint8_t tx[8192];

static void run_packet_cases(void)
{
	for (size_t i = 0; i < sizeof(packet_cases) / sizeof(packet_cases[0]); i++) {
		const struct packet_case *c = &packet_cases[i];
		size_t rn = unhex(c->req, req, sizeof(req));
		size_t wn = unhex(c->rsp, want, sizeof(want));
		int32_t n = smp_rs_process(SMP_RS_TRANSPORT_UDP4, req, rn, tx, smp_rs_buf_size());

		CHECK(n >= 0, "%s: error %ld", c->name, (long)n);
		if (n >= 0) {
			CHECK(same(want, wn, tx, (size_t)n), "%s: response differs", c->name);
		}
	}
}

static void run_serial_cases(void)
{
	size_t cap = smp_rs_serial_out_size();
	uint8_t *out = malloc(cap);

	for (size_t i = 0; i < sizeof(serial_cases) / sizeof(serial_cases[0]); i++) {
		const struct serial_case *c = &serial_cases[i];
		size_t in_n = unhex(c->in, req, sizeof(req));
		size_t wn = unhex(c->out, want, sizeof(want));
		size_t got = 0;
		size_t off = 0;

		/* Feed in two uneven pieces to exercise partial input. */
		const size_t pieces[2] = {in_n / 3, in_n - in_n / 3};

		for (int p = 0; p < 2; p++) {
			size_t end = off + pieces[p];

			while (off < end) {
				size_t used = 0;
				int32_t n = smp_rs_serial_feed(c->transport, req + off, end - off,
							       &used, out, cap);

				CHECK(n >= 0, "%s: error %ld", c->name, (long)n);
				if (n < 0) {
					break;
				}
				CHECK(got + (size_t)n <= sizeof(tx), "%s: too much output", c->name);
				memcpy(tx + got, out, (size_t)n);
				got += (size_t)n;
				off += used;
			}
		}
		CHECK(same(want, wn, tx, got), "%s: output differs", c->name);
	}
	free(out);
}

static int32_t reentry_rc;

static void reenter(void)
{
	uint8_t r[] = {0x02, 0, 0, 0x06, 0, 0, 1, 0, 0xbf, 0x61, 0x64, 0x61, 0x61, 0xff};

	smp_double.uptime_hook = NULL;
	reentry_rc = smp_rs_process(SMP_RS_TRANSPORT_TEST, r, sizeof(r), tx, sizeof(tx));
}

static void test_reentry_is_refused(void)
{
	uint8_t r[] = {0x02, 0, 0, 0x06, 0, 0, 1, 0, 0xbf, 0x61, 0x64, 0x61, 0x61, 0xff};
	uint8_t out[64];
	int32_t n;

	smp_double.uptime_hook = reenter;
	n = smp_rs_process(SMP_RS_TRANSPORT_TEST, r, sizeof(r), out, sizeof(out));
	CHECK(reentry_rc == SMP_RS_EBUSY, "re-entry gave %ld, want SMP_RS_EBUSY", (long)reentry_rc);
	CHECK(n == 14, "outer call gave %ld", (long)n);
}

static void test_reset_is_scheduled(void)
{
	uint8_t r[] = {0x0a, 0, 0, 0x02, 0, 0, 4, 5, 0xbf, 0xff};
	uint8_t w[] = {0x0b, 0, 0, 0x02, 0, 0, 4, 5, 0xbf, 0xff};
	uint32_t before = smp_double.resets;
	int32_t n;

	n = smp_rs_process(SMP_RS_TRANSPORT_BT, r, sizeof(r), tx, sizeof(tx));
	CHECK(n == (int32_t)sizeof(w) && memcmp(tx, w, sizeof(w)) == 0, "reset response");
	CHECK(smp_double.resets == before + 1, "resets = %lu", (unsigned long)smp_double.resets);
}

static void test_small_tx_drops_response(void)
{
	uint8_t r[] = {0x02, 0, 0, 0x06, 0, 0, 1, 0, 0xbf, 0x61, 0x64, 0x61, 0x61, 0xff};
	uint8_t out[8];
	int32_t n = smp_rs_process(SMP_RS_TRANSPORT_TEST, r, sizeof(r), out, sizeof(out));

	/* A response that does not fit the caller's buffer is dropped (and logged), not cut. */
	CHECK(n == 0, "got %ld bytes into an 8-byte buffer", (long)n);
}

/* After the packet cases: the upload's new file was created at its first chunk (an empty
 * session committed by a rename, as FS_O_CREATE) and its content committed by a second
 * rename, nothing is left open, and the storage erase reached the flash.
 */
static void test_group_side_effects(void)
{
	uint8_t b[4];

	CHECK(smp_double.renames == 2, "renames = %lu (create, commit)",
	      (unsigned long)smp_double.renames);
	CHECK(smp_double.files_open == 0, "%d files left open", (int)smp_double.files_open);
	CHECK(smp_port_fs_stat((const uint8_t *)"/lfs1/a.txt.~smp", 16) == SMP_PORT_ENOENT,
	      "staging file left behind");
	CHECK(smp_port_flash_read(2, 0, b, sizeof(b)) == 0 && b[0] == 0xff && b[3] == 0xff,
	      "storage not erased");
}

/* ---- a minimal CBOR writer for requests built at run time ---- */

struct cbor {
	uint8_t *buf;
	size_t cap, len;
};

static void cbor_head(struct cbor *c, uint8_t major, uint64_t n)
{
	uint8_t h[9];
	size_t k = 0;

	if (n < 24) {
		h[k++] = (uint8_t)(major << 5 | n);
	} else if (n <= 0xff) {
		h[k++] = (uint8_t)(major << 5 | 24);
		h[k++] = (uint8_t)n;
	} else if (n <= 0xffff) {
		h[k++] = (uint8_t)(major << 5 | 25);
		h[k++] = (uint8_t)(n >> 8);
		h[k++] = (uint8_t)n;
	} else {
		h[k++] = (uint8_t)(major << 5 | 26);
		for (int i = 3; i >= 0; i--) {
			h[k++] = (uint8_t)(n >> (8 * i));
		}
	}
	if (c->len + k <= c->cap) {
		memcpy(c->buf + c->len, h, k);
	}
	c->len += k;
}

static void cbor_raw(struct cbor *c, const void *p, size_t n)
{
	if (c->len + n <= c->cap) {
		memcpy(c->buf + c->len, p, n);
	}
	c->len += n;
}

static void cbor_text(struct cbor *c, const char *t)
{
	cbor_head(c, 3, strlen(t));
	cbor_raw(c, t, strlen(t));
}

static void cbor_bytes(struct cbor *c, const uint8_t *b, size_t n)
{
	cbor_head(c, 2, n);
	cbor_raw(c, b, n);
}

static void cbor_bool(struct cbor *c, int v)
{
	uint8_t b = v ? 0xf5 : 0xf4;

	cbor_raw(c, &b, 1);
}

/* Starts an SMP v2 packet: op, group, seq, id; the body follows (cbor.len from 8). */
static struct cbor smp_start(uint8_t *buf, size_t cap, uint8_t op, uint16_t group, uint8_t id)
{
	static uint8_t seq;
	struct cbor c = {buf, cap, 8};

	buf[0] = (uint8_t)(1 << 3 | op);
	buf[1] = 0;
	buf[4] = (uint8_t)(group >> 8);
	buf[5] = (uint8_t)group;
	buf[6] = seq++;
	buf[7] = id;
	return c;
}

static size_t smp_finish(struct cbor *c)
{
	size_t body = c->len - 8;

	c->buf[2] = (uint8_t)(body >> 8);
	c->buf[3] = (uint8_t)body;
	return c->len;
}

/* Runs one request; returns the response length (0 on failure). */
static size_t roundtrip(const uint8_t *r, size_t n)
{
	int32_t got = smp_rs_process(SMP_RS_TRANSPORT_UDP4, r, n, tx, smp_rs_buf_size());

	return got > 0 ? (size_t)got : 0;
}

/* Whether `hay` holds the bytes `needle`; returns a pointer just past them. */
static const uint8_t *find(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
	for (size_t i = 0; m <= n && i <= n - m; i++) {
		if (memcmp(hay + i, needle, m) == 0) {
			return hay + i + m;
		}
	}
	return NULL;
}

static size_t load(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	CHECK(f != NULL, "cannot open %s", path);
	if (f == NULL) {
		return 0;
	}
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* Uploads `size` bytes of `image` to image 0's secondary slot in chunks of `chunk` bytes, as
 * a client does; returns 0 when every chunk is acknowledged with its end offset.
 */
static int upload_image(const uint8_t *image, size_t size, size_t chunk)
{
	uint8_t want[16];

	for (size_t off = 0; off < size;) {
		size_t len = size - off < chunk ? size - off : chunk;
		struct cbor c = smp_start(req, sizeof(req), 2, 1, 1);
		struct cbor w = {want, sizeof(want), 0};
		size_t n;

		cbor_head(&c, 5, off == 0 ? 4 : 2);
		if (off == 0) {
			cbor_text(&c, "image");
			cbor_head(&c, 0, 0);
			cbor_text(&c, "len");
			cbor_head(&c, 0, size);
		}
		cbor_text(&c, "off");
		cbor_head(&c, 0, off);
		cbor_text(&c, "data");
		cbor_bytes(&c, image + off, len);
		n = roundtrip(req, smp_finish(&c));
		off += len;
		cbor_text(&w, "off");
		cbor_head(&w, 0, off);
		CHECK(n > 8 && find(tx + 8, n - 8, want, w.len) != NULL,
		      "upload chunk ending at %zu not acknowledged", off);
		if (n <= 8 || find(tx + 8, n - 8, want, w.len) == NULL) {
			print_hex("response", tx, n);
			return -1;
		}
	}
	return 0;
}

/*
 * The upgrade a client drives: with `running` in slot 0 (as MCUboot left it), upload
 * `update` (imgtool output), mark it for a test, reset (the double swaps like MCUboot),
 * and confirm the new image.
 */
static void test_image_upgrade(const char *running, const char *update)
{
	static uint8_t image[65536];
	uint8_t hash[32];
	size_t size, n;
	const uint8_t *h;

	size = load(running, image, sizeof(image));
	if (size == 0) {
		return;
	}
	size = (size + 3) & ~(size_t)3;
	CHECK(smp_port_flash_write(0, 0, image, size) == 0, "slot 0 write");
	size = load(update, image, sizeof(image));
	if (size == 0) {
		return;
	}

	if (upload_image(image, size, 512) != 0) {
		return;
	}

	/* Image state: slot 0 (running) then slot 1 (uploaded); take slot 1's hash. */
	{
		struct cbor c = smp_start(req, sizeof(req), 0, 1, 0);
		static const uint8_t hash_key[] = {0x64, 'h', 'a', 's', 'h', 0x58, 0x20};

		cbor_head(&c, 5, 0);
		n = roundtrip(req, smp_finish(&c));
		h = find(tx + 8, n > 8 ? n - 8 : 0, hash_key, sizeof(hash_key));
		if (h != NULL) {
			h = find(h, (size_t)(tx + n - h), hash_key, sizeof(hash_key));
		}
		CHECK(h != NULL, "image state does not list two images");
		if (h == NULL) {
			print_hex("response", tx, n);
			return;
		}
		memcpy(hash, h, sizeof(hash));
	}

	/* Test it: MCUboot is asked for a test swap. */
	{
		struct cbor c = smp_start(req, sizeof(req), 2, 1, 0);

		cbor_head(&c, 5, 2);
		cbor_text(&c, "hash");
		cbor_bytes(&c, hash, sizeof(hash));
		cbor_text(&c, "confirm");
		cbor_bool(&c, 0);
		n = roundtrip(req, smp_finish(&c));
		CHECK(n > 8 && smp_double.swap_type == 2, "test request: swap type %d",
		      (int)smp_double.swap_type);
	}

	/* Reset: the response leaves first, then the port reboots and MCUboot swaps. */
	{
		struct cbor c = smp_start(req, sizeof(req), 2, 0, 5);
		uint32_t resets = smp_double.resets;

		cbor_head(&c, 5, 0);
		n = roundtrip(req, smp_finish(&c));
		CHECK(n > 8 && smp_double.resets == resets + 1, "reset not scheduled");
		smp_double_boot();
		CHECK(smp_double.swap_type == SMP_PORT_SWAP_REVERT && !smp_double.confirmed,
		      "after the test boot: swap %d confirmed %d", (int)smp_double.swap_type,
		      (int)smp_double.confirmed);
	}

	/* Confirm the running (new) image, so that the next reset keeps it. */
	{
		struct cbor c = smp_start(req, sizeof(req), 2, 1, 0);

		cbor_head(&c, 5, 1);
		cbor_text(&c, "confirm");
		cbor_bool(&c, 1);
		n = roundtrip(req, smp_finish(&c));
		CHECK(n > 8 && smp_double.confirmed == 1, "confirm: confirmed = %d",
		      (int)smp_double.confirmed);
		if (smp_double.confirmed != 1) {
			print_hex("response", tx, n);
		}
		smp_double_boot();
		CHECK(smp_double.swap_type == SMP_PORT_SWAP_NONE && smp_double.confirmed,
		      "after confirming: swap %d", (int)smp_double.swap_type);
	}
}

static void test_entry_errors(void)
{
	size_t used;
	uint8_t b[1];

	CHECK(smp_rs_init() == SMP_RS_EALREADY, "second init accepted");
	CHECK(smp_rs_poll() == 0, "poll");
	CHECK(smp_rs_process(0, NULL, 0, tx, 1) == SMP_RS_EINVAL, "NULL rx accepted");
	CHECK(smp_rs_serial_feed(SMP_RS_TRANSPORT_BT, b, 1, &used, tx, 1) == SMP_RS_ENODEV,
	      "serial feed on a packet transport accepted");
	CHECK(smp_rs_serial_reset(SMP_RS_TRANSPORT_UART) == 0, "serial reset");
}

int main(int argc, char **argv)
{
	smp_double_reset_state();
	CHECK(smp_rs_process(0, req, 0, tx, 1) == SMP_RS_ENODEV, "process before init");
	CHECK(smp_rs_poll() == SMP_RS_ENODEV, "poll before init");
	CHECK(smp_rs_init() == 0, "init");
	CHECK(smp_double.last_log_level == SMP_PORT_LOG_INF &&
		      strncmp(smp_double.last_log, "SMP server ready: 8 groups", 26) == 0,
	      "start-up log line: [%lu] %s", (unsigned long)smp_double.last_log_level,
	      smp_double.last_log);
	printf("rustapp: buf_size %lu, buf_count %lu, serial out %lu\n",
	       (unsigned long)smp_rs_buf_size(), (unsigned long)smp_rs_buf_count(),
	       (unsigned long)smp_rs_serial_out_size());

	{
		/* Something for "zbasic storage erase" to erase. */
		static const uint8_t zeros[4];

		CHECK(smp_port_flash_write(2, 0, zeros, sizeof(zeros)) == 0, "storage write");
	}
	run_packet_cases();
	test_group_side_effects();
	if (argc > 2) {
		test_image_upgrade(argv[1], argv[2]);
	} else {
		printf("no images given: image upgrade not tested\n");
	}
	run_serial_cases();
	test_reentry_is_refused();
	test_reset_is_scheduled();
	test_small_tx_drops_response();
	test_entry_errors();

	printf("%d checks, %d failures\n", checks, failures);
	if (failures == 0) {
		printf("All tests passed\n");
	}
	return failures == 0 ? 0 : 1;
}

//! Dispatcher tests: byte vectors of Zephyr's replies (TV1..TV7) and the framework error rules.

use super::*;
use crate::groups::os::OsGroup;
use crate::testing::{check_response, hex, Bytes, Client, FakeOs};

/// Runs `req` through a server holding the OS group; returns every response, concatenated.
fn run(req: &[u8]) -> Bytes {
    run_with(req, Config::default())
}

fn run_with(req: &[u8], config: Config) -> Bytes {
    let mut os = OsGroup::new(FakeOs::default(), Default::default());
    let mut client: Client<'_, 4> = Client::new(config);
    client.register(&mut os);
    client.tx_len = 2048;
    client.exchange(req)
}

#[test]
fn tv1_echo_v1_write() {
    let req = hex(
        "02 00 00 2e 00 00 01 00 bf 61 64 78 28 73 68 6f 72 74 20 4d 43 55 4d 47 52 20 74 65
         73 74 20 61 70 70 6c 69 63 61 74 69 6f 6e 20 6d 65 73 73 61 67 65 2e 2e 2e ff",
    );
    let rsp = run(&req);
    let mut want = req.clone();
    want[0] = 0x03;
    want[10] = 0x72; // "d" -> "r"
    assert_eq!(rsp, want);
}

#[test]
fn tv2_info_s() {
    let rsp = run(&hex(
        "00 00 00 0b 00 00 01 07 bf 66 66 6f 72 6d 61 74 61 73 ff",
    ));
    assert_eq!(
        rsp,
        hex("01 00 00 10 00 00 01 07 bf 66 6f 75 74 70 75 74 66 5a 65 70 68 79 72 ff")
    );
}

#[test]
fn tv3_version_handling() {
    // v1: group error translated to rc 3.
    let rsp = run(&hex(
        "00 00 00 0b 00 00 01 07 bf 66 66 6f 72 6d 61 74 61 38 ff",
    ));
    assert_eq!(rsp, hex("01 00 00 06 00 00 01 07 bf 62 72 63 03 ff"));
    // v1 with legacy support disabled: rc 12.
    let cfg = Config {
        support_v1: false,
        ..Config::default()
    };
    let rsp = run_with(
        &hex("00 00 00 0b 00 00 01 07 bf 66 66 6f 72 6d 61 74 61 38 ff"),
        cfg,
    );
    assert_eq!(rsp, hex("01 00 00 06 00 00 01 07 bf 62 72 63 0c ff"));
    // v2: err map.
    let rsp = run(&hex(
        "08 00 00 0b 00 00 01 07 bf 66 66 6f 72 6d 61 74 61 38 ff",
    ));
    assert_eq!(
        rsp,
        hex("09 00 00 13 00 00 01 07 bf 63 65 72 72 bf 65 67 72 6f 75 70 00 62 72 63 02 ff ff")
    );
    // version 2: rc 13, header version clamped to 1.
    let rsp = run(&hex(
        "10 00 00 0b 00 00 01 07 bf 66 66 6f 72 6d 61 74 61 38 ff",
    ));
    assert_eq!(rsp, hex("09 00 00 06 00 00 01 07 bf 62 72 63 0d ff"));
}

#[test]
fn tv6_params_v2() {
    let rsp = run(&hex("08 00 00 02 00 00 02 06 bf ff"));
    assert_eq!(
        rsp,
        hex("09 00 00 19 00 00 02 06 bf 68 62 75 66 5f 73 69 7a 65 19 01 80 69 62 75 66 5f 63 6f 75 6e 74 04 ff")
    );
}

#[test]
fn tv7_unknown_group_is_rc8_even_in_v2() {
    let rsp = run(&hex("08 00 00 02 00 40 03 00 bf ff"));
    assert_eq!(rsp, hex("09 00 00 06 00 40 03 00 bf 62 72 63 08 ff"));
}

#[test]
fn reset_v2_write() {
    let rsp = run(&hex("0a 00 00 02 00 00 04 05 bf ff"));
    assert_eq!(rsp, hex("0b 00 00 02 00 00 04 05 bf ff"));
}

#[test]
fn unknown_command_and_wrong_op_are_rc8() {
    // command 9 of the OS group (beyond the table)
    assert_eq!(
        run(&hex("08 00 00 02 00 00 01 09 bf ff")),
        hex("09 00 00 06 00 00 01 09 bf 62 72 63 08 ff")
    );
    // console echo control (id 1) is not implemented
    assert_eq!(
        run(&hex("0a 00 00 02 00 00 01 01 bf ff")),
        hex("0b 00 00 06 00 00 01 01 bf 62 72 63 08 ff")
    );
    // params is read-only: a write gets rc 8 with op 3
    assert_eq!(
        run(&hex("0a 00 00 02 00 00 01 06 bf ff")),
        hex("0b 00 00 06 00 00 01 06 bf 62 72 63 08 ff")
    );
    // response ops (1, 3) and undefined ops (4..7) are refused with op 3
    for op in [0x09u8, 0x0b, 0x0c, 0x0f] {
        let mut req = hex("00 00 00 02 00 00 01 00 bf ff");
        req[0] = op;
        let rsp = run(&req);
        assert_eq!(
            rsp,
            hex("0b 00 00 06 00 00 01 00 bf 62 72 63 08 ff"),
            "op {op:#x}"
        );
    }
}

#[test]
fn truncated_packet_is_rc9_and_runt_is_silent() {
    // header says 0x20 bytes of payload, only 2 present
    assert_eq!(
        run(&hex("08 00 00 20 00 00 07 00 bf ff")),
        hex("09 00 00 06 00 00 07 00 bf 62 72 63 09 ff")
    );
    // fewer than 8 bytes: no response at all
    assert!(run(&hex("08 00 00 02 00 00")).is_empty());
}

#[test]
fn several_packets_in_one_buffer_and_error_aborts_the_rest() {
    let echo = hex("0a 00 00 07 00 00 01 00 bf 61 64 62 68 69 ff");
    let bad = hex("0a 00 00 02 00 00 02 00 a1 01"); // int key: rc 3
    let mut two = heapless::Vec::<u8, 64>::new();
    two.extend_from_slice(&echo).unwrap();
    two.extend_from_slice(&echo).unwrap();
    let rsp = run(&two);
    let one = hex("0b 00 00 07 00 00 01 00 bf 61 72 62 68 69 ff");
    assert_eq!(rsp.len(), 2 * one.len());
    assert_eq!(&rsp[..one.len()], &one[..]);
    // bad packet first: its error is sent, the echo after it is not processed
    let mut seq = heapless::Vec::<u8, 64>::new();
    seq.extend_from_slice(&bad).unwrap();
    seq.extend_from_slice(&echo).unwrap();
    assert_eq!(run(&seq), hex("0b 00 00 06 00 00 02 00 bf 62 72 63 03 ff"));
}

#[test]
fn response_too_large_is_rc7() {
    let cfg = Config {
        params: Params {
            buf_size: 24,
            buf_count: 1,
        },
        support_v1: true,
    };
    // echo of 20 characters cannot fit 24 bytes
    let mut req = hex("0a 00 00 19 00 00 05 00 bf 61 64 74");
    req.extend_from_slice(b"01234567890123456789").unwrap();
    req.push(0xff).unwrap();
    assert_eq!(
        run_with(&req, cfg),
        hex("0b 00 00 06 00 00 05 00 bf 62 72 63 07 ff")
    );
}

#[test]
fn registry_full_is_an_error() {
    let mut a = OsGroup::new(FakeOs::default(), Default::default());
    let mut b = OsGroup::new(FakeOs::default(), Default::default());
    let mut server: Server<'_, 1> = Server::new(Config::default());
    server.register(&mut a).unwrap();
    assert_eq!(server.register(&mut b), Err(RegistryFull));
}

#[test]
fn payload_is_clipped_to_header_length() {
    // header length 7 covers {"d":"hi"}; the trailing garbage forms a runt (< 8 bytes)
    let rsp = run(&hex(
        "0a 00 00 07 00 00 01 00 bf 61 64 62 68 69 ff 01 02 03",
    ));
    assert_eq!(rsp, hex("0b 00 00 07 00 00 01 00 bf 61 72 62 68 69 ff"));
}

#[test]
fn no_input_panics_the_dispatcher() {
    // A cheap exhaustive-ish sweep: every single-byte mutation of a valid request. Every
    // response must be a well-formed SMP packet answering, in order, the request headers
    // the dispatcher reads (header length = body length, one CBOR map, within the buffer,
    // group/seq/id echoed with the response op and version).
    let base = hex("08 00 00 0b 00 00 01 07 bf 66 66 6f 72 6d 61 74 61 73 ff");
    let limit = Config::default().params.buf_size as usize;
    let mut responses = 0;
    for i in 0..base.len() {
        for v in [0x00u8, 0x01, 0x17, 0x18, 0x3f, 0x5f, 0x7f, 0x9f, 0xbf, 0xff] {
            let mut m = base.clone();
            m[i] = v;
            let reqs = request_headers(&m);
            let out = run(&m);
            let mut rest = &out[..];
            let mut k = 0;
            while !rest.is_empty() {
                let n = HeaderRepr::from_bytes(rest)
                    .unwrap()
                    .packet_len()
                    .min(rest.len());
                let req = reqs
                    .get(k)
                    .unwrap_or_else(|| panic!("{m:02x?}: extra response"));
                check_response(req, &rest[..n], limit);
                rest = &rest[n..];
                k += 1;
            }
            // The first header is always whole (19 bytes in), so it is always answered.
            assert!(k >= 1, "{m:02x?}: no response");
            responses += k;
        }
    }
    assert!(responses >= base.len() * 10);
}

/// The headers the dispatcher reads from `rx`, in order (a truncated last packet included).
fn request_headers(rx: &[u8]) -> heapless::Vec<HeaderRepr, 8> {
    let mut out = heapless::Vec::new();
    let mut rest = rx;
    while let Ok(h) = HeaderRepr::from_bytes(rest) {
        out.push(h).unwrap();
        rest = rest.get(h.packet_len()..).unwrap_or(&[]);
    }
    out
}

#[test]
fn body_beyond_the_length_field_is_rc7() {
    // A 64 KiB+ transport buffer: the echo of a 65529-byte string has a 65536-byte body
    // (map, key, 3-byte string head, break), one more than the header's length field holds.
    let cfg = Config {
        params: Params {
            buf_size: 70_000,
            buf_count: 1,
        },
        support_v1: true,
    };
    let n: u16 = 65_529;
    let mut req = std::vec![0x0a, 0, 0xff, 0xff, 0, 0, 5, 0, 0xa1, 0x61, b'd', 0x79];
    req.extend_from_slice(&n.to_be_bytes());
    req.resize(req.len() + usize::from(n), b'x');
    assert_eq!(req.len(), HEADER_LEN + 0xffff);
    let mut os = OsGroup::new(FakeOs::default(), Default::default());
    let mut server: Server<'_, 4> = Server::new(cfg);
    server.register(&mut os).unwrap();
    let mut tx = std::vec![0u8; 70_000];
    let mut out = std::vec::Vec::new();
    let outcome = server.process(Meta::default(), &req, &mut tx, |r| out.push(r.to_vec()));
    assert_eq!(
        out,
        [hex("0b 00 00 06 00 00 05 00 bf 62 72 63 07 ff").to_vec()]
    );
    assert!(outcome.aborted);
    // One byte shorter fits: the whole echo comes back with its exact length.
    req[3] = 0xfe;
    req[13] -= 1;
    req.pop();
    out.clear();
    server.process(Meta::default(), &req, &mut tx, |r| out.push(r.to_vec()));
    assert_eq!(out.len(), 1);
    assert_eq!(&out[0][..4], &[0x0b, 0, 0xff, 0xff]);
    assert_eq!(out[0].len(), HEADER_LEN + 0xffff);
}

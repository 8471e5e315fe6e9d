//! [`check_response`]: what every response packet must be, whatever the request.

use minicbor::data::Type;
use minicbor::Decoder;

use crate::wire::{HeaderRepr, Op, Version, HEADER_LEN};

/// Checks one response packet to `req`: no larger than `limit`, header length equal to the
/// body length, the header echoing the request's group, sequence and command with the
/// response op and version, and the body one well-formed CBOR map with text keys. An
/// SMP v1 response never carries `err`; an SMP v2 `err` is `{"group": uint, "rc": uint}`.
pub fn check_response(req: &HeaderRepr, rsp: &[u8], limit: usize) {
    assert!(rsp.len() > HEADER_LEN, "short response {rsp:02x?}");
    assert!(rsp.len() <= limit, "response of {} > {limit}", rsp.len());
    let h = HeaderRepr::from_bytes(rsp).unwrap();
    assert_eq!(h.len as usize, rsp.len() - HEADER_LEN, "header length");
    assert_eq!(h.op, req.op.response());
    assert!(h.op == Op::ReadRsp || h.op == Op::WriteRsp);
    assert_eq!(h.version, req.version.response());
    assert_eq!(h.flags, 0);
    assert_eq!((h.group, h.seq, h.id), (req.group, req.seq, req.id));
    let body = &rsp[HEADER_LEN..];
    let mut d = Decoder::new(body);
    let mut saw_err = false;
    let mut saw_rc = false;
    map_entries(&mut d, 0, &mut |k, d| match k {
        "err" => {
            saw_err = true;
            let mut group = None;
            let mut rc = None;
            map_entries(d, 1, &mut |k, d| match k {
                "group" => group = Some(d.u16().expect("err.group not a uint")),
                "rc" => rc = Some(d.u16().expect("err.rc not a uint")),
                _ => item(d, 2),
            });
            assert!(group.is_some() && rc.is_some_and(|r| r != 0), "bad err");
        }
        "rc" => {
            saw_rc = true;
            d.u16().expect("rc not a uint");
        }
        _ => item(d, 1),
    });
    assert_eq!(d.position(), body.len(), "bytes after the response map");
    if h.version == Version::V1 {
        assert!(!saw_err, "err in an SMP v1 response");
    }
    let _ = saw_rc;
}

/// Calls `each` once per element of a container whose head announced `n` elements
/// (`None`: indefinite, ended by a break, which is consumed).
fn elements(d: &mut Decoder<'_>, n: Option<u64>, mut each: impl FnMut(&mut Decoder<'_>)) {
    let mut i = 0u64;
    loop {
        match n {
            Some(n) if i == n => break,
            None if d.datatype().expect("truncated container") == Type::Break => {
                d.skip().unwrap();
                break;
            }
            _ => {}
        }
        each(d);
        i += 1;
    }
}

/// Walks one CBOR map (definite or indefinite) with text keys, calling `f` with each key
/// and the decoder positioned at its value, which `f` must consume.
pub fn map_entries(d: &mut Decoder<'_>, depth: usize, f: &mut dyn FnMut(&str, &mut Decoder<'_>)) {
    assert!(depth < 16, "nesting too deep");
    let n = d.map().expect("not a CBOR map");
    elements(d, n, |d| {
        let k = d.str().expect("map key not a text string");
        f(k, d);
    });
}

/// Consumes one well-formed CBOR item (text strings must be UTF-8).
pub fn item(d: &mut Decoder<'_>, depth: usize) {
    assert!(depth < 16, "nesting too deep");
    match d.datatype().expect("truncated item") {
        Type::Map | Type::MapIndef => {
            let n = d.map().unwrap();
            elements(d, n, |d| {
                item(d, depth + 1);
                item(d, depth + 1);
            });
        }
        Type::Array | Type::ArrayIndef => {
            let n = d.array().unwrap();
            elements(d, n, |d| item(d, depth + 1));
        }
        Type::String => {
            d.str().expect("bad text string");
        }
        Type::StringIndef => {
            for s in d.str_iter().unwrap() {
                s.expect("bad text string chunk");
            }
        }
        Type::Bytes => {
            d.bytes().expect("bad byte string");
        }
        Type::Break => panic!("stray break"),
        _ => d.skip().expect("bad CBOR item"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A v2 read of group 0, seq 7, command 6, and its well-formed answer `{"rc": 8}`.
    const REQ: [u8; 10] = [0x08, 0, 0, 2, 0, 0, 7, 6, 0xbf, 0xff];
    const RSP: [u8; 14] = [0x09, 0, 0, 6, 0, 0, 7, 6, 0xbf, 0x62, b'r', b'c', 8, 0xff];

    fn check(rsp: &[u8]) {
        check_response(&HeaderRepr::from_bytes(&REQ).unwrap(), rsp, 64);
    }

    #[test]
    fn a_well_formed_response_passes() {
        check(&RSP);
    }

    #[test]
    #[should_panic(expected = "header length")]
    fn header_length_must_equal_the_body() {
        let mut r = RSP;
        r[3] = 5;
        check(&r);
    }

    #[test]
    #[should_panic(expected = "bytes after the response map")]
    fn the_body_is_one_map() {
        let mut r = [0u8; 16];
        r[..14].copy_from_slice(&RSP);
        r[14..].copy_from_slice(&[0xbf, 0xff]);
        r[3] = 8;
        check(&r);
    }

    #[test]
    #[should_panic(expected = "assertion")]
    fn the_sequence_number_is_echoed() {
        let mut r = RSP;
        r[6] = 8;
        check(&r);
    }

    #[test]
    #[should_panic(expected = "response of 14 > 13")]
    fn the_response_fits_the_buffer() {
        check_response(&HeaderRepr::from_bytes(&REQ).unwrap(), &RSP, 13);
    }

    #[test]
    #[should_panic(expected = "err in an SMP v1 response")]
    fn smp_v1_carries_no_err() {
        let v1 = [0x00, 0, 0, 2, 0, 0, 7, 6, 0xbf, 0xff];
        let rsp = [
            0x01, 0, 0, 0x13, 0, 0, 7, 6, 0xbf, 0x63, b'e', b'r', b'r', 0xbf, 0x65, b'g', b'r',
            b'o', b'u', b'p', 0, 0x62, b'r', b'c', 2, 0xff, 0xff,
        ];
        check_response(&HeaderRepr::from_bytes(&v1).unwrap(), &rsp, 64);
    }
}

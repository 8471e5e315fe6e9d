//! OS group unit tests: request bytes in, response bytes out, through the dispatcher.

use super::*;
use crate::platform::DateTime;
use crate::testing::{body, rsp_body, Bytes, Client, FakeOs};
use crate::wire::Op;

struct Rig {
    os: OsGroup<FakeOs>,
}

impl Rig {
    fn new() -> Self {
        Rig {
            os: OsGroup::new(FakeOs::default(), Config::default()),
        }
    }

    /// Sends a v2 request with `payload` through the test client and returns the response
    /// payload (the whole packet checked by `check_response`: op, group, id, seq, length).
    fn req(&mut self, op: u8, id: u8, payload: &[u8]) -> Bytes {
        let mut client: Client<'_, 2> = Client::with(&mut self.os);
        client.seq = 0x2a;
        let rsp = client.request(Op::from(op), group::OS, id, payload);
        Bytes::from_slice(rsp_body(&rsp)).unwrap()
    }
}

fn cbor_str(s: &str) -> heapless::Vec<u8, 64> {
    let mut v = heapless::Vec::new();
    assert!(s.len() < 24);
    v.push(0x60 | s.len() as u8).unwrap();
    v.extend_from_slice(s.as_bytes()).unwrap();
    v
}

const RC3: &[u8] = &[0xbf, 0x62, b'r', b'c', 0x03, 0xff];
const RC8: &[u8] = &[0xbf, 0x62, b'r', b'c', 0x08, 0xff];

fn os_err(rc: u8) -> [u8; 19] {
    [
        0xbf, 0x63, b'e', b'r', b'r', 0xbf, 0x65, b'g', b'r', b'o', b'u', b'p', 0x00, 0x62, b'r',
        b'c', rc, 0xff, 0xff,
    ]
}

#[test]
fn echo_skips_indefinite_items_nested_in_unknown_values() {
    // {"x":[[_ 1], 2], "d":"hi"}: Zephyr skips the unknown value and echoes.
    let mut rig = Rig::new();
    assert_eq!(
        &rig.req(
            2,
            0,
            &[0xa2, 0x61, b'x', 0x82, 0x9f, 0x01, 0xff, 0x02, 0x61, b'd', 0x62, b'h', b'i']
        )[..],
        &[0xbf, 0x61, b'r', 0x62, b'h', b'i', 0xff]
    );
}

#[test]
fn echo_read_and_write_definite_and_indefinite() {
    let mut rig = Rig::new();
    let want = [0xbf, 0x61, b'r', 0x62, b'h', b'i', 0xff];
    assert_eq!(
        &rig.req(2, 0, &[0xa1, 0x61, b'd', 0x62, b'h', b'i'])[..],
        &want
    );
    assert_eq!(
        &rig.req(0, 0, &[0xbf, 0x61, b'd', 0x62, b'h', b'i', 0xff])[..],
        &want
    );
    // unknown keys are skipped, whatever their type
    assert_eq!(
        &rig.req(
            2,
            0,
            &[0xbf, 0x61, b'x', 0x82, 0x01, 0xa0, 0x61, b'd', 0x62, b'h', b'i', 0xff]
        )[..],
        &want
    );
    // empty string echoes
    assert_eq!(
        &rig.req(2, 0, &[0xa1, 0x61, b'd', 0x60])[..],
        &[0xbf, 0x61, b'r', 0x60, 0xff]
    );
}

#[test]
fn echo_errors() {
    let mut rig = Rig::new();
    assert_eq!(&rig.req(2, 0, &[0xbf, 0xff])[..], RC3); // missing d
    assert_eq!(&rig.req(2, 0, &[0xa1, 0x61, b'd', 0x01])[..], RC3); // d not a string
    assert_eq!(&rig.req(2, 0, &[])[..], RC3); // empty payload
    assert_eq!(
        &rig.req(2, 0, &[0xa2, 0x61, b'd', 0x60, 0x61, b'd', 0x60])[..],
        RC3
    ); // duplicate key
}

#[test]
fn taskstat_bytes() {
    let mut rig = Rig::new();
    let got = rig.req(0, 2, &[0xbf, 0xff]);
    let mut want = heapless::Vec::<u8, 256>::new();
    want.push(0xbf).unwrap();
    want.extend_from_slice(&cbor_str("tasks")).unwrap();
    want.push(0xbf).unwrap();
    for (name, prio, tid, siz, use_) in [("main", 0u8, 0u8, 512u16, 128u8), ("idle", 15, 1, 80, 16)]
    {
        want.extend_from_slice(&cbor_str(name)).unwrap();
        want.push(0xbf).unwrap();
        want.extend_from_slice(&cbor_str("prio")).unwrap();
        want.push(prio).unwrap();
        want.extend_from_slice(&cbor_str("tid")).unwrap();
        want.push(tid).unwrap();
        want.extend_from_slice(&cbor_str("state")).unwrap();
        want.push(0).unwrap();
        want.extend_from_slice(&cbor_str("stksiz")).unwrap();
        if siz > 255 {
            want.extend_from_slice(&[0x19, (siz >> 8) as u8, siz as u8])
                .unwrap();
        } else if siz > 23 {
            want.extend_from_slice(&[0x18, siz as u8]).unwrap();
        } else {
            want.push(siz as u8).unwrap();
        }
        want.extend_from_slice(&cbor_str("stkuse")).unwrap();
        if use_ > 23 {
            want.extend_from_slice(&[0x18, use_]).unwrap();
        } else {
            want.push(use_).unwrap();
        }
        want.push(0xff).unwrap();
    }
    want.extend_from_slice(&[0xff, 0xff]).unwrap();
    assert_eq!(&got[..], &want[..]);
    // a write is not a taskstat command
    assert_eq!(&rig.req(2, 2, &[0xbf, 0xff])[..], RC8);
}

#[test]
fn mpstat_under_mpools() {
    let mut rig = Rig::new();
    let got = rig.req(0, 3, &[0xbf, 0xff]);
    let mut want = heapless::Vec::<u8, 256>::new();
    want.push(0xbf).unwrap();
    want.extend_from_slice(&cbor_str("mpools")).unwrap();
    want.extend_from_slice(&[0xbf, 0x61, b'0', 0xbf]).unwrap();
    want.extend_from_slice(&cbor_str("nblks")).unwrap();
    want.extend_from_slice(&[0x19, 0x10, 0x00]).unwrap();
    want.extend_from_slice(&cbor_str("nfree")).unwrap();
    want.extend_from_slice(&[0x19, 0x04, 0x00]).unwrap();
    want.extend_from_slice(&cbor_str("min")).unwrap();
    want.extend_from_slice(&[0x19, 0x02, 0x00]).unwrap();
    want.extend_from_slice(&[0xff, 0xff, 0xff]).unwrap();
    assert_eq!(&got[..], &want[..]);
    rig.os.platform_mut().no_heaps = true;
    assert_eq!(&rig.req(0, 3, &[0xbf, 0xff])[..], RC8);
}

#[test]
fn datetime_unset_get_set() {
    let mut rig = Rig::new();
    assert_eq!(&rig.req(0, 4, &[0xbf, 0xff])[..], &os_err(4)); // RTC not set
    let mut set = heapless::Vec::<u8, 64>::new();
    set.push(0xa1).unwrap();
    set.extend_from_slice(&cbor_str("datetime")).unwrap();
    set.extend_from_slice(&cbor_str("2024-02-29T23:59:58"))
        .unwrap();
    assert_eq!(&rig.req(2, 4, &set)[..], &[0xbf, 0xff]);
    let mut want = heapless::Vec::<u8, 64>::new();
    want.push(0xbf).unwrap();
    want.extend_from_slice(&cbor_str("datetime")).unwrap();
    want.extend_from_slice(&cbor_str("2024-02-29T23:59:58"))
        .unwrap();
    want.push(0xff).unwrap();
    assert_eq!(&rig.req(0, 4, &[0xbf, 0xff])[..], &want[..]);
}

#[test]
fn datetime_with_ms_is_zero_padded() {
    let mut rig = Rig::new();
    rig.os.config.datetime_ms = true;
    rig.os.platform_mut().rtc = Some(DateTime {
        year: 2025,
        month: 1,
        day: 2,
        hour: 3,
        minute: 4,
        second: 5,
        millis: 35,
    });
    let got = rig.req(0, 4, &[0xbf, 0xff]);
    assert_eq!(&got[10..], b"\x772025-01-02T03:04:05.035\xff");
}

#[test]
fn datetime_parser_rules() {
    let p = |s| parse_datetime(s, true);
    let t = p("2024-01-02T03:04:05").unwrap();
    assert_eq!(
        (t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis),
        (2024, 1, 2, 3, 4, 5, 0)
    );
    assert_eq!(p("2024-01-02T03:04:05.5").unwrap().millis, 500);
    assert_eq!(p("2024-01-02T03:04:05.123456").unwrap().millis, 123);
    assert_eq!(p("2024-01-02T03:04:05.07Z").unwrap().millis, 70);
    assert_eq!(p("2024-01-02T03:04:05+01:00").unwrap().millis, 0);
    assert_eq!(
        parse_datetime("2024-01-02T03:04:05.5", false)
            .unwrap()
            .millis,
        0
    );
    // any one-character delimiter
    assert!(p("2024/01/02 03.04.05").is_ok());
    for bad in [
        "2024-01-02T03:04",                  // too short
        "2024-01-02T03:04:05.0000000000000", // too long (> 31)
        "1899-01-02T03:04:05",
        "2024-13-02T03:04:05",
        "2024-00-02T03:04:05",
        "2024-01-32T03:04:05",
        "2024-01-02T24:04:05",
        "2024-01-02T03:60:05",
        "2024-01-02T03:04:60",
        "2024-01-02T03:04:xx",
        "abcd-01-02T03:04:05",
    ] {
        assert_eq!(p(bad), Err(Error::Rc(Rc::Inval)), "{bad}");
    }
}

#[test]
fn datetime_set_bad_input_is_rc3_and_rtc_refusal_is_err5() {
    let mut rig = Rig::new();
    let mut set = heapless::Vec::<u8, 64>::new();
    set.push(0xa1).unwrap();
    set.extend_from_slice(&cbor_str("datetime")).unwrap();
    set.extend_from_slice(&cbor_str("2024-02-29")).unwrap();
    assert_eq!(&rig.req(2, 4, &set)[..], RC3);
    assert_eq!(&rig.req(2, 4, &[0xbf, 0xff])[..], RC3);
}

#[test]
fn reset_decodes_force_and_ignores_bad_payloads() {
    let mut rig = Rig::new();
    let mut req = heapless::Vec::<u8, 32>::new();
    req.push(0xa2).unwrap();
    req.extend_from_slice(&cbor_str("force")).unwrap();
    req.push(0xf5).unwrap();
    req.extend_from_slice(&cbor_str("boot_mode")).unwrap();
    req.push(0x01).unwrap();
    assert_eq!(&rig.req(2, 5, &req)[..], &[0xbf, 0xff]);
    assert_eq!(
        rig.os.platform().reset,
        Some(ResetRequest {
            force: true,
            boot_mode: 1
        })
    );
    // empty payload (as mcumgr-client-wrapper sends): reset with defaults
    assert_eq!(&rig.req(2, 5, &[])[..], &[0xbf, 0xff]);
    assert_eq!(rig.os.platform().reset, Some(ResetRequest::default()));
    // force of the wrong type: ignored, defaults used
    let mut req = heapless::Vec::<u8, 32>::new();
    req.push(0xa1).unwrap();
    req.extend_from_slice(&cbor_str("force")).unwrap();
    req.push(0x01).unwrap();
    assert_eq!(&rig.req(2, 5, &req)[..], &[0xbf, 0xff]);
    assert_eq!(rig.os.platform().reset, Some(ResetRequest::default()));
    // boot_mode is a uint32 there: above 255 is rc 3 and no reset
    rig.os.platform_mut().reset = None;
    let req = body(|e| {
        e.str("boot_mode")?.u32(256)?;
        Ok(())
    });
    assert_eq!(&rig.req(2, 5, &req)[..], RC3);
    assert_eq!(rig.os.platform().reset, None);
    // what decoded before a bad value is kept (zcbor_map_decode_bulk): boot_mode 2
    let req = body(|e| {
        e.str("boot_mode")?.u8(2)?.str("force")?.u8(1)?;
        Ok(())
    });
    assert_eq!(&rig.req(2, 5, &req)[..], &[0xbf, 0xff]);
    assert_eq!(
        rig.os.platform().reset,
        Some(ResetRequest {
            force: false,
            boot_mode: 2
        })
    );
    // the platform may refuse
    rig.os.platform_mut().refuse_reset = Some(Error::Rc(Rc::Busy));
    assert_eq!(
        &rig.req(2, 5, &[0xbf, 0xff])[..],
        &[0xbf, 0x62, b'r', b'c', 0x0a, 0xff]
    );
    // read is not a reset
    assert_eq!(&rig.req(0, 5, &[0xbf, 0xff])[..], RC8);
}

#[test]
fn info_formats() {
    let mut rig = Rig::new();
    let mut info = |fmt: Option<&str>| {
        let mut req = heapless::Vec::<u8, 64>::new();
        match fmt {
            Some(f) => {
                req.push(0xa1).unwrap();
                req.extend_from_slice(&cbor_str("format")).unwrap();
                req.extend_from_slice(&cbor_str(f)).unwrap();
            }
            None => req.push(0xa0).unwrap(),
        }
        let rsp = rig.req(0, 7, &req);
        let mut out = heapless::String::<256>::new();
        crate::cbor::for_each_entry(&rsp, |k, d| {
            if k == "output" {
                out.push_str(d.str()?).unwrap();
                Ok(true)
            } else {
                Ok(false)
            }
        })
        .map(|_| out)
        .map_err(|_| ())
    };
    assert_eq!(info(None).unwrap(), "Zephyr");
    assert_eq!(info(Some("")).unwrap(), "Zephyr");
    assert_eq!(
        info(Some("a")).unwrap(),
        "Zephyr unknown unknown 4.2.0 arm cortex-m4 nrf52840dk/nrf52840 Zephyr"
    );
    assert_eq!(info(Some("iss")).unwrap(), "Zephyr nrf52840dk/nrf52840");
    assert_eq!(info(Some("vm")).unwrap(), "4.2.0 arm");
    // unknown character, or `b` without build date: OS error 2
    assert_eq!(info(Some("sq")).unwrap(), "");
    let rsp = rig.req(
        0,
        7,
        &[0xa1, 0x66, b'f', b'o', b'r', b'm', b'a', b't', 0x61, b'b'],
    );
    assert_eq!(&rsp[..], &os_err(2));
}

#[test]
fn info_overflow_is_rc7() {
    let mut rig = Rig::new();
    rig.os.config.info_max = 32;
    let rsp = rig.req(
        0,
        7,
        &[0xa1, 0x66, b'f', b'o', b'r', b'm', b'a', b't', 0x61, b'a'],
    );
    assert_eq!(&rsp[..], &[0xbf, 0x62, b'r', b'c', 0x07, 0xff]);
}

#[test]
fn bootloader_info_queries() {
    let mut rig = Rig::new();
    let mut want = heapless::Vec::<u8, 64>::new();
    want.push(0xbf).unwrap();
    want.extend_from_slice(&cbor_str("bootloader")).unwrap();
    want.extend_from_slice(&cbor_str("MCUboot")).unwrap();
    want.push(0xff).unwrap();
    assert_eq!(&rig.req(0, 8, &[0xbf, 0xff])[..], &want[..]);
    let mut q = heapless::Vec::<u8, 64>::new();
    q.push(0xa1).unwrap();
    q.extend_from_slice(&cbor_str("query")).unwrap();
    q.extend_from_slice(&cbor_str("mode")).unwrap();
    assert_eq!(
        &rig.req(0, 8, &q)[..],
        &[0xbf, 0x64, b'm', b'o', b'd', b'e', 0x01, 0xff]
    );
    let mut q2 = heapless::Vec::<u8, 64>::new();
    q2.push(0xa1).unwrap();
    q2.extend_from_slice(&cbor_str("query")).unwrap();
    q2.extend_from_slice(&cbor_str("other")).unwrap();
    // A group error, {"err": {"group": 0, "rc": 3}}.
    assert_eq!(
        &rig.req(0, 8, &q2)[..],
        &crate::testing::hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 00 62 72 63 03 ff ff")[..]
    );
}

/// Zephyr's `os_mgmt_bootloader_info` (os_mgmt.c, DDC-NDRS/zephyr_rtos @1b84dc8d): a query
/// with no answer is `smp_add_cmd_err(zse, MGMT_GROUP_ID_OS,
/// OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER)`, which SMP v1 gets translated to ENOENT (5).
#[test]
fn bootloader_info_unanswered_query_is_a_group_error_and_enoent_in_v1() {
    use crate::testing::hex;
    let mut os = OsGroup::new(FakeOs::default(), Config::default());
    let mut client: Client<'_, 1> = Client::with(&mut os);
    // v2 read, group 0, seq 7, id 8: {"query": "x"}
    let v2 = hex("08 00 00 09 00 00 07 08 a1 65 71 75 65 72 79 61 78");
    assert_eq!(
        client.exchange(&v2),
        hex("09 00 00 13 00 00 07 08 bf 63 65 72 72 bf 65 67 72 6f 75 70 00 62 72 63 03 ff ff")
    );
    let v1 = hex("00 00 00 09 00 00 07 08 a1 65 71 75 65 72 79 61 78");
    assert_eq!(
        client.exchange(&v1),
        hex("01 00 00 06 00 00 07 08 bf 62 72 63 05 ff")
    );
}

#[test]
fn params_and_v1_translation() {
    let mut rig = Rig::new();
    let rsp = rig.req(0, 6, &[]);
    assert_eq!(rsp[0], 0xbf); // params ignores its (empty) payload
    assert_eq!(v1_rc(2), Rc::Inval);
    assert_eq!(v1_rc(3), Rc::NoEnt);
    assert_eq!(v1_rc(4), Rc::NoEnt);
    assert_eq!(v1_rc(6), Rc::NoEnt);
    assert_eq!(v1_rc(7), Rc::NoEnt);
    for rc in [1, 5, 99] {
        assert_eq!(v1_rc(rc), Rc::Unknown);
    }
}

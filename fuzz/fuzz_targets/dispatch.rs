//! Whole dispatch over fake platforms: any receive buffer gives responses or silence, never a
//! panic, and every response is a well-formed SMP packet that fits the buffer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smp::groups::os::OsGroup;
use smp::server::{Config, Meta, Params, Server};
use smp::testing::FakeOs;

fuzz_target!(|data: &[u8]| {
    let mut os = OsGroup::new(FakeOs::default(), Default::default());
    let mut server: Server<'_, 4> = Server::new(Config {
        params: Params {
            buf_size: 512,
            buf_count: 2,
        },
        support_v1: true,
    });
    server.register(&mut os).unwrap();
    let mut tx = [0u8; 512];
    server.process(Meta::default(), data, &mut tx, |rsp| {
        assert!(rsp.len() >= 8 && rsp.len() <= 512);
        let len = u16::from_be_bytes([rsp[2], rsp[3]]) as usize;
        assert_eq!(len + 8, rsp.len());
        assert!(rsp[0] & 0x07 == 1 || rsp[0] & 0x07 == 3);
    });
});

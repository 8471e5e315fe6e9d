//! Throughput of the request path and the serial codec. Prints figures; asserts nothing.
//!
//! Run with `cargo bench -p smp`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use smp::codec::serial;
use smp::groups::os::OsGroup;
use smp::server::{Config, Meta, Params, Server};
use smp::testing::FakeOs;

fn measure(name: &str, bytes_per_iter: usize, mut f: impl FnMut()) {
    // Warm up, then run for about half a second.
    for _ in 0..1000 {
        f();
    }
    let mut iters = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(500) {
        for _ in 0..1000 {
            f();
        }
        iters += 1000;
    }
    let per = start.elapsed().as_secs_f64() / iters as f64;
    let mbps = bytes_per_iter as f64 / per / 1e6;
    println!("{name:<40} {:>10.1} ns/iter {:>10.1} MB/s", per * 1e9, mbps);
}

fn echo_request(len: usize) -> Vec<u8> {
    let mut body = vec![0xbf, 0x61, b'd', 0x79];
    body.extend_from_slice(&(len as u16).to_be_bytes());
    body.extend(std::iter::repeat_n(b'x', len));
    body.push(0xff);
    let mut pkt = vec![0x0a, 0, 0, 0, 0, 0, 1, 0];
    pkt[2..4].copy_from_slice(&(body.len() as u16).to_be_bytes());
    pkt.extend_from_slice(&body);
    pkt
}

fn main() {
    let mut os = OsGroup::new(FakeOs::default(), Default::default());
    let mut server: Server<'_, 4> = Server::new(Config {
        params: Params {
            buf_size: 2048,
            buf_count: 4,
        },
        support_v1: true,
    });
    server.register(&mut os).unwrap();
    let mut tx = vec![0u8; 2048];
    for len in [16usize, 256, 1900] {
        let req = echo_request(len);
        measure(
            &format!("dispatch echo, {len}-byte string"),
            req.len(),
            || {
                server.process(Meta::default(), black_box(&req), &mut tx, |r| {
                    black_box(r);
                });
            },
        );
    }
    let params = [0x08u8, 0, 0, 2, 0, 0, 1, 6, 0xbf, 0xff];
    measure("dispatch mcumgr params", params.len(), || {
        server.process(Meta::default(), black_box(&params), &mut tx, |r| {
            black_box(r);
        });
    });

    let packet = echo_request(1900);
    let mut lines = Vec::new();
    serial::encode(&packet, |l| lines.extend_from_slice(l));
    measure("serial encode, 1.9 KB packet", packet.len(), || {
        serial::encode(black_box(&packet), |l| {
            black_box(l);
        });
    });
    let mut dec = serial::Decoder::new(vec![0u8; 2048]);
    measure("serial decode, 1.9 KB packet", packet.len(), || {
        for &b in black_box(&lines) {
            if dec.push(b) == serial::Event::Packet {
                black_box(dec.packet());
            }
        }
    });
}

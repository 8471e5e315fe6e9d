//! Writes the seed corpora of every fuzz target into `fuzz/seeds/<target>/` (replacing what
//! is there): valid requests of every command of every group, sessions that span several
//! packets (an image upload in chunks followed by a test and a confirm, a file upload in
//! two chunks, one resumed after the idle timeout), the test images of
//! `crates/smp/tests/data`, trailers in every swap state, and the same requests as serial
//! console lines mixed with shell text.
//!
//! Before writing, every dispatch seed is run through the same checks the targets make, and
//! every response to it must be a success (no `rc`, no `err`), in SMP v2 and in SMP v1:
//! a seed that stopped being valid (a group changed) fails here instead of silently
//! starting the fuzzer shallow.
//!
//! Run: `cargo run --manifest-path fuzz/seedgen/Cargo.toml` (from anywhere).

#[allow(dead_code)]
#[path = "../../src/lib.rs"]
mod smp_fuzz;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minicbor::encode::write::EndOfSlice;
use sha2::{Digest, Sha256};
use smp::codec::serial::encode;
use smp::mcuboot::image;
use smp::mcuboot::trailer::{self, Layout};
use smp::mcuboot::{Bytes, Version};
use smp::platform::SharedFlash;
use smp::server::Enc;
use smp::testing::{body, build_image, packet, RamFlash};

type EncResult = Result<(), minicbor::encode::Error<EndOfSlice>>;

/// One SMP v2 request: `write` picks op 2 over op 0.
fn req(write: bool, group: u16, id: u8, f: impl FnOnce(&mut Enc<'_>) -> EncResult) -> Vec<u8> {
    let op_ver = if write { 0x0a } else { 0x08 };
    packet(op_ver, group, id.wrapping_mul(7), id, &body(f)).to_vec()
}

fn empty(write: bool, group: u16, id: u8) -> Vec<u8> {
    req(write, group, id, |_| Ok(()))
}

/// A record of the dispatch input format: `ctrl`, then the buffer with its length.
fn record(ctrl: u8, buf: &[u8]) -> Vec<u8> {
    let mut r = vec![ctrl];
    r.extend_from_slice(&(buf.len() as u16).to_be_bytes());
    r.extend_from_slice(buf);
    r
}

/// A seed of one record per request, the clock advancing 250 ms before each.
fn session(reqs: &[Vec<u8>]) -> Vec<u8> {
    reqs.iter().flat_map(|r| record(1, r)).collect()
}

/// The image uploaded by the seeds: version 2.0.0, three chunks long.
fn upload_image() -> Vec<u8> {
    let mut b = vec![0u8; smp_fuzz::SLOT];
    let n = build_image(&mut b, Version::parse("2.0.0").unwrap(), 1000, 0x42);
    b.truncate(n);
    b
}

/// The upload requests of `img` to `image` (None: the default), 400 bytes a chunk.
fn upload(img: &[u8], image: Option<u32>) -> Vec<Vec<u8>> {
    let sha: [u8; 32] = Sha256::digest(img).into();
    img.chunks(400)
        .enumerate()
        .map(|(i, c)| {
            req(true, 1, 1, |e| {
                if i == 0 {
                    if let Some(n) = image {
                        e.str("image")?.u32(n)?;
                    }
                    e.str("len")?.u32(img.len() as u32)?;
                    e.str("sha")?.bytes(&sha)?;
                }
                e.str("off")?.u32((i * 400) as u32)?;
                e.str("data")?.bytes(c)?;
                Ok(())
            })
        })
        .collect()
}

fn dispatch_seeds() -> BTreeMap<&'static str, Vec<u8>> {
    let mut s = BTreeMap::new();
    let img = upload_image();
    let hash = image::inspect(&mut Bytes(&img)).unwrap().hash;

    s.insert(
        "os",
        session(&[
            req(true, 0, 0, |e| e.str("d")?.str("hello").map(|_| ())),
            req(false, 0, 0, |e| e.str("d")?.str("hi").map(|_| ())),
            empty(false, 0, 2),
            empty(false, 0, 3),
            req(true, 0, 4, |e| {
                e.str("datetime")?.str("2024-02-29T23:59:59").map(|_| ())
            }),
            empty(false, 0, 4),
            empty(false, 0, 6),
            req(false, 0, 7, |e| e.str("format")?.str("snvmpio").map(|_| ())),
            empty(false, 0, 7),
            empty(false, 0, 8),
            req(false, 0, 8, |e| e.str("query")?.str("mode").map(|_| ())),
            req(true, 0, 5, |e| e.str("force")?.bool(true).map(|_| ())),
        ]),
    );
    let mut upload_test = upload(&img, None);
    upload_test.extend([
        empty(false, 1, 0),
        req(true, 1, 0, |e| e.str("hash")?.bytes(&hash).map(|_| ())),
        empty(false, 1, 0),
        empty(false, 1, 6),
    ]);
    s.insert("img_upload_test", session(&upload_test));
    let mut upload_perm = upload(&img, Some(1));
    upload_perm.extend([
        req(true, 1, 0, |e| {
            e.str("hash")?.bytes(&hash)?.str("confirm")?.bool(true)?;
            Ok(())
        }),
        empty(false, 1, 0),
    ]);
    s.insert("img_upload_perm", session(&upload_perm));
    let mut upload_erase = upload(&img, None);
    upload_erase.extend([
        req(true, 1, 5, |e| e.str("slot")?.u32(1).map(|_| ())),
        empty(true, 1, 5),
        empty(false, 1, 0),
    ]);
    s.insert("img_upload_erase", session(&upload_erase));
    s.insert(
        "img_state",
        session(&[
            empty(false, 1, 0),
            empty(false, 1, 6),
            req(true, 1, 0, |e| e.str("confirm")?.bool(true).map(|_| ())),
        ]),
    );
    s.insert(
        "stat",
        session(&[
            req(false, 2, 0, |e| {
                e.str("name")?.str("smp_svr_stats").map(|_| ())
            }),
            req(false, 2, 0, |e| e.str("name")?.str("big").map(|_| ())),
            empty(false, 2, 1),
        ]),
    );
    s.insert(
        "settings",
        session(&[
            req(true, 3, 0, |e| {
                e.str("name")?.str("foo/x")?.str("val")?.bytes(b"12")?;
                Ok(())
            }),
            req(false, 3, 0, |e| e.str("name")?.str("foo/x").map(|_| ())),
            req(false, 3, 0, |e| {
                e.str("name")?.str("foo/x")?.str("max_size")?.u32(8)?;
                Ok(())
            }),
            empty(true, 3, 2),
            empty(false, 3, 3),
            empty(true, 3, 3),
            req(true, 3, 3, |e| e.str("name")?.str("foo").map(|_| ())),
            req(true, 3, 1, |e| e.str("name")?.str("foo/x").map(|_| ())),
        ]),
    );
    let fs_chunk = |off: u32, data: &[u8]| {
        req(true, 8, 0, |e| {
            e.str("name")?.str("/lfs1/b")?.str("off")?.u32(off)?;
            if off == 0 {
                e.str("len")?.u32(6)?;
            }
            e.str("data")?.bytes(data)?;
            Ok(())
        })
    };
    let fs_read = |id: u8, f: &dyn Fn(&mut Enc<'_>) -> EncResult| {
        req(false, 8, id, |e| {
            e.str("name")?.str("/lfs1/a")?;
            f(e)
        })
    };
    s.insert(
        "fs",
        session(&[
            fs_chunk(0, b"abc"),
            fs_chunk(3, b"def"),
            fs_read(0, &|e| e.str("off")?.u32(0).map(|_| ())),
            fs_read(0, &|e| e.str("off")?.u32(4).map(|_| ())),
            fs_read(1, &|_| Ok(())),
            fs_read(2, &|e| e.str("type")?.str("sha256").map(|_| ())),
            fs_read(2, &|e| {
                e.str("type")?.str("crc32")?.str("off")?.u32(2)?;
                e.str("len")?.u32(4)?;
                Ok(())
            }),
            empty(false, 8, 3),
            fs_chunk(0, b"xy"),
            empty(true, 8, 4),
        ]),
    );
    // An upload abandoned by the idle timeout (5 s) and resumed where the device says.
    let mut fs_resume = record(0, &fs_chunk(0, b"abc"));
    fs_resume.extend(record(0x40 | 20, &fs_read(1, &|_| Ok(()))));
    fs_resume.extend(record(1, &fs_chunk(3, b"def")));
    s.insert("fs_resume", fs_resume);
    s.insert(
        "shell",
        session(&[
            req(true, 9, 0, |e| {
                e.str("argv")?
                    .begin_array()?
                    .str("echo")?
                    .str("hi")?
                    .end()?;
                Ok(())
            }),
            req(true, 9, 0, |e| {
                e.str("argv")?
                    .array(2)?
                    .str("kernel")?
                    .str("uptime")
                    .map(|_| ())
            }),
        ]),
    );
    s.insert(
        "enum",
        session(&[
            empty(false, 10, 0),
            empty(false, 10, 1),
            empty(false, 10, 2),
            req(false, 10, 2, |e| e.str("index")?.u32(7).map(|_| ())),
            empty(false, 10, 3),
            req(false, 10, 3, |e| {
                e.str("groups")?.begin_array()?.u8(8)?.u8(9)?.end()?;
                Ok(())
            }),
        ]),
    );
    s.insert("basic", session(&[empty(true, 63, 0)]));
    // Several messages in one receive buffer, then a poll.
    let multi: Vec<u8> = [empty(false, 10, 0), empty(false, 0, 6), empty(false, 2, 1)].concat();
    s.insert("multi", record(0x40, &multi));
    let all: Vec<u8> = s.values().flatten().copied().collect();
    s.insert("all", all);
    s
}

/// Checks that every response to `seed` is a success, in SMP v2 and v1.
fn check_dispatch_seed(name: &str, seed: &[u8]) {
    for v1 in [false, true] {
        let mut n = 0;
        smp_fuzz::run_dispatch_with(seed, v1, &mut |req, rsp| {
            let mut d = minicbor::Decoder::new(&rsp[8..]);
            smp_fuzz::map_entries(&mut d, 0, &mut |k, d| {
                assert!(
                    k != "rc" && k != "err",
                    "seed {name} (v1: {v1}): group {} id {} answered {:02x?}",
                    req.group,
                    req.id,
                    &rsp[8..]
                );
                smp_fuzz::item(d, 1);
            });
            n += 1;
        });
        assert!(n > 0, "seed {name} got no response");
    }
}

fn image_seeds(data: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut s = BTreeMap::new();
    for e in std::fs::read_dir(data).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "bin") {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            s.insert(name, std::fs::read(&p).unwrap());
        }
    }
    let mut img = upload_image();
    img.resize(smp_fuzz::SLOT, 0xff);
    s.insert("built".into(), img);
    s
}

/// Trailer target seeds: a layout byte, then the last 128 bytes of both slots, then
/// operations (one of each).
fn trailer_seeds() -> BTreeMap<String, Vec<u8>> {
    const S: usize = 2048;
    type F = RamFlash<S, 8, 256>;
    let mut s = BTreeMap::new();
    let ops = [0u8, 2, 4, 1, 3, 5, 0, 1, 2];
    for (sel, align) in [(0u8, 8u32), (1, 16), (2, 32)] {
        let l = Layout {
            max_align: align,
            erased: 0xff,
        };
        type Setup<'a> = &'a dyn Fn(&mut SharedFlash<F>, &mut SharedFlash<F>);
        let cases: [(&str, Setup<'_>); 4] = [
            ("erased", &|_, _| {}),
            ("test", &|_, sec| {
                trailer::set_next(sec, &l, 0, false, false).unwrap()
            }),
            ("perm", &|_, sec| {
                trailer::set_next(sec, &l, 0, false, true).unwrap()
            }),
            ("revert", &|pri, _| {
                trailer::write_magic(pri, &l).unwrap();
                trailer::write_copy_done(pri, &l).unwrap();
                trailer::write_swap_size(pri, &l, 0x1234).unwrap();
            }),
        ];
        for (name, setup) in cases {
            let cells: [core::cell::RefCell<F>; 2] = Default::default();
            setup(&mut SharedFlash(&cells[0]), &mut SharedFlash(&cells[1]));
            let mut seed = vec![sel];
            for c in &cells {
                seed.extend_from_slice(&c.borrow().as_bytes()[S - 128..]);
            }
            seed.extend_from_slice(&ops);
            s.insert(format!("{name}_{align}"), seed);
        }
    }
    s
}

/// Console seeds: the dispatch seeds' requests as serial lines, with shell text between.
fn console_seeds(dispatch: &BTreeMap<&'static str, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    let mut s = BTreeMap::new();
    for (name, seed) in dispatch {
        if *name == "all" {
            continue;
        }
        let mut out = b"kernel uptime\r\n".to_vec();
        for (_, buf) in smp_fuzz::records(seed) {
            encode(buf, |l| out.extend_from_slice(l));
            out.extend_from_slice(b"echo x\x08y\n");
        }
        s.insert(name.to_string(), out);
    }
    s.insert(
        "text".into(),
        b"help\r\nkernel uptime\necho a b\x7f\x7fc\r\n\x06x\x04\n".to_vec(),
    );
    s
}

fn write_dir<K: AsRef<str>>(root: &Path, target: &str, seeds: &BTreeMap<K, Vec<u8>>) {
    let dir = root.join(target);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, data) in seeds {
        std::fs::write(dir.join(name.as_ref()), data).unwrap();
    }
    println!("{target}: {} seeds", seeds.len());
}

/// The response checks are not vacuous: a good response passes, and each of a few broken
/// copies of it (header length, sequence, an `err` in a v1 reply, a truncated map) fails.
fn check_the_checks() {
    let echo = req(true, 0, 0, |e| e.str("d")?.str("hello").map(|_| ()));
    let mut rsp = Vec::new();
    smp_fuzz::run_dispatch_with(&record(0, &echo), false, &mut |_, r| rsp = r.to_vec());
    let h =
        smp::wire::HeaderRepr::parse(&smp::wire::Header::new_checked(&echo[..]).unwrap()).unwrap();
    smp_fuzz::check_response(&h, &rsp, smp_fuzz::BUF_SIZE);
    let mut v1 = h;
    v1.version = smp::wire::Version::V1;
    let mut v1_err =
        hex_rsp("03 00 00 13 00 00 00 00 bf 63 65 72 72 bf 65 67 72 6f 75 70 01 62 72 63 01 ff ff");
    v1_err[6] = h.seq;
    // The same `err` in an SMP v2 reply is fine.
    let mut v2_err = v1_err.clone();
    v2_err[0] = 0x0b;
    smp_fuzz::check_response(&h, &v2_err, smp_fuzz::BUF_SIZE);
    let broken: [(smp::wire::HeaderRepr, Vec<u8>); 4] = [
        (h, {
            let mut r = rsp.clone();
            r[3] += 1;
            r
        }),
        (h, {
            let mut r = rsp.clone();
            r[6] ^= 1;
            r
        }),
        (v1, v1_err),
        (h, {
            let mut r = rsp[..rsp.len() - 1].to_vec();
            r[3] -= 1;
            r
        }),
    ];
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for (i, (req, r)) in broken.iter().enumerate() {
        let caught =
            std::panic::catch_unwind(|| smp_fuzz::check_response(req, r, smp_fuzz::BUF_SIZE));
        assert!(caught.is_err(), "broken response {i} passed the checks");
    }
    std::panic::set_hook(hook);
}

fn hex_rsp(s: &str) -> Vec<u8> {
    smp::testing::hex(s).to_vec()
}

fn main() {
    check_the_checks();
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = fuzz.join("seeds");
    let dispatch = dispatch_seeds();
    for (name, seed) in &dispatch {
        if *name == "all" {
            // Its sessions meet (a second upload finds the first one pending): only the
            // targets' own checks apply.
            smp_fuzz::run_dispatch(seed, false);
            smp_fuzz::run_dispatch(seed, true);
        } else {
            check_dispatch_seed(name, seed);
        }
    }
    write_dir(&root, "dispatch", &dispatch);
    write_dir(&root, "dispatch_v1", &dispatch);
    write_dir(
        &root,
        "image",
        &image_seeds(&fuzz.join("../crates/smp/tests/data")),
    );
    write_dir(&root, "trailer", &trailer_seeds());
    let console = console_seeds(&dispatch);
    write_dir(&root, "console", &console);
    // The serial codec: every request as lines (the decoder's input), and bare (the
    // round trip's).
    let mut serial: BTreeMap<String, Vec<u8>> = console.clone();
    for (name, seed) in &dispatch {
        if let Some((_, buf)) = smp_fuzz::records(seed).next() {
            serial.insert(format!("{name}_packet"), buf.to_vec());
        }
    }
    write_dir(&root, "serial", &serial);
}

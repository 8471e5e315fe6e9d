//! FS group tests: byte vectors per command, and the transfer-context rules.

use super::*;
use crate::server::{Config as ServerConfig, Meta, Params, Server};
use crate::testing::{body, exchange, hex, packet, rsp_body, Bytes, MemFs};

const W2: u8 = 0x0a;
const R2: u8 = 0x08;

fn run(g: &mut FsGroup<MemFs>, meta: Meta, req: &[u8]) -> Bytes {
    let mut s: Server<'_, 1> = Server::new(ServerConfig::default());
    s.register(g).unwrap();
    exchange(&mut s, meta, req)
}

fn at(ms: u64) -> Meta {
    Meta {
        transport: 0,
        now_ms: ms,
    }
}

fn up(name: &str, off: u64, data: &[u8], len: Option<u64>) -> Bytes {
    let b = body(|e| {
        e.str("name")?
            .str(name)?
            .str("off")?
            .u64(off)?
            .str("data")?
            .bytes(data)?;
        if let Some(l) = len {
            e.str("len")?.u64(l)?;
        }
        Ok(())
    });
    packet(W2, 8, 1, 0, &b)
}

fn down(name: &str, off: u64) -> Bytes {
    let b = body(|e| {
        e.str("name")?.str(name)?.str("off")?.u64(off)?;
        Ok(())
    });
    packet(R2, 8, 2, 0, &b)
}

fn group_with(files: &[(&str, &[u8])]) -> FsGroup<MemFs> {
    FsGroup::new(MemFs::with_files(files), Config::default())
}

#[test]
fn tv4_supported_hash_types() {
    let mut g = group_with(&[]);
    let rsp = run(&mut g, at(0), &hex("00 00 00 02 00 08 01 03 bf ff"));
    assert_eq!(
        rsp,
        hex(
            "01 00 00 38 00 08 01 03 bf 65 74 79 70 65 73 bf 65 63 72 63 33 32 bf 66 66 6f 72 6d 61
             74 00 64 73 69 7a 65 04 ff 66 73 68 61 32 35 36 bf 66 66 6f 72 6d 61 74 01 64 73 69 7a
             65 18 20 ff ff ff"
        )
    );
}

#[test]
fn upload_in_chunks_publishes_its_content_when_complete() {
    let mut g = group_with(&[("/lfs1/a", b"old")]);
    // {"name":"/lfs1/a","off":0,"data":h'616263',"len":6} -> {"off":3}
    let req = hex(
        "0a 00 00 22 00 08 01 00 bf 64 6e 61 6d 65 67 2f 6c 66 73 31 2f 61 63 6f 66 66 00
         64 64 61 74 61 43 61 62 63 63 6c 65 6e 06 ff",
    );
    assert_eq!(req, up("/lfs1/a", 0, b"abc", Some(6)));
    let rsp = run(&mut g, at(0), &req);
    assert_eq!(rsp, hex("0b 00 00 07 00 08 01 00 bf 63 6f 66 66 03 ff"));
    assert_eq!(
        g.fs().get("/lfs1/a"),
        Some(&b"old"[..]),
        "the file as last synced, as LittleFS shows it while it is open"
    );
    assert!(g.is_open());
    let rsp = run(&mut g, at(10), &up("/lfs1/a", 3, b"def", None));
    assert_eq!(rsp, hex("0b 00 00 07 00 08 01 00 bf 63 6f 66 66 06 ff"));
    assert_eq!(g.fs().get("/lfs1/a"), Some(&b"abcdef"[..]));
    assert!(!g.is_open(), "finished transfer closes at once");
    assert_eq!(g.fs().open_handles, 0);
}

#[test]
fn upload_offset_mismatch_carries_err_and_len() {
    let mut g = group_with(&[]);
    run(&mut g, at(0), &up("/lfs1/a", 0, b"abc", Some(9)));
    let rsp = run(&mut g, at(1), &up("/lfs1/a", 5, b"xyz", None));
    // {"err":{"group":8,"rc":11},"len":3}
    assert_eq!(
        rsp,
        hex(
            "0b 00 00 18 00 08 01 00 bf 63 65 72 72 bf 65 67 72 6f 75 70 08 62 72 63 0b ff
             63 6c 65 6e 03 ff"
        )
    );
    // v1: translated to rc 1, other keys dropped.
    let mut req = up("/lfs1/a", 5, b"xyz", None);
    req[0] = 0x02;
    assert_eq!(
        run(&mut g, at(2), &req),
        hex("03 00 00 06 00 08 01 00 bf 62 72 63 01 ff")
    );
    // The mismatch closed the context, keeping what was written; the client resumes at the
    // offset it was told, on a fresh context that continues at the file's size. Its total
    // length is gone with the old context (as Zephyr's), so it ends when idle.
    assert!(!g.is_open());
    assert_eq!(g.fs().get("/lfs1/a"), Some(&b"abc"[..]));
    let rsp = run(&mut g, at(3), &up("/lfs1/a", 3, b"defghi", None));
    assert_eq!(rsp_body(&rsp), hex("bf 63 6f 66 66 09 ff"));
    g.poll(4003);
    assert_eq!(g.fs().get("/lfs1/a"), Some(&b"abcdefghi"[..]));
}

/// Zephyr's `fs_mgmt_cleanup` (subsys/mgmt/mcumgr/grp/fs_mgmt/src/fs_mgmt.c
/// @0014f3dc4dda) closes the file of an abandoned transfer, which LittleFS syncs: what was
/// written is kept (idle timeout, write error).
#[test]
fn abandoned_upload_keeps_what_was_written() {
    let mut g = group_with(&[("/lfs1/cfg", b"good")]);
    run(&mut g, at(0), &up("/lfs1/cfg", 0, b"ba", Some(10)));
    // idle for 4 s: closed, the chunk written so far kept
    g.poll(4000);
    assert!(!g.is_open());
    assert_eq!(g.fs().get("/lfs1/cfg"), Some(&b"ba"[..]));
    // a write error mid-way keeps the chunks written before it
    run(&mut g, at(5000), &up("/lfs1/cfg", 0, b"xy", Some(10)));
    g.fs_mut().fail_write = true;
    let rsp = run(&mut g, at(5001), &up("/lfs1/cfg", 2, b"d", None));
    assert_eq!(
        rsp_body(&rsp),
        hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 08 62 72 63 0a ff ff")
    );
    assert!(!g.is_open());
    assert_eq!(g.fs().get("/lfs1/cfg"), Some(&b"xy"[..]));
    assert_eq!(g.fs().open_handles, 0);
}

#[test]
fn idle_close_uses_now_ms_and_resume_completes() {
    let mut g = group_with(&[]);
    run(&mut g, at(100), &up("/lfs1/b", 0, b"12", Some(4)));
    // 3999 ms later the context is still open
    run(&mut g, at(4099), &up("/lfs1/b", 2, b"", None));
    assert!(g.is_open());
    // 4000 ms after the last request it is closed by the next request of the group (which
    // syncs "12"); that request opens a context continuing at the file's size
    let rsp = run(&mut g, at(8099), &up("/lfs1/b", 2, b"34", None));
    assert_eq!(rsp_body(&rsp), hex("bf 63 6f 66 66 04 ff"));
    assert_eq!(g.fs().get("/lfs1/b"), Some(&b"12"[..]));
    run(&mut g, at(8100), &packet(W2, 8, 3, 4, &hex("bf ff")));
    assert_eq!(g.fs().get("/lfs1/b"), Some(&b"1234"[..]));
}

#[test]
fn context_is_bound_to_transport_path_and_direction() {
    let mut g = group_with(&[("/lfs1/x", b"0123456789")]);
    run(&mut g, at(0), &up("/lfs1/c", 0, b"ab", Some(4)));
    // another transport uploading the same path closes the first context
    let other = Meta {
        transport: 1,
        now_ms: 1,
    };
    let rsp = run(&mut g, other, &up("/lfs1/c", 0, b"zz", Some(4)));
    assert_eq!(rsp_body(&rsp), hex("bf 63 6f 66 66 02 ff"));
    // the first transport continues: that closes transport 1's context (keeping "zz"), and
    // a fresh context continues at the file's size
    let rsp = run(&mut g, at(2), &up("/lfs1/c", 2, b"cd", None));
    assert_eq!(rsp_body(&rsp), hex("bf 63 6f 66 66 04 ff"));
    assert_eq!(g.fs().get("/lfs1/c"), Some(&b"zz"[..]));
    // a download in between closes an upload, keeping what it wrote
    run(&mut g, at(3), &up("/lfs1/d", 0, b"ab", Some(4)));
    assert_eq!(g.fs().get("/lfs1/c"), Some(&b"zzcd"[..]));
    run(&mut g, at(4), &down("/lfs1/x", 0));
    assert_eq!(g.fs().get("/lfs1/d"), Some(&b"ab"[..]));
    assert_eq!(
        g.fs().open_handles,
        0,
        "the upload was closed, the download finished"
    );
}

#[test]
fn close_command_commits_a_partial_upload() {
    let mut g = group_with(&[]);
    run(&mut g, at(0), &up("/lfs1/p", 0, b"part", Some(100)));
    let rsp = run(&mut g, at(1), &packet(W2, 8, 3, 4, &hex("bf ff")));
    assert_eq!(rsp, hex("0b 00 00 02 00 08 03 04 bf ff"));
    assert_eq!(g.fs().get("/lfs1/p"), Some(&b"part"[..]));
    // close with nothing open is fine; read op is rc 8
    assert_eq!(
        run(&mut g, at(2), &packet(W2, 8, 3, 4, &hex("bf ff"))),
        hex("0b 00 00 02 00 08 03 04 bf ff")
    );
    assert_eq!(
        run(&mut g, at(2), &packet(R2, 8, 3, 4, &hex("bf ff"))),
        hex("09 00 00 06 00 08 03 04 bf 62 72 63 08 ff")
    );
}

#[test]
fn empty_upload_creates_but_never_empties() {
    let mut g = group_with(&[("/lfs1/keep", b"data")]);
    run(&mut g, at(0), &up("/lfs1/keep", 0, b"", Some(0)));
    run(&mut g, at(1), &packet(W2, 8, 3, 4, &hex("bf ff")));
    assert_eq!(g.fs().get("/lfs1/keep"), Some(&b"data"[..]));
    run(&mut g, at(2), &up("/lfs1/new", 0, b"", Some(0)));
    run(&mut g, at(3), &packet(W2, 8, 3, 4, &hex("bf ff")));
    assert_eq!(g.fs().get("/lfs1/new"), Some(&b""[..]));
}

#[test]
fn upload_errors() {
    let err = |rc: u8| {
        let mut v = hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 08 62 72 63 00 ff ff");
        v[16] = rc;
        v
    };
    let mut g = group_with(&[]);
    g.fs_mut().mkdir("/lfs1/dir");
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &up("/data/a", 0, b"x", Some(1)))),
        err(14)
    );
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &up("/lfs1/../a", 0, b"x", Some(1)))),
        err(2)
    );
    // a directory: LittleFS's open answers -EISDIR, which fs_mgmt_file_upload maps to
    // FS_MGMT_ERR_UNKNOWN
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &up("/lfs1/dir", 0, b"x", Some(1)))),
        err(1)
    );
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &up("/lfs1/dir", 5, b"x", None))),
        err(1)
    );
    // resuming a file that does not exist: expected offset 0
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &up("/lfs1/new", 5, b"x", None))),
        hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 08 62 72 63 0b ff 63 6c 65 6e 00 ff")
    );
    g.fs_mut().read_only = true;
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &up("/lfs1/a", 0, b"x", Some(1)))),
        err(15)
    );
    // v1 translations: 14 -> 5, 2 -> 3
    let mut req = up("/data/a", 0, b"x", Some(1));
    req[0] = 0x02;
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &req)),
        hex("bf 62 72 63 05 ff")
    );
    let mut req = up("/lfs1/../a", 0, b"x", Some(1));
    req[0] = 0x02;
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &req)),
        hex("bf 62 72 63 03 ff")
    );
}

#[test]
fn malformed_requests_are_rc3() {
    let rc3 = hex("bf 62 72 63 03 ff");
    let mut g = group_with(&[("/lfs1/a", b"x")]);
    let cases: [Bytes; 6] = [
        // off == 0 without len
        up("/lfs1/a", 0, b"x", None),
        // empty name
        up("", 0, b"x", Some(1)),
        // name longer than 64 bytes
        up(
            &"/lfs1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"[..65],
            0,
            b"x",
            Some(1),
        ),
        // download without off
        packet(
            R2,
            8,
            0,
            0,
            &body(|e| {
                e.str("name")?.str("/lfs1/a")?;
                Ok(())
            }),
        ),
        // duplicate key
        packet(
            R2,
            8,
            0,
            0,
            &body(|e| {
                e.str("name")?
                    .str("/lfs1/a")?
                    .str("off")?
                    .u8(0)?
                    .str("off")?
                    .u8(0)?;
                Ok(())
            }),
        ),
        // empty payload
        packet(R2, 8, 0, 1, &[]),
    ];
    for (i, req) in cases.iter().enumerate() {
        assert_eq!(rsp_body(&run(&mut g, at(0), req)), rc3, "case {i}");
    }
}

#[test]
fn download_chunks_follow_the_buffer_size() {
    let mut data = [0u8; 500];
    for (i, b) in data.iter_mut().enumerate() {
        *b = i as u8;
    }
    let mut g = group_with(&[("/lfs1/big", &data)]);
    // default 384-byte buffer: chunks of 340
    let rsp = run(&mut g, at(0), &down("/lfs1/big", 0));
    let b = rsp_body(&rsp);
    // bf 63 "off" 00 64 "data" 59 01 54 <340 bytes> 63 "len" 19 01 f4 ff
    assert_eq!(&b[..13], &hex("bf 63 6f 66 66 00 64 64 61 74 61 59 01")[..]);
    assert_eq!(b[13], 0x54);
    assert_eq!(&b[14..354], &data[..340]);
    assert_eq!(&b[354..], &hex("63 6c 65 6e 19 01 f4 ff")[..]);
    // next chunk: no len, 160 bytes, and the transfer closes
    let rsp = run(&mut g, at(1), &down("/lfs1/big", 340));
    let b = rsp_body(&rsp);
    assert_eq!(&b[..12], &hex("bf 63 6f 66 66 19 01 54 64 64 61 74")[..]);
    assert_eq!(&b[12..15], &hex("61 58 a0")[..]);
    assert_eq!(&b[15..175], &data[340..]);
    assert_eq!(&b[175..], &[0xff]);
    assert!(!g.is_open());
    // a small buffer and the Kconfig cap both bound the chunk
    g.config.dl_chunk_max = Some(16);
    let rsp = run(&mut g, at(2), &down("/lfs1/big", 0));
    assert_eq!(rsp_body(&rsp)[11], 0x50, "16-byte bstr");
}

#[test]
fn download_small_file_exact_bytes() {
    let mut g = group_with(&[("/lfs1/t", b"hi")]);
    let rsp = run(&mut g, at(0), &down("/lfs1/t", 0));
    // {"off":0,"data":h'6869',"len":2}
    assert_eq!(
        rsp,
        hex("09 00 00 14 00 08 02 00 bf 63 6f 66 66 00 64 64 61 74 61 42 68 69 63 6c 65 6e 02 ff")
    );
    assert!(!g.is_open());
}

#[test]
fn download_errors() {
    let mut g = group_with(&[]);
    g.fs_mut().mkdir("/lfs1/dir");
    let err = |rc: u8| {
        let mut v = hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 08 62 72 63 00 ff ff");
        v[16] = rc;
        v
    };
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &down("/lfs1/none", 0))),
        err(3)
    );
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &down("/nomount/x", 0))),
        err(3)
    );
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &down("/lfs1/a/../b", 0))),
        err(2)
    );
    assert_eq!(rsp_body(&run(&mut g, at(0), &down("/lfs1/dir", 0))), err(4));
    g.fs_mut().put("/lfs1/r", b"abc");
    g.fs_mut().fail_read = true;
    assert_eq!(rsp_body(&run(&mut g, at(0), &down("/lfs1/r", 0))), err(7));
    assert_eq!(g.fs().open_handles, 0);
}

#[test]
fn file_status() {
    let mut g = group_with(&[("/lfs1/s", b"12345")]);
    let req = |n: &str, ov: u8| {
        packet(
            ov,
            8,
            0,
            1,
            &body(|e| {
                e.str("name")?.str(n)?;
                Ok(())
            }),
        )
    };
    assert_eq!(
        run(&mut g, at(0), &req("/lfs1/s", R2)),
        hex("09 00 00 07 00 08 00 01 bf 63 6c 65 6e 05 ff")
    );
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &req("/lfs1/q", R2))),
        hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 08 62 72 63 03 ff ff")
    );
    // v1: not found -> rc 5
    assert_eq!(
        run(&mut g, at(0), &req("/lfs1/q", 0x00)),
        hex("01 00 00 06 00 08 00 01 bf 62 72 63 05 ff")
    );
    // write op: not supported
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &req("/lfs1/s", W2))),
        hex("bf 62 72 63 08 ff")
    );
}

fn hash_req(name: &str, ty: Option<&str>, off: Option<u64>, len: Option<u64>) -> Bytes {
    packet(
        R2,
        8,
        0,
        2,
        &body(|e| {
            e.str("name")?.str(name)?;
            if let Some(t) = ty {
                e.str("type")?.str(t)?;
            }
            if let Some(o) = off {
                e.str("off")?.u64(o)?;
            }
            if let Some(l) = len {
                e.str("len")?.u64(l)?;
            }
            Ok(())
        }),
    )
}

#[test]
fn hash_crc32_and_sha256() {
    let mut g = group_with(&[("/lfs1/h", b"123456789"), ("/lfs1/abc", b"xxabc")]);
    // default type crc32: {"type":"crc32","len":9,"output":0xcbf43926}
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &hash_req("/lfs1/h", None, None, None))),
        hex(
            "bf 64 74 79 70 65 65 63 72 63 33 32 63 6c 65 6e 09 66 6f 75 74 70 75 74
             1a cb f4 39 26 ff"
        )
    );
    // sha256 of "abc" at off 2: {"type":"sha256","off":2,"len":3,"output":h'ba78...'}
    let want = hex(
        "bf 64 74 79 70 65 66 73 68 61 32 35 36 63 6f 66 66 02 63 6c 65 6e 03 66 6f 75 74 70
         75 74 58 20 ba 78 16 bf 8f 01 cf ea 41 41 40 de 5d ae 22 23 b0 03 61 a3 96 17 7a 9c
         b4 10 ff 61 f2 00 15 ad ff",
    );
    assert_eq!(
        rsp_body(&run(
            &mut g,
            at(0),
            &hash_req("/lfs1/abc", Some("sha256"), Some(2), None)
        )),
        want
    );
    // a len range: crc32 of "1234" = 0x9be3e0a3
    assert_eq!(
        rsp_body(&run(
            &mut g,
            at(0),
            &hash_req("/lfs1/h", Some("crc32"), None, Some(4))
        )),
        hex(
            "bf 64 74 79 70 65 65 63 72 63 33 32 63 6c 65 6e 04 66 6f 75 74 70 75 74
             1a 9b e3 e0 a3 ff"
        )
    );
}

#[test]
fn hash_errors() {
    let mut g = group_with(&[("/lfs1/h", b"123"), ("/lfs1/e", b"")]);
    let err = |rc: u8| {
        let mut v = hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 08 62 72 63 00 ff ff");
        v[16] = rc;
        v
    };
    let rc3 = hex("bf 62 72 63 03 ff");
    let r = |g: &mut FsGroup<MemFs>, req: Bytes| {
        Bytes::from_slice(rsp_body(&run(g, at(0), &req))).unwrap()
    };
    assert_eq!(
        r(&mut g, hash_req("/lfs1/h", Some("md5"), None, None)),
        err(13)
    );
    assert_eq!(
        r(&mut g, hash_req("/lfs1/h", Some("sha256sum"), None, None)),
        rc3
    );
    assert_eq!(r(&mut g, hash_req("/lfs1/h", None, None, Some(0))), rc3);
    assert_eq!(r(&mut g, hash_req("/lfs1/h", None, Some(3), None)), err(12));
    assert_eq!(r(&mut g, hash_req("/lfs1/e", None, None, None)), err(16));
    assert_eq!(r(&mut g, hash_req("/lfs1/n", None, None, None)), err(3));
    // A read failing mid-hash: rc 1 (MGMT_ERR_EUNKNOWN from Zephyr's hash functions), not
    // the download's 7.
    g.fs_mut().fail_read = true;
    assert_eq!(r(&mut g, hash_req("/lfs1/h", None, None, None)), err(1));
    assert_eq!(
        r(&mut g, hash_req("/lfs1/h", Some("sha256"), None, None)),
        err(1)
    );
    assert_eq!(g.fs().open_handles, 0);
    g.fs_mut().fail_read = false;
    // v1 translation of 13 is rc 3
    let mut req = hash_req("/lfs1/h", Some("md5"), None, None);
    req[0] = 0x00;
    assert_eq!(rsp_body(&run(&mut g, at(0), &req)), rc3);
    // with hashing compiled out the commands do not exist
    let mut g = FsGroup::<MemFs>::new(
        MemFs::default(),
        Config {
            crc32: false,
            sha256: false,
            ..Config::default()
        },
    );
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &hex("08 00 00 02 00 08 01 03 bf ff"))),
        hex("bf 62 72 63 08 ff")
    );
}

#[test]
fn download_chunk_with_large_params() {
    let data = [7u8; 3000];
    let mut g: FsGroup<MemFs> = group_with(&[("/lfs1/big", &data)]);
    let cfg = ServerConfig {
        params: Params {
            buf_size: 2048,
            buf_count: 2,
        },
        support_v1: true,
    };
    let mut s: Server<'_, 1> = Server::new(cfg);
    s.register(&mut g).unwrap();
    let rsp = exchange(&mut s, at(0), &down("/lfs1/big", 0));
    // chunk = min(2048 - 44, B = 1024)
    assert_eq!(&rsp_body(&rsp)[11..14], &hex("59 04 00")[..]);
}

#[test]
fn a_reset_loses_what_was_not_synced() {
    let mut g = group_with(&[("/lfs1/img", b"good")]);
    run(&mut g, at(0), &up("/lfs1/img", 0, b"abc", Some(6)));
    // the device resets with the file open: a new group over the same storage, which
    // holds the file as last synced (LittleFS: power lost before the close)
    let fs = core::mem::take(g.fs_mut());
    let mut g: FsGroup<MemFs> = FsGroup::new(fs, Config::default());
    assert_eq!(g.fs().get("/lfs1/img"), Some(&b"good"[..]));
    // the client continues at 3: the file has 4 bytes, {"err":{8, 11}, "len": 4}
    let rsp = run(&mut g, at(0), &up("/lfs1/img", 3, b"def", None));
    assert_eq!(
        rsp_body(&rsp),
        hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 08 62 72 63 0b ff 63 6c 65 6e 04 ff")
    );
    assert_eq!(g.fs().get("/lfs1/img"), Some(&b"good"[..]));
    assert!(!g.is_open());
}

#[test]
fn append_without_total_is_committed_when_idle() {
    let mut g = group_with(&[("/lfs1/log", b"one\n")]);
    // Zephyr: an upload starting at off > 0 appends to the existing file
    let rsp = run(&mut g, at(0), &up("/lfs1/log", 4, b"two\n", None));
    assert_eq!(rsp_body(&rsp), hex("bf 63 6f 66 66 08 ff"));
    assert_eq!(g.fs().get("/lfs1/log"), Some(&b"one\n"[..]));
    g.poll(4000);
    assert_eq!(g.fs().get("/lfs1/log"), Some(&b"one\ntwo\n"[..]));
    assert_eq!(g.fs().open_handles, 0);
}

fn status_req(name: &str) -> Bytes {
    packet(
        R2,
        8,
        4,
        1,
        &body(|e| {
            e.str("name")?.str(name)?;
            Ok(())
        }),
    )
}

/// Zephyr's `fs_mgmt_file_upload` (fs_mgmt.c @0014f3dc4dda) opens the file with
/// `FS_O_CREATE | FS_O_WRITE` at the first chunk, so LittleFS shows a new file at once,
/// with its last synced size (0) until the context closes; an upload of `len` 0 creates
/// it too. A download of it closes the upload (another context) and reads what was
/// written.
#[test]
fn a_new_file_is_visible_from_the_first_chunk() {
    let mut g = group_with(&[]);
    run(&mut g, at(0), &up("/lfs1/n", 0, b"abc", Some(6)));
    // status: {"len": 0}
    assert_eq!(
        run(&mut g, at(1), &status_req("/lfs1/n")),
        hex("09 00 00 07 00 08 04 01 bf 63 6c 65 6e 00 ff")
    );
    // hash of an empty file: err {8, 16} FILE_EMPTY (not FILE_NOT_FOUND)
    assert_eq!(
        rsp_body(&run(&mut g, at(1), &hash_req("/lfs1/n", None, None, None))),
        hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 08 62 72 63 10 ff ff")
    );
    assert!(
        g.is_open(),
        "status and hash do not touch the upload context"
    );
    // download: {"off": 0, "data": h'616263', "len": 3}
    assert_eq!(
        rsp_body(&run(&mut g, at(2), &down("/lfs1/n", 0))),
        hex("bf 63 6f 66 66 00 64 64 61 74 61 43 61 62 63 63 6c 65 6e 03 ff")
    );
    // an empty upload (len 0) creates the file at once and stays open until idle
    run(&mut g, at(3), &up("/lfs1/e", 0, b"", Some(0)));
    assert_eq!(
        run(&mut g, at(4), &status_req("/lfs1/e")),
        hex("09 00 00 07 00 08 04 01 bf 63 6c 65 6e 00 ff")
    );
    assert!(g.is_open());
    g.poll(4004);
    assert!(!g.is_open());
    assert_eq!(g.fs().get("/lfs1/e"), Some(&b""[..]));
}

/// Zephyr's VFS (`fs_stat`, `fs_open` in subsys/fs/fs.c @0183d022d2b3; the check is the
/// same in later trees): a name of length <= 1 or without a leading '/' is `-EINVAL`,
/// which fs_mgmt maps to FS_MGMT_ERR_FILE_INVALID_NAME (2) for every command.
#[test]
fn vfs_name_rules() {
    let mut g = group_with(&[("/lfs1/a", b"x")]);
    let e2 = hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 08 62 72 63 02 ff ff");
    for name in ["x", "/", "lfs1/a"] {
        assert_eq!(
            rsp_body(&run(&mut g, at(0), &status_req(name))),
            e2,
            "{name}"
        );
        assert_eq!(rsp_body(&run(&mut g, at(0), &down(name, 0))), e2, "{name}");
        assert_eq!(
            rsp_body(&run(&mut g, at(0), &up(name, 0, b"x", Some(1)))),
            e2,
            "{name}"
        );
        assert_eq!(
            rsp_body(&run(&mut g, at(0), &hash_req(name, None, None, None))),
            e2,
            "{name}"
        );
    }
    // status "x" exactly: {"err": {"group": 8, "rc": 2}}
    assert_eq!(
        run(&mut g, at(0), &status_req("x")),
        hex("09 00 00 13 00 08 04 01 bf 63 65 72 72 bf 65 67 72 6f 75 70 08 62 72 63 02 ff ff")
    );
    // an upload to the mount point: LittleFS -EISDIR, FS_MGMT_ERR_UNKNOWN (1)
    assert_eq!(
        rsp_body(&run(&mut g, at(0), &up("/lfs1", 0, b"x", Some(1)))),
        hex("bf 63 65 72 72 bf 65 67 72 6f 75 70 08 62 72 63 01 ff ff")
    );
    assert_eq!(g.fs().open_handles, 0);
}

/// Deviation (see the module docs): Zephyr's `fs_mgmt_file_upload` does not reset its
/// context's offset for a chunk at 0 inside an open context and would answer 3 + 2 = 5
/// here; this group starts the transfer over and answers 2.
#[test]
fn a_restart_at_zero_starts_over() {
    let mut g = group_with(&[]);
    run(&mut g, at(0), &up("/lfs1/r", 0, b"abc", Some(4)));
    // {"off": 2}
    assert_eq!(
        rsp_body(&run(&mut g, at(1), &up("/lfs1/r", 0, b"wx", Some(4)))),
        hex("bf 63 6f 66 66 02 ff")
    );
    run(&mut g, at(2), &up("/lfs1/r", 2, b"yz", None));
    assert!(!g.is_open());
    assert_eq!(g.fs().get("/lfs1/r"), Some(&b"wxyz"[..]));
}

/// The idle deadline moves with every access of the open file and is gone once it closes,
/// so a port's timer closes it on time however much other traffic there is.
#[test]
fn next_deadline_follows_the_last_access() {
    let mut g = group_with(&[]);
    assert_eq!(g.next_deadline(), None);
    run(&mut g, at(100), &up("/lfs1/d", 0, b"12", Some(4)));
    assert_eq!(g.next_deadline(), Some(4100));
    run(&mut g, at(900), &up("/lfs1/d", 2, b"3", None));
    assert_eq!(g.next_deadline(), Some(4900));
    g.poll(4899);
    assert!(g.is_open());
    g.poll(4900);
    assert!(!g.is_open());
    assert_eq!(g.next_deadline(), None);
    assert_eq!(g.fs().get("/lfs1/d"), Some(&b"123"[..]));
}

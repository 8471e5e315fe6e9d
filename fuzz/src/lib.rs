//! What the fuzz targets share: a device with every group over the core's fakes
//! (`smp::testing`), the record format that carries a session across several packets of
//! one input, and the checks every response must pass.
//!
//! An input of the dispatch targets is a sequence of records
//! `[ctrl: u8][n: u16 BE][n bytes: one receive buffer]` (the last record may be cut short).
//! `ctrl` bits 0..4 advance the clock by `(ctrl & 0x1f) * 250` ms before the buffer is
//! processed (the FS group closes idle files after 4000 ms), bit 5 selects transport 1
//! instead of 0, bit 6 calls `Server::poll` afterwards, bit 7 refuses SMP v1 for this
//! record (`support_v1 = false`). The groups live across records; a new `Server` is built
//! for each record so that the fakes can be checked in between.

use core::cell::RefCell;

use smp::groups::{
    basic::BasicGroup, enum_::EnumGroup, fs::FsGroup, img, img::ImgGroup, os::OsGroup,
    settings::SettingsGroup, shell::ShellGroup, stat::StatGroup,
};
use smp::mcuboot::trailer::{Layout, TrailerBoot};
use smp::mcuboot::Version;
use smp::platform::SharedFlash;
use smp::server::{Config, Meta, Params, Server};
use smp::testing::{
    build_image, FakeOs, FakeSettings, FakeShell, FakeStats, FakeStorage, MemFs, RamFlash,
};
pub use smp::testing::{check_response, item, map_entries};
use smp::wire::{Header, HeaderRepr, HEADER_LEN};

/// Size of each image slot of the fake device.
pub const SLOT: usize = 0x1000;
/// The fake device's flash: 8-byte writes, 256-byte erase sectors.
pub type Flash = RamFlash<SLOT, 8, 256>;
/// One slot as the image group and the boot control share it.
pub type Slot<'f> = SharedFlash<'f, Flash>;
/// SMP buffer size of the fake device (`buf_size`), and the transmit buffer's length.
pub const BUF_SIZE: usize = 512;
/// Payload length of the factory images in the primary slots.
pub const FACTORY_PAYLOAD: u32 = 600;

/// The factory image of image `i`'s primary slot (version 1.0.0, resp. 1.1.0).
pub fn factory_image(i: usize, out: &mut [u8]) -> usize {
    let v = Version {
        major: 1,
        minor: i as u8,
        revision: 0,
        build: 0,
    };
    build_image(out, v, FACTORY_PAYLOAD, 0x11 + i as u8)
}

/// The flash of the fake device: four slots (two images), the primaries programmed with
/// [`factory_image`].
pub fn flash() -> [RefCell<Flash>; 4] {
    let cells: [RefCell<Flash>; 4] = core::array::from_fn(|_| RefCell::new(Flash::new()));
    let mut b = [0u8; SLOT];
    for i in 0..2 {
        let n = factory_image(i, &mut b);
        cells[2 * i].borrow_mut().program(0, &b[..n]);
    }
    cells
}

/// Every group of the core, over the fakes of `smp::testing`.
pub struct Device<'f> {
    /// OS (0).
    pub os: OsGroup<FakeOs>,
    /// Image (1), two images.
    pub img: ImgGroup<Slot<'f>, TrailerBoot<Slot<'f>, 4>, 4>,
    /// Statistics (2).
    pub stat: StatGroup<FakeStats>,
    /// Settings (3), root `foo`.
    pub settings: SettingsGroup<FakeSettings>,
    /// File system (8), one file `/lfs1/a` and a directory `/lfs1/d`.
    pub fs: FsGroup<MemFs, 256>,
    /// Shell (9).
    pub shell: ShellGroup<FakeShell>,
    /// Enumeration (10).
    pub enum_: EnumGroup,
    /// Zephyr basic (63).
    pub basic: BasicGroup<FakeStorage>,
}

impl<'f> Device<'f> {
    /// The device over `flash`.
    pub fn new(flash: &'f [RefCell<Flash>; 4]) -> Self {
        let slots = || core::array::from_fn(|i| SharedFlash(&flash[i]));
        let mut fs = MemFs::with_files(&[("/lfs1/a", b"0123456789")]);
        fs.mkdir("/lfs1/d");
        Device {
            os: OsGroup::new(FakeOs::default(), Default::default()),
            img: ImgGroup::new(
                slots(),
                TrailerBoot::new(slots(), Layout::default()),
                img::Config {
                    images: 2,
                    ..Default::default()
                },
            ),
            stat: StatGroup::new(FakeStats::default(), Default::default()),
            settings: SettingsGroup::new(FakeSettings::with_roots(&["foo"]), Default::default()),
            fs: FsGroup::new(fs, Default::default()),
            shell: ShellGroup::new(FakeShell::default(), Default::default()),
            enum_: EnumGroup::new(),
            basic: BasicGroup::new(FakeStorage::default()),
        }
    }

    /// A server with every group registered.
    pub fn server(&mut self, support_v1: bool) -> Server<'_, 8> {
        let mut s = Server::new(Config {
            params: Params {
                buf_size: BUF_SIZE as u32,
                buf_count: 2,
            },
            support_v1,
        });
        s.register(&mut self.os).unwrap();
        s.register(&mut self.img).unwrap();
        s.register(&mut self.stat).unwrap();
        s.register(&mut self.settings).unwrap();
        s.register(&mut self.fs).unwrap();
        s.register(&mut self.shell).unwrap();
        s.register(&mut self.enum_).unwrap();
        s.register(&mut self.basic).unwrap();
        s
    }

    /// What must hold of the fakes between any two requests: the file system holds only
    /// names under its root, the FS group keeps at most one file open.
    pub fn check(&self) {
        let fs = self.fs.fs();
        for f in fs.files.iter().chain(fs.staged.iter()) {
            assert!(
                f.name.starts_with("/lfs1/") && !f.name.contains(".."),
                "file outside the root: {:?}",
                f.name
            );
        }
        assert!(fs.open_handles <= 1, "{} files open", fs.open_handles);
    }
}

/// Splits `data` into records (see the crate docs): `(ctrl, buffer)`.
pub fn records(mut data: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    core::iter::from_fn(move || {
        let (&ctrl, rest) = data.split_first()?;
        let n = match rest {
            [a, b, ..] => u16::from_be_bytes([*a, *b]) as usize,
            _ => rest.len(),
        };
        let rest = rest.get(2..).unwrap_or(&[]);
        let (buf, tail) = rest.split_at(n.min(rest.len()));
        data = tail;
        Some((ctrl, buf))
    })
}

/// Sets the version bits of every message header in `buf` to 0 (SMP v1), walking the
/// messages as the dispatcher does.
pub fn force_v1(buf: &mut [u8]) {
    let mut off = 0;
    while let Ok(mut h) = Header::new_checked(&mut buf[off..]) {
        h.set_op_version(h.op(), u8::from(smp::wire::Version::V1));
        off += HeaderRepr::parse(&h).unwrap().packet_len();
        if off > buf.len() {
            break;
        }
    }
}

/// The request headers of the messages in `rx`, in the order the dispatcher reads them
/// (a truncated last message included: it is answered `rc` 9).
pub fn request_headers(rx: &[u8]) -> heapless::Vec<HeaderRepr, 64> {
    let mut out = heapless::Vec::new();
    let mut rest = rx;
    while let Ok(h) = Header::new_checked(rest) {
        let r = HeaderRepr::parse(&h).unwrap();
        if out.push(r).is_err() {
            break;
        }
        let total = HEADER_LEN + r.len as usize;
        if rest.len() < total {
            break;
        }
        rest = &rest[total..];
    }
    out
}

/// Runs every record of `data` through a fresh [`Device`]; every response must pass
/// [`check_response`] against its request, and the device's invariants must hold after
/// every record and, once the input is exhausted and the files time out, no file may stay
/// open. With `v1`, every message is made an SMP v1 request.
pub fn run_dispatch(data: &[u8], v1: bool) {
    run_dispatch_with(data, v1, &mut |_, _| {});
}

/// [`run_dispatch`], also handing every checked response and its request to `seen`.
pub fn run_dispatch_with(data: &[u8], v1: bool, seen: &mut dyn FnMut(&HeaderRepr, &[u8])) {
    let flash = flash();
    let mut factory = [[0u8; SLOT]; 2];
    let mut factory_len = [0usize; 2];
    for i in 0..2 {
        factory_len[i] = factory_image(i, &mut factory[i]);
    }
    let mut dev = Device::new(&flash);
    let mut now = 0u64;
    let mut rx = [0u8; 0x1_0000];
    let mut tx = [0u8; BUF_SIZE];
    for (ctrl, buf) in records(data) {
        now += u64::from(ctrl & 0x1f) * 250;
        let rx = &mut rx[..buf.len()];
        rx.copy_from_slice(buf);
        if v1 {
            force_v1(rx);
        }
        let reqs = request_headers(rx);
        let mut server = dev.server(ctrl & 0x80 == 0);
        let meta = Meta {
            transport: (ctrl >> 5) & 1,
            now_ms: now,
        };
        let mut k = 0;
        let out = server.process(meta, rx, &mut tx, |rsp| {
            let req = reqs.get(k).expect("more responses than requests");
            check_response(req, rsp, BUF_SIZE);
            seen(req, rsp);
            k += 1;
        });
        assert_eq!(out.responses, k);
        if ctrl & 0x40 != 0 {
            server.poll(now);
        }
        drop(server);
        dev.check();
        // No request may touch the running images (only their trailers).
        for i in 0..2 {
            let f = flash[2 * i].borrow();
            assert_eq!(
                &f.as_bytes()[..factory_len[i]],
                &factory[i][..factory_len[i]],
                "running image {i} modified"
            );
        }
    }
    dev.fs.poll(now + 1_000_000);
    assert_eq!(dev.fs.fs().open_handles, 0, "file left open");
}

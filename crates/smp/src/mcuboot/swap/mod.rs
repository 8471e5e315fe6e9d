//! MCUboot's swap algorithms, sector by sector, with the swap status kept where MCUboot
//! keeps it (the status area of the primary slot's trailer), so that a swap interrupted
//! after any flash write or erase resumes exactly as MCUboot resumes it.
//!
//! The facts here come from mcu-tools/mcuboot at commit 2d4bacc3c15e
//! (`boot/bootutil/src/bootutil_area.{c,h}`, `bootutil_misc.c`, `bootutil_priv.h`,
//! `loader.c`, `swap_misc.c`, and one file per mode); each function names the upstream
//! function it follows. The code is this crate's own.
//!
//! - [`move_`]: swap using move (`MCUBOOT_SWAP_USING_MOVE`): the whole algorithm;
//! - [`offset`]: swap using offset (`MCUBOOT_SWAP_USING_OFFSET`): the whole algorithm,
//!   its sizes, trailer offsets and where an upload starts;
//! - [`scratch`]: swap using scratch (`MCUBOOT_SWAP_USING_SCRATCH`, `swap_scratch.c`):
//!   sector groups through a third area, the status in the primary's trailer or the
//!   scratch area's own trailer;
//! - [`overwrite`]: overwrite-only (`MCUBOOT_OVERWRITE_ONLY` with
//!   `MCUBOOT_OVERWRITE_ONLY_FAST`, `loader.c` `boot_copy_image`): no swap, no revert.
//!
//! - [`xip`]: direct-XIP and direct-XIP with revert (`MCUBOOT_DIRECT_XIP[_REVERT]`):
//!   no swap, the slot to run and the trailer writes of the boot and the application.
//!
//! The host device runs each of them at every reset (`smp-svr --swap-mode
//! move|offset|scratch|overwrite|direct-xip|direct-xip-revert`); the Zephyr port is
//! pinned to move.
//!
//! Slots are two [`NorFlash`] areas of the same type, offsets relative to the slot. The
//! MCUboot "sector" is [`Geometry::sector_size`], uniform over both slots and a multiple
//! of the flash's erase size (a larger one plays `MCUBOOT_LOGICAL_SECTOR_SIZE`). The
//! status entry size is the flash write size (`flash_area_align`, `F::WRITE_SIZE`);
//! trailer fields use [`Layout::max_align`] as [`trailer`] does.

use embedded_storage::nor_flash::NorFlash;

use super::trailer::{self, Flag, Layout, Magic};
use super::{align_down, align_up};
use crate::platform::SwapType;

pub mod move_;
pub mod offset;
pub mod overwrite;
pub mod scratch;
pub mod xip;

/// A swap mode, for the sizes that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `MCUBOOT_SWAP_USING_MOVE`.
    Move,
    /// `MCUBOOT_SWAP_USING_OFFSET`.
    Offset,
    /// `MCUBOOT_SWAP_USING_SCRATCH` (what `bootutil_priv.h` defines when no other mode is).
    Scratch,
    /// `MCUBOOT_OVERWRITE_ONLY`: no status is kept, but the trailer is sized as for
    /// scratch (`bootutil_area.h`'s `#else`: 3 states).
    Overwrite,
}

impl Mode {
    /// `BOOT_STATUS_STATE_COUNT` (`bootutil_area.h`): status entries per sector, 3 for
    /// move (1 move + 2 swap states), 2 for offset, 3 otherwise (scratch, overwrite).
    pub const fn state_count(self) -> u32 {
        match self {
            Mode::Move | Mode::Scratch | Mode::Overwrite => 3,
            Mode::Offset => 2,
        }
    }
}

/// Failures of a swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapError {
    /// A flash read, write or erase failed (the swap stopped there, as at a power cut;
    /// the next [`move_::boot`] resumes it).
    Flash,
    /// The slots and the [`Geometry`] do not fit together (MCUboot's
    /// `boot_slots_compatible` would refuse them, or a size is not aligned).
    Geometry,
}

/// How MCUboot sees the two slots of one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Trailer geometry (`BOOT_MAX_ALIGN`, erased value).
    pub layout: Layout,
    /// The sector size MCUboot swaps by (uniform in both slots).
    pub sector_size: u32,
    /// `BOOT_MAX_IMG_SECTORS` (`CONFIG_BOOT_MAX_IMG_SECTORS`, default 128 in
    /// mcu-tools/mcuboot `boot/zephyr/Kconfig` @2d4bacc3): sizes the status area.
    pub max_img_sectors: u32,
    /// The image number written into `swap_info` (`BOOT_CURR_IMG`).
    pub image: u8,
}

impl Geometry {
    /// A geometry with `BOOT_MAX_IMG_SECTORS` = 128 (Zephyr's default).
    pub fn new(layout: Layout, sector_size: u32) -> Self {
        Geometry {
            layout,
            sector_size,
            max_img_sectors: 128,
            image: 0,
        }
    }

    pub(crate) fn a(&self) -> u32 {
        self.layout.max_align.clamp(8, 32)
    }

    /// `boot_trailer_info_sz` (`bootutil_area.c`): swap_type, copy_done, image_ok and
    /// swap_size at `BOOT_MAX_ALIGN` each, (offset: the TLV sizes), the aligned magic.
    pub fn trailer_info_sz(&self, mode: Mode) -> u32 {
        let a = self.a();
        let tlv = if mode == Mode::Offset { a } else { 0 };
        4 * a + tlv + align_up(16, a)
    }

    /// `boot_status_sz` (`bootutil_area.c`): `BOOT_MAX_IMG_SECTORS * STATE_COUNT * W`.
    pub fn status_sz(&self, mode: Mode, write_sz: u32) -> u32 {
        self.max_img_sectors
            .saturating_mul(mode.state_count())
            .saturating_mul(write_sz)
    }

    /// `boot_trailer_sz` (`bootutil_area.c`): status area plus trailer info.
    pub fn trailer_sz(&self, mode: Mode, write_sz: u32) -> u32 {
        self.status_sz(mode, write_sz)
            .saturating_add(self.trailer_info_sz(mode))
    }

    /// `boot_status_off` (`bootutil_misc.c`): where the status area starts in a slot of
    /// `slot_size` bytes.
    pub fn status_off(&self, mode: Mode, slot_size: u32, write_sz: u32) -> Option<u32> {
        slot_size.checked_sub(self.trailer_sz(mode, write_sz))
    }
}

/// `BOOT_STATUS_OP_*` (`bootutil_priv.h`): which phase a status entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Moving the primary up by one sector (move mode's first phase).
    Move,
    /// Swapping sectors.
    Swap,
}

/// `struct boot_status` (`bootutil_priv.h`): the progress of a swap. `idx` counts from
/// `BOOT_STATUS_IDX_0` = 1 and `state` from `BOOT_STATUS_STATE_0` = 1, as in MCUboot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The phase.
    pub op: Op,
    /// The sector step, from 1.
    pub idx: u32,
    /// The state inside the step, from 1.
    pub state: u8,
    /// The swap type recorded in the primary's `swap_info`.
    pub swap_type: SwapType,
    /// `true` when the status was found in the primary slot
    /// (`BOOT_STATUS_SOURCE_PRIMARY_SLOT`).
    pub from_primary: bool,
}

impl Status {
    /// `boot_status_reset` (`loader.c`) for `mode`.
    pub fn reset(mode: Mode) -> Self {
        Status {
            op: match mode {
                Mode::Offset => Op::Swap,
                Mode::Move | Mode::Scratch | Mode::Overwrite => Op::Move,
            },
            idx: 1,
            state: 1,
            swap_type: SwapType::None,
            from_primary: false,
        }
    }

    /// `boot_status_is_reset` (`loader.c`): nothing recorded yet.
    pub fn is_reset(&self, mode: Mode) -> bool {
        *self
            == Status {
                swap_type: self.swap_type,
                from_primary: self.from_primary,
                ..Status::reset(mode)
            }
    }
}

/// What a boot did to the two slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No swap requested: boot the primary slot as it is.
    None,
    /// A swap of this type (test, permanent, revert) ran from its start to its end.
    Swapped(SwapType),
    /// An interrupted swap of this type was finished.
    Resumed(SwapType),
    /// The secondary image did not validate; the secondary slot was erased
    /// (`boot_validate_slot` scrambles it; in scratch mode a secondary whose header is
    /// erased only has its trailer scrambled) and the primary boots as it is.
    Invalid,
    /// The images are too large for the mode. Move and offset: "Not enough free space to
    /// run swap upgrade" (`swap_run`), nothing was written. Scratch and overwrite: image
    /// validation refused the secondary (its TLVs end past `bootutil_max_image_size`) and
    /// the secondary slot was erased.
    TooLarge,
    /// An image header is not where the trailer says it is (`boot_read_image_headers`
    /// failed): nothing was written and the primary boots as it is.
    NoHeader,
}

pub(crate) fn size_of<F: NorFlash>(f: &F) -> Result<u32, SwapError> {
    u32::try_from(f.capacity()).map_err(|_| SwapError::Geometry)
}

pub(crate) fn flash<T, E>(r: Result<T, E>) -> Result<T, SwapError> {
    r.map_err(|_| SwapError::Flash)
}

pub(crate) fn boot_err<T>(r: Result<T, crate::platform::BootError>) -> Result<T, SwapError> {
    r.map_err(|_| SwapError::Flash)
}

/// `boot_erase_region` (`bootutil_area.c`) over whole erase units, lowest first.
pub(crate) fn erase_region<F: NorFlash>(f: &mut F, off: u32, len: u32) -> Result<(), SwapError> {
    let e = F::ERASE_SIZE.max(1) as u32;
    if !off.is_multiple_of(e) || !len.is_multiple_of(e) {
        return Err(SwapError::Geometry);
    }
    let mut o = off;
    while o < off + len {
        flash(f.erase(o, o + e))?;
        o += e;
    }
    Ok(())
}

/// Size of `boot_copy_region`'s buffer (`BUF_SZ` in `loader.c`): one flash write per
/// 1024 bytes copied.
pub const COPY_CHUNK: usize = 1024;

/// `boot_copy_region` (`loader.c`): copies `len` bytes, `COPY_CHUNK` at a time, from `src`
/// at `src_off` to the erased `dst` at `dst_off` (the two may be the same slot).
pub(crate) fn copy_region<F: NorFlash>(
    src: &mut F,
    dst: Option<&mut F>,
    src_off: u32,
    dst_off: u32,
    len: u32,
) -> Result<(), SwapError> {
    let mut buf = [0u8; COPY_CHUNK];
    let w = F::WRITE_SIZE.max(1);
    if !COPY_CHUNK.is_multiple_of(w) || !(len as usize).is_multiple_of(w) {
        return Err(SwapError::Geometry);
    }
    let mut dst = dst;
    let mut done = 0u32;
    while done < len {
        let n = ((len - done) as usize).min(COPY_CHUNK);
        let b = &mut buf[..n];
        flash(src.read(src_off + done, b))?;
        match dst.as_deref_mut() {
            Some(d) => flash(d.write(dst_off + done, b))?,
            None => flash(src.write(dst_off + done, b))?,
        }
        done += n as u32;
    }
    Ok(())
}

/// `swap_scramble_trailer_sectors` (`swap_misc.c`) through `boot_trailer_scramble_offset`
/// and `boot_scramble_region(.., backwards = true)` (`bootutil_area.c`): erases, last erase
/// unit first, from the sector holding the start of the trailer (`S - boot_trailer_sz`)
/// to the end of the slot.
pub(crate) fn scramble_trailer<F: NorFlash>(
    f: &mut F,
    g: &Geometry,
    mode: Mode,
) -> Result<(), SwapError> {
    let size = size_of(f)?;
    let w = F::WRITE_SIZE as u32;
    let start = g.status_off(mode, size, w).ok_or(SwapError::Geometry)?;
    let from = align_down(start, g.sector_size);
    let e = F::ERASE_SIZE.max(1) as u32;
    let mut o = size;
    while o > from {
        o = o.checked_sub(e).ok_or(SwapError::Geometry)?;
        flash(f.erase(o, o + e))?;
    }
    Ok(())
}

/// `boot_status_internal_off` for move mode (`swap_move.c`), offset mode
/// (`swap_offset.c`) and scratch mode (`swap_scratch.c`): entry index of (`op`, `idx`,
/// `state`) in the status area.
pub(crate) fn entry_index(g: &Geometry, mode: Mode, op: Op, idx: u32, state: u8) -> u32 {
    let (base, per) = match (mode, op) {
        (Mode::Move, Op::Move) => (0, 1),
        (Mode::Move, Op::Swap) => (g.max_img_sectors, 2),
        (Mode::Offset, _) => (0, 2),
        (Mode::Scratch | Mode::Overwrite, _) => (0, 3),
    };
    base + (idx - 1) * per + (state as u32 - 1)
}

/// `boot_write_status` (`loader.c`): writes one status entry in the primary slot, the
/// state number (`bs->state`, 1 or 2) followed by erased bytes up to the write size.
pub(crate) fn write_status<F: NorFlash>(
    p: &mut F,
    g: &Geometry,
    mode: Mode,
    st: &Status,
) -> Result<(), SwapError> {
    let w = F::WRITE_SIZE.max(1);
    let size = size_of(p)?;
    let base = g
        .status_off(mode, size, w as u32)
        .ok_or(SwapError::Geometry)?;
    let off = base + entry_index(g, mode, st.op, st.idx, st.state) * w as u32;
    write_entry(p, g.layout.erased, off, st.state)
}

/// One status entry at `off`: `state`, then erased bytes up to the write size
/// (`boot_write_status`, `loader.c`).
pub(crate) fn write_entry<F: NorFlash>(
    f: &mut F,
    erased: u8,
    off: u32,
    state: u8,
) -> Result<(), SwapError> {
    let w = F::WRITE_SIZE.max(1);
    let mut buf = [erased; 32];
    let buf = buf.get_mut(..w).ok_or(SwapError::Geometry)?;
    buf[0] = state;
    flash(f.write(off, buf))
}

/// The last written entry of the status area (`swap_read_status_bytes`, move and offset
/// files): scanning from the last entry down, the 1-based index of the highest entry
/// whose first byte is not erased, or `None`.
pub(crate) fn last_entry<F: NorFlash>(
    p: &mut F,
    g: &Geometry,
    mode: Mode,
) -> Result<Option<u32>, SwapError> {
    let w = F::WRITE_SIZE.max(1) as u32;
    let size = size_of(p)?;
    let base = g.status_off(mode, size, w).ok_or(SwapError::Geometry)?;
    let max = mode.state_count() * g.max_img_sectors;
    for i in (1..=max).rev() {
        let mut b = [0u8; 1];
        flash(p.read(base + (i - 1) * w, &mut b))?;
        if b[0] != g.layout.erased {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// `swap_status_source` (`swap_move.c`, `swap_offset.c`): the status is in the primary
/// slot when its magic is good, its copy_done unset, and the secondary's magic not good.
pub(crate) fn status_in_primary<F: NorFlash>(
    p: &mut F,
    s: &mut F,
    l: &Layout,
) -> Result<bool, SwapError> {
    let ps = boot_err(trailer::read(p, l))?;
    let ss = boot_err(trailer::read(s, l))?;
    Ok(ps.magic == Magic::Good && ps.copy_done == Flag::Unset && ss.magic != Magic::Good)
}

/// `swap_status_init` (`swap_misc.c`): swap_info (unless the type is none), image_ok when
/// the secondary's is set, swap_size, then the magic, in the primary slot.
pub(crate) fn status_init<F: NorFlash>(
    p: &mut F,
    s: &mut F,
    g: &Geometry,
    swap_type: SwapType,
    swap_size: u32,
) -> Result<(), SwapError> {
    let l = &g.layout;
    let ss = boot_err(trailer::read(s, l))?;
    if swap_type != SwapType::None {
        boot_err(trailer::write_swap_info(p, l, g.image, swap_type))?;
    }
    if ss.image_ok == Flag::Set {
        boot_err(trailer::write_image_ok(p, l))?;
    }
    boot_err(trailer::write_swap_size(p, l, swap_size))?;
    boot_err(trailer::write_magic(p, l))
}

/// `boot_perform_update` / `boot_complete_partial_swap` (`loader.c`) after `swap_run`:
/// image_ok for revert and permanent, copy_done for every upgrade (the swap modes).
pub(crate) fn finish<F: NorFlash>(p: &mut F, g: &Geometry, ty: SwapType) -> Result<(), SwapError> {
    let l = g.layout;
    if matches!(ty, SwapType::Revert | SwapType::Perm) {
        set_image_ok(p, &l)?;
    }
    if matches!(ty, SwapType::Test | SwapType::Perm | SwapType::Revert) {
        flash(trailer::write_copy_done(p, &l))?;
    }
    Ok(())
}

/// A secondary image refused by `boot_validate_slot` (`loader.c`) in a swap mode: the
/// whole secondary slot scrambled (erased, without `MCUBOOT_MINIMAL_SCRAMBLE`), and, when
/// the swap type came from the primary's status rather than the trailers' table
/// (`BOOT_SWAP_TYPE_FAIL`), image_ok set in the primary by `context_boot_go`.
pub(crate) fn reject<F: NorFlash>(
    p: &mut F,
    s: &mut F,
    l: &Layout,
    from_table: bool,
) -> Result<Outcome, SwapError> {
    let size = size_of(s)?;
    erase_region(s, 0, size)?;
    if !from_table {
        set_image_ok(p, l)?;
    }
    Ok(Outcome::Invalid)
}

/// `swap_set_image_ok` (`swap_misc.c`): image_ok in the primary, if it is unset.
pub(crate) fn set_image_ok<F: NorFlash>(p: &mut F, l: &Layout) -> Result<(), SwapError> {
    if boot_err(trailer::read(p, l))?.image_ok == Flag::Unset {
        boot_err(trailer::write_image_ok(p, l))?;
    }
    Ok(())
}

/// The end of the image in `f` (`boot_read_image_size`, `bootutil_misc.c`: the TLV
/// offset plus both TLV blocks), or 0 when `f` has no image header magic.
pub(crate) fn image_size<F: NorFlash>(f: &mut F, at: u32) -> Result<u32, SwapError> {
    let mut h = [0u8; 32];
    flash(f.read(at, &mut h))?;
    if super::ImageHeader::raw_magic(&h) != Some(super::image::IMAGE_MAGIC) {
        return Ok(0);
    }
    let hdr = super::ImageHeader::parse(&h).map_err(|_| SwapError::Geometry)?;
    let mut view = Offset { f, at };
    super::image::for_each_tlv(&mut view, &hdr, |_, _| Ok(())).map_err(|_| SwapError::Geometry)
}

/// `boot_read_image_size` (swap-offset version, `swap_offset.c`) for the image at `at`:
/// (image length, the unprotected TLV block's `it_tlv_tot`), or `None` without a header.
pub(crate) fn image_sizes<F: NorFlash>(
    f: &mut F,
    at: u32,
) -> Result<Option<(u32, u16)>, SwapError> {
    let mut h = [0u8; 32];
    flash(f.read(at, &mut h))?;
    if super::ImageHeader::raw_magic(&h) != Some(super::image::IMAGE_MAGIC) {
        return Ok(None);
    }
    let hdr = super::ImageHeader::parse(&h).map_err(|_| SwapError::Geometry)?;
    let mut view = Offset { f, at };
    let end = super::image::for_each_tlv(&mut view, &hdr, |_, _| Ok(()))
        .map_err(|_| SwapError::Geometry)?;
    let hashed = hdr.hashed_len().ok_or(SwapError::Geometry)?;
    let unprot = u16::try_from(end - hashed).map_err(|_| SwapError::Geometry)?;
    Ok(Some((end, unprot)))
}

/// `data` at `off`, padded with the erased value to the write size (`boot_write_trailer`,
/// `bootutil_public.c`), for the trailer fields [`trailer`] does not place.
pub(crate) fn write_padded<F: NorFlash>(
    f: &mut F,
    erased: u8,
    off: u32,
    data: &[u8],
) -> Result<(), SwapError> {
    let w = F::WRITE_SIZE.max(1);
    let len = data.len().div_ceil(w) * w;
    let mut buf = [erased; 32];
    let buf = buf.get_mut(..len).ok_or(SwapError::Geometry)?;
    buf[..data.len()].copy_from_slice(data);
    flash(f.write(off, buf))
}

/// Whether the 4 bytes at `off` of `f` are the image header magic.
pub(crate) fn has_header<F: NorFlash>(f: &mut F, off: u32) -> Result<bool, SwapError> {
    let mut h = [0u8; 4];
    flash(f.read(off, &mut h))?;
    Ok(u32::from_le_bytes(h) == super::image::IMAGE_MAGIC)
}

/// A read-only view of `f` from `at` on (the secondary image of swap-offset): offset 0 of
/// the view is offset `at` of `f`, and the view ends where `f` ends. The image group reads
/// a swap-offset secondary image through it, and a port's bootloader emulation validates
/// one.
pub struct Offset<'a, F> {
    /// The flash area.
    pub f: &'a mut F,
    /// Where the view starts in it.
    pub at: u32,
}

impl<F: NorFlash> embedded_storage::nor_flash::ErrorType for Offset<'_, F> {
    type Error = F::Error;
}

impl<F: NorFlash> embedded_storage::nor_flash::ReadNorFlash for Offset<'_, F> {
    const READ_SIZE: usize = F::READ_SIZE;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), F::Error> {
        self.f.read(offset.saturating_add(self.at), bytes)
    }

    fn capacity(&self) -> usize {
        self.f.capacity().saturating_sub(self.at as usize)
    }
}

/// Checks what `boot_slots_compatible` (`swap_move.c`) checks with uniform sectors: the
/// primary has as many sectors as the secondary or one more, at most
/// `BOOT_MAX_IMG_SECTORS`; returns (primary, secondary) sector counts.
pub(crate) fn sector_counts<F: NorFlash>(
    p: &F,
    s: &F,
    g: &Geometry,
) -> Result<(u32, u32), SwapError> {
    let sz = g.sector_size;
    let e = F::ERASE_SIZE.max(1) as u32;
    if sz == 0 || !sz.is_multiple_of(e) {
        return Err(SwapError::Geometry);
    }
    let (ps, ss) = (size_of(p)?, size_of(s)?);
    if !ps.is_multiple_of(sz) || !ss.is_multiple_of(sz) {
        return Err(SwapError::Geometry);
    }
    let (np, ns) = (ps / sz, ss / sz);
    if (np != ns && np != ns + 1) || np > g.max_img_sectors || ns == 0 {
        return Err(SwapError::Geometry);
    }
    Ok((np, ns))
}

/// Test support: slots over RAM flash that share one flash-operation counter and lose
/// power at a chosen operation.
#[cfg(test)]
pub(crate) mod cut {
    use core::cell::Cell;

    use embedded_storage::nor_flash::{ErrorType, NorFlash, ReadNorFlash};

    use crate::testing::{RamFlash, RamFlashError};

    /// Bytes of RAM behind each test slot.
    pub const N: usize = 4096;
    /// Write size.
    pub const W: usize = 8;
    /// Erase size (= the MCUboot sector in these tests).
    pub const E: usize = 512;
    /// The RAM flash behind a slot.
    pub type Ram = RamFlash<N, W, E>;

    /// The geometry of these tests: sectors of [`E`] bytes, the default trailer layout,
    /// and a `BOOT_MAX_IMG_SECTORS` of 16.
    pub fn geom() -> super::Geometry {
        super::Geometry {
            max_img_sectors: 16,
            ..super::Geometry::new(crate::mcuboot::trailer::Layout::default(), E as u32)
        }
    }

    /// The power budget shared by both slots.
    #[derive(Default)]
    pub struct Power {
        /// Operations (writes and erases) done so far.
        pub ops: Cell<usize>,
        /// The operation (0-based, counted in `ops`) that the power fails in.
        pub cut_at: Cell<Option<usize>>,
        /// A second operation the power fails in (a cut while resuming).
        pub cut_again: Cell<Option<usize>>,
        /// Set once the power failed; every operation fails until cleared.
        pub dead: Cell<bool>,
        /// The cut operation does nothing (instead of half of its work).
        pub whole: Cell<bool>,
    }

    /// One slot: the first `cap` bytes of a [`Ram`].
    pub struct Slot<'a> {
        pub f: &'a mut Ram,
        pub cap: usize,
        pub power: &'a Power,
    }

    impl Slot<'_> {
        /// `true` when this operation must fail; on the cut operation itself, `half`
        /// does half of it first (a write or erase interrupted halfway).
        fn fails(&mut self, half: impl FnOnce(&mut Ram)) -> bool {
            let p = self.power;
            if p.dead.get() {
                return true;
            }
            let n = p.ops.get();
            p.ops.set(n + 1);
            if p.cut_at.get() == Some(n) || p.cut_again.get() == Some(n) {
                if !p.whole.get() {
                    half(self.f);
                }
                p.dead.set(true);
                return true;
            }
            false
        }
    }

    impl ErrorType for Slot<'_> {
        type Error = RamFlashError;
    }

    impl ReadNorFlash for Slot<'_> {
        const READ_SIZE: usize = 1;

        fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), RamFlashError> {
            if self.power.dead.get() {
                return Err(RamFlashError::PowerCut);
            }
            if offset as usize + bytes.len() > self.cap {
                return Err(RamFlashError::OutOfBounds);
            }
            self.f.read(offset, bytes)
        }

        fn capacity(&self) -> usize {
            self.cap
        }
    }

    impl NorFlash for Slot<'_> {
        const WRITE_SIZE: usize = W;
        const ERASE_SIZE: usize = E;

        fn erase(&mut self, from: u32, to: u32) -> Result<(), RamFlashError> {
            if to as usize > self.cap {
                return Err(RamFlashError::OutOfBounds);
            }
            let (a, b) = (from as usize, to as usize);
            if self.fails(|f| f.program(a, &[0xff; E][..(b - a) / 2])) {
                return Err(RamFlashError::PowerCut);
            }
            self.f.erase(from, to)
        }

        fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), RamFlashError> {
            if offset as usize + bytes.len() > self.cap {
                return Err(RamFlashError::OutOfBounds);
            }
            let half = bytes.len() / 2 / W * W;
            if self.fails(|f| {
                let _ = f.write(offset, &bytes[..half]);
            }) {
                return Err(RamFlashError::PowerCut);
            }
            self.f.write(offset, bytes)
        }
    }
}

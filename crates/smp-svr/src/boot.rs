//! MCUboot emulation for the host device, run at every (simulated) reset, and the host's
//! boot control.
//!
//! [`reset`] does for each image what MCUboot's swap modes do at boot
//! (docs/mcuboot.md, "What the bootloader does at reset"): read both trailers, decide the swap type with the same table the
//! application uses, validate the secondary image (hash, and signature when keys are
//! given) before a test, permanent or revert swap, refuse downgrades when configured, swap
//! the slot contents (as one step, not sector by sector) and leave exactly the trailer
//! bytes MCUboot leaves (`swap_info`, `swap_size`, `image_ok`, `copy_done`, magic), then
//! validate the primary image. An unconfirmed test image is reverted at the next reset.
//!
//! That is `--swap-mode journal`. With `--swap-mode move`, the command line's default,
//! [`reset`] runs instead the core's swap using move (`smp::mcuboot::swap::move_::boot`),
//! sector by sector over the two slot files, with MCUboot's sector = the erase size: its
//! status lives in the primary's trailer, there is no journal, and each of its writes and
//! erases is one flash operation of the power meter. `--swap-mode offset` runs the core's
//! swap using offset (`smp::mcuboot::swap::offset::boot`) the same way, over a secondary
//! slot one sector larger than the primary, whose image starts one sector in.
//! `--swap-mode scratch` and `--swap-mode overwrite` run the core's swap using scratch
//! (`swap::scratch::boot`, through the one-sector scratch partition
//! `<state>/flash/scratch.bin`) and overwrite-only (`swap::overwrite::boot`: no revert) the
//! same way, metered the same way. The journal
//! section below is about `--swap-mode journal` only.
//!
//! The application's side ([`HostBoot`]) is `smp::mcuboot::trailer::TrailerBoot` over the
//! same slot files, so both sides share one trailer implementation.
//!
//! # Power cuts
//!
//! A swap is computed in memory and committed to a journal file
//! (`<state>/flash/swap<N>.journal`, both slots' new contents) before either slot is
//! touched; the journal stands for MCUboot's swap status area, and a reset that finds one
//! finishes that swap and boots (as MCUboot resumes an interrupted swap) instead of
//! deciding a new one. With `--power-cut-after N` ([`crate::flash::PowerMeter`]) these are
//! the flash operations counted, one each, in the order a swap makes them:
//!
//! 1. the journal's commit (written, synced, renamed into place);
//! 2. every sector of the primary slot erased, then the primary slot written (one write);
//! 3. the same for the secondary slot;
//! 4. the journal's removal: the swap is over.
//!
//! So a whole-slot swap of a slot of S sectors is 2 × S + 4 operations. A cut after 1–3
//! resumes the swap at the next reset. A cut after 4 is a swap whose last write is done:
//! as in MCUboot, whose last write is copy-done, after which the status area no longer
//! says "resume" (mcu-tools/mcuboot 2d4bacc3: boot/bootutil/src/loader.c
//! `boot_perform_update`, swap_scratch.c `boot_status_tables`, swap_move.c
//! `swap_status_source`), the next reset decides from the trailers, and an unconfirmed
//! test image is reverted without having run. The rejection of a secondary image (its
//! erase, sector by sector) and the scrub of a stale trailer count as the flash writes
//! and erases they are. Everything else counted (the image group's writes, settings) and
//! not counted (`--image` programming, the boot count) is listed in [`mod@crate::flash`].

use std::io;
use std::path::Path;

use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
use smp::mcuboot::image::{self, ImageError, SigKind};
use smp::mcuboot::sig::{pem_to_der, PublicKey};
use smp::mcuboot::trailer::{self, Layout, State, TrailerBoot};
use smp::mcuboot::{Bytes, Version};
use smp::platform::{BootloaderInfo, SwapType};

use smp::mcuboot::swap::{self, move_, offset, overwrite, scratch, xip, SwapError};

use crate::cli::SwapMode;
use crate::flash::{FileFlash, Geometry, Partitions, SLOTS};

/// The host's boot control: trailers in the slot files.
pub type HostBoot<const W: usize, const E: usize> = TrailerBoot<FileFlash<W, E>, SLOTS>;

/// What the emulated bootloader was built with.
#[derive(Debug, Clone, Default)]
pub struct BootConfig {
    /// Accepted public keys (DER). Empty: images need only a matching hash.
    pub keys: Vec<Vec<u8>>,
    /// `MCUBOOT_DOWNGRADE_PREVENTION`: refuse a test/permanent swap to a lower version.
    pub downgrade_prevention: bool,
    /// How [`reset`] swaps (`--swap-mode`).
    pub swap_mode: SwapMode,
}

impl BootConfig {
    /// Adds an accepted key from a PEM (`imgtool getpub -e pem`) or DER file.
    pub fn add_key_file(&mut self, path: &Path) -> io::Result<()> {
        let raw = read_named(path, "key file")?;
        let der = match std::str::from_utf8(&raw) {
            Ok(text) if text.contains("-----BEGIN") => {
                let mut out = vec![0u8; raw.len()];
                let n = pem_to_der(text, &mut out)
                    .ok_or_else(|| invalid(format!("{}: bad PEM", path.display())))?
                    .len();
                out.truncate(n);
                out
            }
            _ => raw,
        };
        if PublicKey::from_der(&der).is_none() {
            return Err(invalid(format!(
                "{}: not an RSA-2048/3072, ECDSA P-256 or Ed25519 public key",
                path.display()
            )));
        }
        self.keys.push(der);
        Ok(())
    }

    fn public_keys(&self) -> Vec<PublicKey<'_>> {
        self.keys
            .iter()
            .filter_map(|k| PublicKey::from_der(k))
            .collect()
    }

    /// What MCUboot checks before it boots an image: hash, signature (with keys), and the
    /// `NON_BOOTABLE` flag.
    pub fn validate<F: ReadNorFlash>(&self, f: &mut F) -> Result<image::ImageInfo, ImageError> {
        let info = image::validate(f, &self.public_keys())?;
        if !info.header.is_bootable() {
            return Err(ImageError::BadHeader);
        }
        Ok(info)
    }
}

/// Reads a whole file; an error names the file and what it was for.
pub fn read_named(path: &Path, what: &str) -> io::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot read {what} {}: {}", path.display(), plain_io(&e)),
        )
    })
}

/// An I/O error's message without Rust's ` (os error N)` suffix.
pub fn plain_io(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn flash_err<E: core::fmt::Debug>(e: E) -> io::Error {
    io::Error::other(format!("flash: {e:?}"))
}

/// The boot control the image group uses on the host.
pub fn boot_control<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    cfg: &BootConfig,
) -> io::Result<HostBoot<W, E>> {
    let mut b = TrailerBoot::new(parts.slots()?, parts.geometry().layout);
    b.info = BootloaderInfo {
        name: "MCUboot",
        mode: bootloader_mode(cfg.swap_mode),
        no_downgrade: reports_no_downgrade(cfg),
    };
    b.offset_mode = cfg.swap_mode == SwapMode::Offset;
    Ok(b)
}

/// [`boot_control`] for the boot that `boots` ([`reset`]) describes: in the direct-XIP
/// modes image 0 runs from the slot holding the image that booted (the first slot with
/// its hash: MCUboot prefers slot 0 on a tie, `find_slot_with_highest_version`).
pub fn boot_control_for<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    cfg: &BootConfig,
    boots: &[ImageBoot],
) -> io::Result<HostBoot<W, E>> {
    let mut b = boot_control(parts, cfg)?;
    let booted = boots
        .iter()
        .find(|i| i.image == 0)
        .and_then(|i| match i.outcome {
            Outcome::Boot { hash, .. } => Some(hash),
            _ => None,
        });
    if let (Some(hash), smp::groups::img::DirectXip::Plain | smp::groups::img::DirectXip::Revert) =
        (booted, direct_xip(cfg.swap_mode))
    {
        for slot in 0..2u8 {
            let mut f = parts.slot(slot as usize)?;
            if image::inspect(&mut f).is_ok_and(|i| i.hash == hash) {
                b.active = slot;
                break;
            }
        }
    }
    Ok(b)
}

/// The mode `os bootloader info` reports, as MCUboot's `enum mcuboot_mode` numbers them
/// (mcu-tools/mcuboot `boot/bootutil/include/bootutil/boot_status.h` @2d4bacc3:
/// `MCUBOOT_MODE_SWAP_USING_SCRATCH` = 1, `MCUBOOT_MODE_SWAP_USING_MOVE` = 3), the values
/// Zephyr's os_mgmt reports for `CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_SCRATCH` and
/// `..._SWAP_USING_MOVE` (the mapping in `src/smp_port_boot.c`). The journal emulation
/// has always reported swap using scratch: it swaps without moving the primary up. Swap
/// using offset is the enum's tenth member, `MCUBOOT_MODE_SWAP_USING_OFFSET` = 9 (same
/// file and commit), what `src/smp_port_boot.c` reports for
/// `CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_OFFSET`. Overwrite-only is
/// `MCUBOOT_MODE_UPGRADE_ONLY` = 2, what os_mgmt reports for
/// `CONFIG_MCUBOOT_BOOTLOADER_MODE_OVERWRITE_ONLY` (zephyrproject-rtos/zephyr
/// `subsys/mgmt/mcumgr/grp/os_mgmt/src/os_mgmt.c` @b2d53f60895e).
///
/// Direct-XIP is `MCUBOOT_MODE_DIRECT_XIP` = 4 and with revert
/// `MCUBOOT_MODE_DIRECT_XIP_WITH_REVERT` = 5 (the same enum), what Zephyr's os_mgmt
/// reports for `CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP` and `..._WITH_REVERT`
/// (zephyrproject-rtos/zephyr `subsys/mgmt/mcumgr/grp/os_mgmt/src/os_mgmt.c` @b2d53f60895e).
pub fn bootloader_mode(mode: SwapMode) -> i32 {
    match mode {
        SwapMode::Journal | SwapMode::Scratch => 1,
        SwapMode::Overwrite => 2,
        SwapMode::Move => 3,
        SwapMode::Offset => 9,
        SwapMode::DirectXip => 4,
        SwapMode::DirectXipRevert => 5,
    }
}

/// Whether `mode` is one of MCUboot's direct-XIP modes, and the image group's view of it.
pub fn direct_xip(mode: SwapMode) -> smp::groups::img::DirectXip {
    use smp::groups::img::DirectXip;
    match mode {
        SwapMode::DirectXip => DirectXip::Plain,
        SwapMode::DirectXipRevert => DirectXip::Revert,
        SwapMode::Journal
        | SwapMode::Move
        | SwapMode::Offset
        | SwapMode::Scratch
        | SwapMode::Overwrite => DirectXip::Off,
    }
}

/// Whether the image group reports "no downgrade" (`os bootloader info`'s `no-downgrade`):
/// with `--downgrade-prevention`, and always in the direct-XIP modes, whose Zephyr
/// Kconfig choices `select MCUBOOT_BOOTLOADER_NO_DOWNGRADE` (zephyrproject-rtos/zephyr
/// `modules/Kconfig.mcuboot` @fc9fd668b344: "it is not possible to swap back to older
/// version of application").
pub fn reports_no_downgrade(cfg: &BootConfig) -> bool {
    cfg.downgrade_prevention || direct_xip(cfg.swap_mode) != smp::groups::img::DirectXip::Off
}

/// The scratch partition of `--swap-mode scratch`: one MCUboot sector (the erase size
/// `erase`), the smallest area `boot_slots_compatible` (mcu-tools/mcuboot
/// `boot/bootutil/src/swap_scratch.c` @2d4bacc3) accepts, since every sector must fit in
/// it; each step of the swap then moves one sector.
pub fn scratch_size(erase: u32) -> u32 {
    erase
}

/// How MCUboot sees image `image`'s two slots in the sector-by-sector modes: its sector is the flash erase
/// size `erase`, `BOOT_MAX_IMG_SECTORS` is Zephyr's default 128, or the slot's sector count
/// when that is larger (so that every slot size this device accepts can be swapped; the
/// status area, and with it the size limit, then grows with the slot).
pub fn swap_geometry(geom: &Geometry, erase: u32, image: u8) -> swap::Geometry {
    let mut g = swap::Geometry::new(geom.layout, erase);
    g.max_img_sectors = g.max_img_sectors.max(geom.slot_size / erase.max(1));
    g.image = image;
    g
}

/// The largest image (header, payload, TLVs) `mode` can swap with slots of `geom`, flash
/// write size `write` and erase size `erase`: `move_::max_image_size` (MCUboot's
/// `app_max_size`, `swap_move.c`) for move, `offset::max_image_size` (`app_max_size` of
/// `swap_offset.c`) for offset, `scratch::max_image_size` (`app_max_size`,
/// `swap_scratch.c`, with the [`scratch_size`] partition) for scratch,
/// `overwrite::max_image_size` (`bootutil_max_image_size`, `bootutil_misc.c`) for
/// overwrite, `None` (the whole slot) for the journal.
///
/// Direct-XIP: `xip::max_image_size` (`bootutil_max_image_size`, up to the trailer's
/// swap_info field).
pub fn max_image_size(mode: SwapMode, geom: &Geometry, write: u32, erase: u32) -> Option<u32> {
    match mode {
        SwapMode::Journal => None,
        SwapMode::DirectXip | SwapMode::DirectXipRevert => {
            Some(xip::max_image_size(&geom.layout, geom.slot_size))
        }
        SwapMode::Offset => {
            let e = erase.max(1);
            Some(offset::max_image_size(
                &swap_geometry(geom, erase, 0),
                geom.slot_len(0) / e,
                geom.slot_len(1) / e,
                write,
            ))
        }
        SwapMode::Scratch => {
            let n = geom.slot_size / erase.max(1);
            let g = swap_geometry(geom, erase, 0);
            Some(scratch::max_image_size(&g, n, scratch_size(erase), write))
        }
        SwapMode::Overwrite => Some(overwrite::max_image_size(
            &swap_geometry(geom, erase, 0),
            geom.slot_size,
        )),
        SwapMode::Move => {
            let n = geom.slot_size / erase.max(1);
            Some(move_::max_image_size(
                &swap_geometry(geom, erase, 0),
                n,
                n,
                write,
            ))
        }
    }
}

/// Programs `bytes` (a signed image, possibly `--pad`ded) into the primary slot of
/// `image`, as `west flash` does: the slot is erased first, trailer included.
pub fn flash_image<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    image: u8,
    bytes: &[u8],
) -> io::Result<()> {
    let mut f = parts.slot(2 * image as usize)?;
    let cap = f.capacity();
    if bytes.len() > cap || cap == 0 {
        return Err(invalid(format!(
            "image of {} bytes does not fit slot of {cap} bytes",
            bytes.len()
        )));
    }
    f.erase(0, cap as u32).map_err(flash_err)?;
    // Whole words straight from `bytes`, then the last partial word padded with erased bytes.
    let whole = bytes.len() / W * W;
    f.write(0, &bytes[..whole]).map_err(flash_err)?;
    if whole < bytes.len() {
        let mut tail = [f.erased(); W];
        tail[..bytes.len() - whole].copy_from_slice(&bytes[whole..]);
        f.write(whole as u32, &tail).map_err(flash_err)?;
    }
    Ok(())
}

/// After factory programming in `--swap-mode direct-xip-revert`: MCUboot there erases a
/// slot whose trailer magic is not good (`boot_select_or_erase`, mcu-tools/mcuboot
/// `boot/bootutil/src/loader.c` @2d4bacc3; its Kconfig help: the mode "requires the
/// trailer magic to be added to the signed image"), which is why Zephyr's
/// `MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP_WITH_REVERT` implies
/// `MCUBOOT_GENERATE_CONFIRMED_IMAGE` (zephyrproject-rtos/zephyr `modules/Kconfig.mcuboot`
/// @fc9fd668b344: the build's `--pad --confirm` image). The built-in image gets what
/// that adds, magic and image_ok (`confirm`); an `--image` file without them is left as
/// it is and only warned about (`false` returned), as a board flashed with it would not
/// boot.
pub fn mark_factory_image<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    cfg: &BootConfig,
    confirm: bool,
) -> io::Result<bool> {
    if cfg.swap_mode != SwapMode::DirectXipRevert {
        return Ok(true);
    }
    let l = parts.geometry().layout;
    let mut f = parts.slot(0)?;
    if trailer::read(&mut f, &l).map_err(flash_err)?.magic == trailer::Magic::Good {
        return Ok(true);
    }
    if !confirm {
        return Ok(false);
    }
    trailer::write_magic(&mut f, &l).map_err(flash_err)?;
    trailer::write_image_ok(&mut f, &l).map_err(flash_err)?;
    Ok(true)
}

/// Checks an image file the way MCUboot will check it at boot (it must fit the slot of
/// `slot_size` bytes and pass [`BootConfig::validate`]), so that nothing is written to
/// flash that cannot boot.
pub fn check_image(bytes: &[u8], slot_size: usize, cfg: &BootConfig) -> io::Result<()> {
    if bytes.len() > slot_size {
        return Err(invalid(format!(
            "image of {} bytes does not fit slot of {slot_size} bytes",
            bytes.len()
        )));
    }
    let mut f = Bytes(bytes);
    if let Err(e) = cfg.validate(&mut f) {
        if let Some(t) = truncation(bytes) {
            return Err(invalid(t));
        }
        return Err(invalid(format!("{e}: MCUboot would not boot it")));
    }
    Ok(())
}

/// `smp-svr flash`: checks the image file at `path` ([`check_image`]) and programs it into
/// the primary slot of `image` whatever that slot holds, as `west flash` does.
pub fn flash_file<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    image: u8,
    path: &Path,
    cfg: &BootConfig,
) -> io::Result<ImageSummary> {
    let bytes = read_named(path, "image")?;
    check_image(&bytes, parts.geometry().slot_size as usize, cfg)?;
    flash_image(parts, image, &bytes)?;
    image_info(path, cfg)
}

/// What [`install_if_blank`] found in the primary slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Install {
    /// The slot was blank: the image is now in it.
    Flashed,
    /// The slot already holds this very image (programmed at an earlier start).
    Present,
    /// The slot holds another image (or what a swap left there): the file was not written.
    Other,
}

/// First-boot install: programs the image file at `path` into the primary slot of
/// `image` only if that slot is blank (a fresh state directory), after checking it with
/// [`check_image`].
pub fn install_if_blank<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    image: u8,
    path: &Path,
    cfg: &BootConfig,
) -> io::Result<Install> {
    let bytes = read_named(path, "image")?;
    let slot = parts.slot(2 * image as usize)?;
    let erased = slot.erased();
    let (blank, present) =
        slot.with_bytes(|cur| (cur.iter().all(|&b| b == erased), cur.starts_with(&bytes)))?;
    if blank {
        check_image(&bytes, slot.capacity(), cfg)?;
        flash_image(parts, image, &bytes)?;
        return Ok(Install::Flashed);
    }
    if present {
        Ok(Install::Present)
    } else {
        Ok(Install::Other)
    }
}

/// Whether the primary slot of `image` is entirely erased.
pub fn primary_is_blank<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    image: u8,
) -> io::Result<bool> {
    let f = parts.slot(2 * image as usize)?;
    let erased = f.erased();
    f.with_bytes(|b| b.iter().all(|&x| x == erased))
}

/// What the emulated bootloader did with one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageBoot {
    /// The image number.
    pub image: u8,
    /// The swap performed (`None` if none).
    pub swap: SwapType,
    /// Why the secondary image was refused and erased, if it was.
    pub rejected: Option<Rejection>,
    /// The primary slot's verdict.
    pub outcome: Outcome,
}

/// Why a secondary image was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Validation failed (hash, signature, header, size).
    Invalid(ImageError),
    /// Lower version than the primary with downgrade prevention on.
    Downgrade,
    /// The images would reach the trailer area.
    NoSpace,
    /// Header erased but a trailer left behind (interrupted erase): trailer scrubbed.
    Stale,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Invalid(e) => write!(f, "{e}"),
            Rejection::Downgrade => f.write_str("lower version than the running image"),
            Rejection::NoSpace => f.write_str("images too large to swap (they reach the trailer)"),
            Rejection::Stale => f.write_str("erased header with a leftover trailer"),
        }
    }
}

/// The primary slot after the swap decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A valid image boots.
    Boot {
        /// Its version.
        version: Version,
        /// Its SHA-256 TLV.
        hash: [u8; 32],
    },
    /// The primary slot is empty.
    NoImage,
    /// The primary image is invalid: MCUboot does not boot it.
    Invalid(ImageError),
}

/// Bytes reserved at a slot's end for the trailer, as imgtool's `--pad` computes them
/// (128 sectors × 3 status states × write size, plus the trailer fields).
pub fn trailer_reserve(write_size: u32, layout: &Layout) -> u32 {
    let a = layout.max_align;
    128 * 3 * write_size + 4 * a + 16u32.div_ceil(a) * a
}

/// Runs the emulated MCUboot for every image, as at a reset.
pub fn reset<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    cfg: &BootConfig,
) -> io::Result<Vec<ImageBoot>> {
    (0..parts.geometry().images)
        .map(|i| match cfg.swap_mode {
            SwapMode::Journal => boot_image(parts, cfg, i),
            SwapMode::Move => boot_image_move(parts, cfg, i),
            SwapMode::Offset => boot_image_offset(parts, cfg, i),
            SwapMode::Scratch => boot_image_scratch(parts, cfg, i),
            SwapMode::Overwrite => boot_image_overwrite(parts, cfg, i),
            SwapMode::DirectXip => boot_image_xip(parts, cfg, i, false),
            SwapMode::DirectXipRevert => boot_image_xip(parts, cfg, i, true),
        })
        .collect()
}

/// What every swap mode's boot of one image starts from: the trailer layout, the core's
/// sector geometry, and handles on the image's primary and secondary slot files.
struct Pair<const W: usize, const E: usize> {
    l: Layout,
    g: swap::Geometry,
    p: FileFlash<W, E>,
    s: FileFlash<W, E>,
}

impl<const W: usize, const E: usize> Pair<W, E> {
    fn open(parts: &Partitions<W, E>, image: u8) -> io::Result<Self> {
        Ok(Self {
            l: parts.geometry().layout,
            g: swap_geometry(parts.geometry(), E as u32, image),
            p: parts.slot(2 * image as usize)?,
            s: parts.slot(2 * image as usize + 1)?,
        })
    }
}

/// One image through the core's swap using offset ([`offset::boot`]) over its two slot
/// files, as [`boot_image_move`] for move: the secondary image is validated where it
/// starts (one sector in, or at 0 for a revert), every write and erase is counted, and a
/// swap cut short resumes from the primary's status area.
fn boot_image_offset<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    cfg: &BootConfig,
    image: u8,
) -> io::Result<ImageBoot> {
    let Pair { l, g, mut p, mut s } = Pair::open(parts, image)?;
    let err = mode_err("swap using offset");
    let st = offset::read_status(&mut p, &mut s, &g).map_err(&err)?;
    let (ty, pri) = swap_inputs(&mut p, &mut s, &l, st.swap_type, true);
    let mut why = None;
    let outcome = offset::boot(&mut p, &mut s, &g, |s, at| {
        why = secondary_verdict(cfg, &mut swap::Offset { f: s, at }, ty, pri).err();
        why.is_none()
    })
    .map_err(&err)?;
    Ok(image_boot(cfg, image, outcome, why, &mut p))
}

/// Where the host device's slots lie in its (notional) flash, for `IMAGE_F_ROM_FIXED`
/// images in direct-XIP: back to back from address 0 in slot order, slot `n` at
/// `n × --slot-size` (an image for slot 1 is signed with `imgtool --rom-fixed SLOT_SIZE`).
pub fn slot_address(geom: &Geometry, slot: usize) -> u32 {
    geom.slot_size.saturating_mul(slot as u32)
}

/// One image through MCUboot's direct-XIP boot ([`xip::boot`]) over its two slot files:
/// no copy, the slot to run chosen by version, each scramble (and with revert the
/// copy_done write) flash operations of the power meter. The outcome is the booted slot's
/// image; every slot passed over (and whether it was erased) is logged here, and no
/// [`ImageBoot::rejected`] is set (it names a secondary image that a swap refused).
fn boot_image_xip<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    cfg: &BootConfig,
    image: u8,
    revert: bool,
) -> io::Result<ImageBoot> {
    let l = parts.geometry().layout;
    let n = 2 * image as usize;
    let mut slots = [parts.slot(n)?, parts.slot(n + 1)?];
    let addr = [
        slot_address(parts.geometry(), n),
        slot_address(parts.geometry(), n + 1),
    ];
    let why = std::cell::Cell::new(None);
    let out = xip::boot(
        &mut slots,
        &l,
        revert,
        false,
        addr,
        |_, f| match image::validate(f, &cfg.public_keys()) {
            Ok(_) => true,
            Err(e) => {
                why.set(Some(e));
                false
            }
        },
        |slot, skip| {
            let what = match skip {
                xip::Skip::NoImage => return,
                xip::Skip::Invalid => match why.take() {
                    Some(e) => format!("invalid ({e}), erased"),
                    None => "invalid, erased".into(),
                },
                xip::Skip::Unmarked => {
                    "not marked for test or confirmed (no trailer magic), erased".into()
                }
                xip::Skip::Unconfirmed => "booted once and not confirmed, erased (revert)".into(),
                xip::Skip::RomAddress => "built for another slot's address (ROM_FIXED)".into(),
                xip::Skip::NotBootable => "marked not bootable".into(),
            };
            log::warn!("MCUboot: image {image}: slot {slot} passed over: {what}");
        },
    )
    .map_err(|e| match e {
        SwapError::Flash => io::Error::other("direct-XIP: flash access failed"),
        SwapError::Geometry => {
            invalid("direct-XIP: the slot size is not a multiple of the erase size".into())
        }
    })?;
    let outcome = match out.slot {
        Some(s) => primary_outcome(cfg, &mut slots[s as usize]),
        None => Outcome::NoImage,
    };
    if let Some(s) = out.slot {
        log::info!("MCUboot: image {image}: direct-XIP: booting slot {s} in place");
    }
    Ok(ImageBoot {
        image,
        swap: SwapType::None,
        rejected: None,
        outcome,
    })
}

/// One image through the core's swap using move ([`move_::boot`]) over its two slot files:
/// every write and erase of the swap is a [`FileFlash`] operation, counted by the power
/// meter, and a swap cut short is resumed from the status area at the next reset.
fn boot_image_move<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    cfg: &BootConfig,
    image: u8,
) -> io::Result<ImageBoot> {
    let Pair { l, g, mut p, mut s } = Pair::open(parts, image)?;
    let err = mode_err("swap using move");
    let st = move_::read_status(&mut p, &mut s, &g).map_err(&err)?;
    let (ty, pri) = swap_inputs(&mut p, &mut s, &l, st.swap_type, false);
    let mut why = None;
    let outcome = move_::boot(&mut p, &mut s, &g, |s| {
        why = secondary_verdict(cfg, s, ty, pri).err();
        why.is_none()
    })
    .map_err(&err)?;
    Ok(image_boot(cfg, image, outcome, why, &mut p))
}

/// What a swap's `validate` is judged by: the swap type (`recorded`, the one an
/// unfinished swap recorded in its status, else the trailers' as
/// `boot_prepare_image_for_update` decides it, with swap using offset's extra row when
/// `offset`) and the primary image's version, for downgrade prevention.
fn swap_inputs<F: NorFlash>(
    p: &mut F,
    s: &mut F,
    l: &Layout,
    recorded: SwapType,
    offset: bool,
) -> (SwapType, Option<Version>) {
    let ty = if recorded != SwapType::None {
        recorded
    } else {
        let ps = trailer::read(p, l).unwrap_or(State::ERASED);
        let ss = trailer::read(s, l).unwrap_or(State::ERASED);
        trailer::swap_type(&ps, &ss, offset)
    };
    (ty, image::inspect(p).ok().map(|i| i.header.version))
}

/// What the port checks of a secondary image before a swap of type `ty` (MCUboot's
/// `boot_validate_slot`): the image ([`BootConfig::validate`]) and, with downgrade
/// prevention, a version not lower than the primary's `pri` (not for a revert).
fn secondary_verdict<F: ReadNorFlash>(
    cfg: &BootConfig,
    s: &mut F,
    ty: SwapType,
    pri: Option<Version>,
) -> Result<(), Rejection> {
    let sec = cfg.validate(s).map_err(Rejection::Invalid)?;
    let downgrade = cfg.downgrade_prevention
        && ty != SwapType::Revert
        && pri.is_some_and(|v| sec.header.version.compare(&v, false) == std::cmp::Ordering::Less);
    if downgrade {
        Err(Rejection::Downgrade)
    } else {
        Ok(())
    }
}

/// An [`ImageBoot`] from a core swap's outcome.
fn image_boot<F: ReadNorFlash>(
    cfg: &BootConfig,
    image: u8,
    outcome: swap::Outcome,
    why: Option<Rejection>,
    p: &mut F,
) -> ImageBoot {
    let (swap, rejected) = match outcome {
        swap::Outcome::Swapped(t) | swap::Outcome::Resumed(t) => (t, None),
        // Refused without asking `validate` (in offset mode, an image at 0 of the
        // secondary, which that mode does not look for there: MCUboot's "wrong upload
        // address?"): a bad header.
        swap::Outcome::Invalid => (
            SwapType::None,
            Some(why.unwrap_or(Rejection::Invalid(ImageError::BadHeader))),
        ),
        swap::Outcome::TooLarge => (SwapType::None, Some(Rejection::NoSpace)),
        swap::Outcome::None | swap::Outcome::NoHeader => (SwapType::None, None),
    };
    ImageBoot {
        image,
        swap,
        rejected,
        outcome: primary_outcome(cfg, p),
    }
}

/// One image through the core's swap using scratch ([`scratch::boot`]) over its two slot
/// files and the scratch partition ([`Partitions::scratch`], [`scratch_size`]); every
/// write and erase is metered, and a swap cut short resumes from the status the primary's
/// or the scratch's trailer keeps.
fn boot_image_scratch<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    cfg: &BootConfig,
    image: u8,
) -> io::Result<ImageBoot> {
    let Pair { l, g, mut p, mut s } = Pair::open(parts, image)?;
    let err = mode_err("swap using scratch");
    let mut sc = parts.scratch(scratch_size(E as u32))?;
    let st = scratch::read_status(&mut p, &mut sc, &g).map_err(&err)?;
    let (ty, pri) = swap_inputs(&mut p, &mut s, &l, st.swap_type, false);
    let mut why = None;
    let outcome = scratch::boot(&mut p, &mut s, &mut sc, &g, |s| {
        why = secondary_verdict(cfg, s, ty, pri).err();
        why.is_none()
    })
    .map_err(&err)?;
    Ok(image_boot(cfg, image, outcome, why, &mut p))
}

/// One image through the core's overwrite-only upgrade ([`overwrite::boot`]): the
/// secondary copied over the primary, every write and erase metered; a copy cut short is
/// done again at the next reset while the secondary is intact.
fn boot_image_overwrite<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    cfg: &BootConfig,
    image: u8,
) -> io::Result<ImageBoot> {
    let Pair { l, g, mut p, mut s } = Pair::open(parts, image)?;
    let (ty, pri) = swap_inputs(&mut p, &mut s, &l, SwapType::None, false);
    let mut why = None;
    let outcome = overwrite::boot(&mut p, &mut s, &g, |s| {
        why = secondary_verdict(cfg, s, ty, pri).err();
        why.is_none()
    })
    .map_err(mode_err("overwrite-only"))?;
    Ok(image_boot(cfg, image, outcome, why, &mut p))
}

/// A core swap's failure as an I/O error naming the mode.
fn mode_err(mode: &'static str) -> impl Fn(SwapError) -> io::Error {
    move |e| match e {
        SwapError::Flash => io::Error::other(format!("{mode}: flash access failed")),
        SwapError::Geometry => invalid(format!(
            "{mode}: the slots do not fit MCUboot's sector geometry \
             (slot size, --erase-size, BOOT_MAX_IMG_SECTORS)"
        )),
    }
}

/// What MCUboot finds in the primary slot after the swap: the image it boots, if any.
fn primary_outcome<F: ReadNorFlash>(cfg: &BootConfig, p: &mut F) -> Outcome {
    match cfg.validate(p) {
        Ok(info) => Outcome::Boot {
            version: info.header.version,
            hash: info.hash,
        },
        Err(ImageError::Empty) => Outcome::NoImage,
        Err(e) => Outcome::Invalid(e),
    }
}

fn boot_image<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    cfg: &BootConfig,
    image: u8,
) -> io::Result<ImageBoot> {
    let l = parts.geometry().layout;
    // A swap interrupted by a crash is finished, and this boot goes no further (as MCUboot
    // treats a resumed swap).
    let resumed = apply_journal(parts, image)?;
    let mut p = parts.slot(2 * image as usize)?;
    let mut s = parts.slot(2 * image as usize + 1)?;
    let ps = trailer::read(&mut p, &l).unwrap_or(State::ERASED);
    let ss = trailer::read(&mut s, &l).unwrap_or(State::ERASED);
    let mut swap = if resumed {
        ps.swap_type
    } else {
        trailer::swap_type(&ps, &ss, false)
    };
    let mut rejected = None;
    let size = p.capacity() as u32;
    let trailer_start = (size.saturating_sub(trailer_reserve(W as u32, &l)) / E as u32) * E as u32;

    // A secondary whose header is erased but whose trailer is not: scrub the trailer.
    if !resumed
        && matches!(image::read_header(&mut s), Err(ImageError::Empty))
        && ss.magic != trailer::Magic::Unset
    {
        trailer::erase_trailer(&mut s, &l).map_err(flash_err)?;
        if swap != SwapType::Revert {
            swap = SwapType::None;
            rejected = Some(Rejection::Stale);
        }
    }
    if !resumed && matches!(swap, SwapType::Test | SwapType::Perm | SwapType::Revert) {
        let verdict = match cfg.validate(&mut s) {
            Err(e) => Err(Rejection::Invalid(e)),
            Ok(sec) => {
                let pri = image::inspect(&mut p).ok();
                let downgrade = cfg.downgrade_prevention
                    && swap != SwapType::Revert
                    && pri.is_some_and(|pri| {
                        sec.header.version.compare(&pri.header.version, false)
                            == std::cmp::Ordering::Less
                    });
                let swap_size = sec.end.max(pri.map_or(0, |i| i.end));
                if downgrade {
                    Err(Rejection::Downgrade)
                } else if swap_size.div_ceil(E as u32) * E as u32 > trailer_start {
                    Err(Rejection::NoSpace)
                } else {
                    Ok(swap_size)
                }
            }
        };
        match verdict {
            Ok(swap_size) => {
                do_swap(
                    parts,
                    &mut p,
                    &mut s,
                    &l,
                    image,
                    swap,
                    &ss,
                    swap_size,
                    trailer_start,
                )?;
            }
            Err(r) => {
                if r != Rejection::NoSpace {
                    let cap = s.capacity() as u32;
                    s.erase(0, cap).map_err(flash_err)?;
                }
                rejected = Some(r);
                swap = SwapType::None;
            }
        }
    }
    Ok(ImageBoot {
        image,
        swap,
        rejected,
        outcome: primary_outcome(cfg, &mut p),
    })
}

/// A slot image in memory, to compute a swap's result before it touches the files.
struct VecFlash<const W: usize, const E: usize>(Vec<u8>);

impl<const W: usize, const E: usize> embedded_storage::nor_flash::ErrorType for VecFlash<W, E> {
    type Error = embedded_storage::nor_flash::NorFlashErrorKind;
}

impl<const W: usize, const E: usize> ReadNorFlash for VecFlash<W, E> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let o = offset as usize;
        let src = self
            .0
            .get(o..o + bytes.len())
            .ok_or(embedded_storage::nor_flash::NorFlashErrorKind::OutOfBounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.0.len()
    }
}

impl<const W: usize, const E: usize> NorFlash for VecFlash<W, E> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    fn erase(&mut self, _from: u32, _to: u32) -> Result<(), Self::Error> {
        Err(embedded_storage::nor_flash::NorFlashErrorKind::Other)
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let o = offset as usize;
        self.0
            .get_mut(o..o + bytes.len())
            .ok_or(embedded_storage::nor_flash::NorFlashErrorKind::OutOfBounds)?
            .copy_from_slice(bytes);
        Ok(())
    }
}

/// Swaps the sectors covering `swap_size` between the two slots, scrubs both trailers and
/// writes the primary trailer as MCUboot leaves it. The result is computed in memory and
/// journaled first, so a process killed mid-swap finishes the swap at the next reset.
#[allow(clippy::too_many_arguments)]
fn do_swap<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    p: &mut FileFlash<W, E>,
    s: &mut FileFlash<W, E>,
    l: &Layout,
    image: u8,
    swap: SwapType,
    sec_state: &State,
    swap_size: u32,
    trailer_start: u32,
) -> io::Result<()> {
    let region = (swap_size.div_ceil(E as u32) * E as u32) as usize;
    let t = trailer_start as usize;
    let erased = p.erased();
    let moved = |from: &[u8], stay: &[u8]| {
        let mut v = from[..region].to_vec();
        v.extend_from_slice(&stay[region..t]);
        v.resize(stay.len(), erased);
        v
    };
    // Both results computed from the mapped slots in place, before either is touched.
    let (np, ns) = p.with_bytes(|pa| s.with_bytes(|sa| (moved(sa, pa), moved(pa, sa))))??;
    let mut np = VecFlash::<W, E>(np);
    // Trailer initialisation (magic last), then the post-swap flags.
    let f = &mut np;
    trailer::write_swap_info(f, l, image, swap).map_err(flash_err)?;
    if sec_state.image_ok == trailer::Flag::Set && swap != SwapType::Revert {
        trailer::write_image_ok(f, l).map_err(flash_err)?;
    }
    trailer::write_swap_size(f, l, swap_size).map_err(flash_err)?;
    trailer::write_magic(f, l).map_err(flash_err)?;
    if matches!(swap, SwapType::Perm | SwapType::Revert) {
        let st = trailer::read(f, l).map_err(flash_err)?;
        if st.image_ok == trailer::Flag::Unset {
            trailer::write_image_ok(f, l).map_err(flash_err)?;
        }
    }
    trailer::write_copy_done(f, l).map_err(flash_err)?;
    let journal = parts.journal_path(image);
    let tmp = journal.with_extension("tmp");
    let mut data = np.0;
    data.extend_from_slice(&ns);
    std::fs::write(&tmp, &data)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, &journal)?;
    // The journal stands for MCUboot's status area: its commit is one flash operation.
    parts.meter().op();
    apply_journal(parts, image).map(|_| ())
}

/// Finishes a journaled swap of `image`, if one is pending; returns whether there was one.
fn apply_journal<const W: usize, const E: usize>(
    parts: &Partitions<W, E>,
    image: u8,
) -> io::Result<bool> {
    let journal = parts.journal_path(image);
    let data = match std::fs::read(&journal) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let size = parts.geometry().slot_size as usize;
    if data.len() == 2 * size {
        for (k, part) in data.chunks(size).enumerate() {
            let mut f = parts.slot(2 * image as usize + k)?;
            f.erase(0, size as u32).map_err(flash_err)?;
            f.write(0, part).map_err(flash_err)?;
        }
    }
    std::fs::remove_file(&journal)?;
    // Clearing the status area: one flash operation.
    parts.meter().op();
    Ok(true)
}

/// What `smp-svr image-info FILE` prints about a signed image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSummary {
    /// The header version.
    pub version: Version,
    /// Image size: header, payload and TLVs.
    pub size: u32,
    /// The SHA-256 TLV, the hash `image state` shows.
    pub hash: [u8; 32],
    /// Whether the hash TLV matches the image bytes.
    pub hash_ok: bool,
    /// The signature type, if the image is signed.
    pub sig: Option<SigKind>,
    /// The signature check against the given keys (`None`: no keys given).
    pub verified: Option<Result<(), ImageError>>,
}

impl ImageSummary {
    /// Why MCUboot (with the given keys) would refuse this image, if it would.
    pub fn problem(&self) -> Option<String> {
        if !self.hash_ok {
            return Some(
                "image hash mismatch: the file is corrupt or was modified after signing".into(),
            );
        }
        match self.verified {
            Some(Err(e)) => Some(e.to_string()),
            _ => None,
        }
    }
}

impl std::fmt::Display for ImageSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "version: {}", self.version)?;
        writeln!(f, "size: {}", self.size)?;
        write!(f, "hash: ")?;
        for b in self.hash {
            write!(f, "{b:02x}")?;
        }
        writeln!(f, "{}", if self.hash_ok { "" } else { " (MISMATCH)" })?;
        write!(f, "signature: {}", self.sig.map_or("none", |s| s.name()))?;
        match self.verified {
            None => writeln!(f),
            Some(Ok(())) => writeln!(f, " (verified: signed by an accepted key)"),
            Some(Err(e)) => writeln!(f, " (NOT VERIFIED: {e})"),
        }
    }
}

/// Why `bytes` look like the beginning of an MCUboot image that was cut short, if they do:
/// the header's magic is right but the file ends before its TLV area does.
pub fn truncation(bytes: &[u8]) -> Option<String> {
    if bytes.len() < 4 || bytes[..4] != image::IMAGE_MAGIC.to_le_bytes() {
        return None;
    }
    let len = bytes.len();
    if len < 32 {
        return Some(format!(
            "truncated: {len} bytes, shorter than an MCUboot image header (32 bytes)"
        ));
    }
    let h = image::ImageHeader::parse(bytes).ok()?;
    let unprot = h.hashed_len()? as usize;
    let Some(info) = bytes.get(unprot..unprot + 4) else {
        return Some(format!(
            "truncated: {len} bytes, but its header and payload alone take {unprot} bytes"
        ));
    };
    if u16::from_le_bytes([info[0], info[1]]) != image::TLV_INFO_MAGIC {
        return None;
    }
    let need = unprot + u16::from_le_bytes([info[2], info[3]]) as usize;
    (len < need).then(|| {
        format!("truncated: {len} bytes, but its header, payload and TLVs take {need} bytes")
    })
}

/// Reads a signed image file and summarises it; with keys in `cfg`, also checks that it
/// is signed by one of them.
pub fn image_info(path: &Path, cfg: &BootConfig) -> io::Result<ImageSummary> {
    let data = read_named(path, "image")?;
    let info = image::inspect(&mut Bytes(&data)).map_err(|e| {
        let why = truncation(&data).unwrap_or_else(|| e.to_string());
        invalid(format!("{}: {why}", path.display()))
    })?;
    let hash_ok = image::check_hash(&mut Bytes(&data)).is_ok();
    let verified = (!cfg.keys.is_empty())
        .then(|| image::validate(&mut Bytes(&data), &cfg.public_keys()).map(|_| ()));
    Ok(ImageSummary {
        version: info.header.version,
        size: info.end,
        hash: info.hash,
        hash_ok,
        sig: info.sig,
        verified,
    })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod xip_tests;

/// The image `smp-svr` installs on a blank primary slot when no `--image` is given: a
/// hash-only (unsigned) MCUboot image, version 0.0.0, whose payload names the program. Any
/// real image uploaded later is newer.
pub fn builtin_image() -> Vec<u8> {
    use sha2::{Digest, Sha256};
    const HDR: u16 = 0x200;
    let mut payload = format!(
        "smp-svr v{} built-in application image\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes();
    payload.resize(payload.len().div_ceil(4) * 4, 0);
    let header = smp::mcuboot::ImageHeader {
        load_addr: 0,
        hdr_size: HDR,
        protect_tlv_size: 0,
        img_size: payload.len() as u32,
        flags: 0,
        version: Version {
            major: 0,
            minor: 0,
            revision: 0,
            build: 0,
        },
    };
    let mut out = vec![0u8; HDR as usize];
    header.emit(&mut out).expect("header fits 0x200 bytes");
    out.extend_from_slice(&payload);
    let hash = Sha256::digest(&out);
    // Unprotected TLV area: info (magic 0x6907, total length 40), SHA-256 TLV (type 0x10).
    out.extend_from_slice(&[0x07, 0x69, 40, 0, 0x10, 0, 32, 0]);
    out.extend_from_slice(&hash);
    out
}

#[cfg(test)]
mod builtin_tests {
    use super::*;

    #[test]
    fn builtin_image_is_a_valid_mcuboot_image() {
        let img = builtin_image();
        let info = image::check_hash(&mut Bytes(&img)).unwrap();
        assert_eq!(info.header.version.to_string(), "0.0.0");
        assert_eq!(info.end as usize, img.len());
        assert!(info.sig.is_none());
    }
}

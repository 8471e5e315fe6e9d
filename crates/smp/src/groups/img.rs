//! Image management group (1), after Zephyr's `img_mgmt.c`, `img_mgmt_state.c` and
//! `zephyr_img_mgmt.c`; the slot and trailer rules it applies are in docs/mcuboot.md.
//!
//! | id | command | op | request | response |
//! |---|---|---|---|---|
//! | 0 | image state | R | ignored | `images`: [{`image`?, `slot`, `version`, `hash`, `bootable`, `pending`, `confirmed`, `active`, `permanent`}], `splitStatus` |
//! | 0 | set state | W | opt `hash`: bstr, opt `confirm`: bool | as image state |
//! | 1 | upload | W | `off`, `data`, (`off` = 0:) `len`, opt `image`, `sha`, `upgrade` | `off`, opt `match` |
//! | 2, 3, 4 | file / corelist / coreload | — | — | rc 8 |
//! | 5 | erase | W | opt `slot`: uint | empty |
//! | 6 | slot info | R | ignored | `images`: [{`image`, `slots`: [{`slot`, `size`, `upload_image_id`?}]}] |
//!
//! Slots are numbered absolutely: image `i` owns slots `2i` (primary) and `2i + 1`
//! (secondary); the group gets one flash area per slot. The bootloader is reached through
//! [`BootControl`]. Uploads stream: each chunk is hashed and written straight to flash,
//! buffering only the bytes short of a whole flash write unit.
//!
//! In swap-using-offset builds ([`Config::secondary_offset`]) the image in a secondary
//! slot starts one sector in, and the group uploads, checks and lists it there.
//!
//! Group error codes ([`ImgMgmtErr`]) and their SMP v1 translation follow Zephyr's table
//! ([`v1_rc`]; docs/protocol.md, "Errors").
//!
//! Wiring, here over RAM flash shared with a trailer-based boot control (a Zephyr port
//! passes its flash areas and a `BootControl` over MCUboot's `boot_*` calls instead):
//!
//! ```
//! use core::cell::RefCell;
//! use smp::groups::img::{Config, ImgGroup};
//! use smp::mcuboot::trailer::{Layout, TrailerBoot};
//! use smp::platform::SharedFlash;
//! use smp::server::{Config as ServerConfig, Meta, Server};
//! use smp::testing::RamFlash;
//!
//! let flash: [RefCell<RamFlash<0x4000>>; 2] = Default::default();
//! let slots = || [SharedFlash(&flash[0]), SharedFlash(&flash[1])];
//! let boot = TrailerBoot::new(slots(), Layout::default());
//! let mut img = ImgGroup::new(slots(), boot, Config::default());
//! let mut server: Server<'_, 8> = Server::new(ServerConfig::default());
//! server.register(&mut img).unwrap();
//! // Image state read, v2: no image yet.
//! let req = [0x08, 0, 0, 2, 0, 1, 0, 0, 0xbf, 0xff];
//! let mut tx = [0u8; 384];
//! let mut n = 0;
//! server.process(Meta::default(), &req, &mut tx, |rsp| n = rsp.len());
//! assert_eq!(&tx[8..n], b"\xbf\x66images\x9f\xff\x6bsplitStatus\x00\xff");
//! ```

use core::cmp::Ordering;
use core::fmt::Write as _;

use embedded_storage::nor_flash::NorFlash;
use sha2::{Digest, Sha256};

use crate::cbor::{for_each_entry, once};
use crate::mcuboot::image::{self, ImageHeader, IMAGE_MAGIC};
use crate::mcuboot::swap::xip::{self, SlotState};
use crate::mcuboot::swap::Offset;
use crate::mcuboot::trailer::{self, Layout};
use crate::mcuboot::ImageInfo;
use crate::platform::{BootControl, BootError, SwapType};
use crate::server::{group_error, Ctx, Error, Group, Response};
use crate::wire::{group, Rc};

/// Command ids.
pub mod cmd {
    /// Image state read / set.
    pub const STATE: u8 = 0;
    /// Upload.
    pub const UPLOAD: u8 = 1;
    /// File (not implemented).
    pub const FILE: u8 = 2;
    /// Core list (not implemented).
    pub const CORELIST: u8 = 3;
    /// Core load (not implemented).
    pub const CORELOAD: u8 = 4;
    /// Erase slot.
    pub const ERASE: u8 = 5;
    /// Slot info.
    pub const SLOT_INFO: u8 = 6;
}

/// Image group error codes (`img_mgmt_err_code_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
#[allow(missing_docs)]
pub enum ImgMgmtErr {
    Unknown = 1,
    FlashConfigQueryFail = 2,
    NoImage = 3,
    NoTlvs = 4,
    InvalidTlv = 5,
    TlvMultipleHashesFound = 6,
    TlvInvalidSize = 7,
    HashNotFound = 8,
    NoFreeSlot = 9,
    FlashOpenFailed = 10,
    FlashReadFailed = 11,
    FlashWriteFailed = 12,
    FlashEraseFailed = 13,
    InvalidSlot = 14,
    NoFreeMemory = 15,
    FlashContextAlreadySet = 16,
    FlashContextNotSet = 17,
    FlashAreaDeviceNull = 18,
    InvalidPageOffset = 19,
    InvalidOffset = 20,
    InvalidLength = 21,
    InvalidImageHeader = 22,
    InvalidImageHeaderMagic = 23,
    InvalidHash = 24,
    InvalidFlashAddress = 25,
    VersionGetFailed = 26,
    CurrentVersionIsNewer = 27,
    ImageAlreadyPending = 28,
    InvalidImageVectorTable = 29,
    InvalidImageTooLarge = 30,
    InvalidImageDataOverrun = 31,
    ImageConfirmationDenied = 32,
    ImageSettingTestToActiveDenied = 33,
    ActiveSlotNotKnown = 34,
}

group_error!(ImgMgmtErr, group::IMAGE);

/// Translates an image group error for SMP v1 (`img_mgmt_translate_error_code`).
pub fn v1_rc(rc: u16) -> Rc {
    match rc {
        3 | 4 => Rc::NoEnt,
        9 | 27 | 28 => Rc::BadState,
        14 | 19..=22 | 24 | 25 => Rc::Inval,
        15 => Rc::NoMem,
        _ => Rc::Unknown,
    }
}

/// Build options of the image group (Zephyr's Kconfig).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// `MCUMGR_GRP_IMG_UPDATABLE_IMAGE_NUMBER`: images handled (each owns two slots).
    pub images: u8,
    /// Trailer geometry (`BOOT_MAX_ALIGN`, erased value), to keep uploads clear of it.
    pub layout: Layout,
    /// `MCUMGR_GRP_IMG_DIRECT_UPLOAD`: upload `image` = absolute slot + 1.
    pub direct_upload: bool,
    /// `MCUMGR_GRP_IMG_FRUGAL_LIST`: omit false flags and `splitStatus`.
    pub frugal_list: bool,
    /// `IMG_ENABLE_IMAGE_CHECK`: `match` on completion and the "already there" check.
    pub image_check: bool,
    /// `MCUMGR_GRP_IMG_VERSION_CMP_USE_BUILD_NUMBER`.
    pub use_build_number: bool,
    /// `MCUMGR_GRP_IMG_ALLOW_ERASE_PENDING`: uploads may replace, and erase may clear, a
    /// pending image.
    pub allow_erase_pending: bool,
    /// Refuse an upload whose image hash is the running image's (checked on completion,
    /// answered with err 28). Off by default, as in Zephyr, where such an upload succeeds
    /// and the following test request fails with err 33 (the hash names the active slot).
    pub reject_same_as_active: bool,
    /// Stand-in for `MCUMGR_GRP_IMG_TOO_LARGE_*`: also refuse (err 30) a `len` reaching the
    /// trailer (past `boot_get_trailer_status_offset`). Off by default, as Zephyr's
    /// `..._TOO_LARGE_DISABLED`, which lets imgtool `--pad`ded (slot-sized) images through.
    pub reject_trailer_overlap: bool,
    /// The largest image the bootloader can swap (MCUboot's `app_max_size`, e.g.
    /// [`move_::max_image_size`](crate::mcuboot::swap::move_::max_image_size)): an upload
    /// whose image is larger is refused (err 30) at its first chunk. The image's size
    /// there is what its header tells (header, payload and protected TLVs, or `len` if
    /// smaller), so an upload padded to the slot (imgtool `--pad`) passes, and an image
    /// that only its unprotected TLVs (hash, signature) take over the limit is accepted
    /// here and refused by the bootloader. `None`: no such limit.
    pub max_image_size: Option<u32>,
    /// `MCUMGR_GRP_IMG_ALLOW_CONFIRM_NON_ACTIVE_IMAGE_ANY`: set state may confirm the
    /// running slot of an image other than 0 (its secondary is always allowed).
    pub confirm_any_image: bool,
    /// `MCUBOOT_BOOTLOADER_MODE_SWAP_USING_OFFSET`: the size of a secondary slot's first
    /// sector, where the image in a secondary slot starts, except while the bootloader
    /// would revert (then the old image sits at 0). Zephyr's `boot_get_image_start_offset`
    /// (zephyrproject-rtos/zephyr `subsys/dfu/boot/mcuboot.c` @030cbd8f6f14; its
    /// `boot_read_bank_header` reads the header there) gives this offset, and the image
    /// group applies it wherever it touches the image: the upload is written from it on
    /// (`flash_img_init_id`, `subsys/dfu/img_util/flash_img.c`, starts its stream one
    /// sector in) after an erase that starts at 0 and covers it (`img_mgmt_erase_image_data`,
    /// `subsys/mgmt/mcumgr/grp/img_mgmt/src/zephyr_img_mgmt.c` @03730aedf2af); the "already
    /// there" check hashes from it (`flash_img_check`, same `flash_img.c`); image state
    /// reads the header and TLVs from it, as the 2026 `dfu_boot` backend of the same
    /// `subsys/dfu/boot/mcuboot.c` does (`dfu_boot_read_img_info` reads the header at
    /// `boot_get_image_start_offset` and the TLVs after it; older img_mgmt, e.g.
    /// `img_mgmt.c` @06407b78705a `img_mgmt_read_info`, read the header at 0 of the slot
    /// and so listed no secondary image in this mode). The erase command clears the whole
    /// slot, as `img_mgmt_erase_slot` (same `zephyr_img_mgmt.c`) does. 0 (the default,
    /// every other mode): images start at 0.
    pub secondary_offset: u32,
    /// The MCUboot mode the application is built for, where it changes the group: off
    /// (the swap modes), or `MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP[_WITH_REVERT]` (see
    /// [`DirectXip`]). Single-image builds only, as in Zephyr.
    pub direct_xip: DirectXip,
}

/// MCUboot's direct-XIP modes as Zephyr's img_mgmt handles them: image 0 runs from the
/// slot [`BootControl::active_slot`] names (0 or 1: the build is linked for one slot,
/// Zephyr's `img_mgmt_active_slot` compares `CONFIG_FLASH_LOAD_OFFSET` with
/// `slot1_partition`), uploads and erases go to the other one, and the next boot's slot
/// is derived from the versions (and with revert the trailers) of both, not from a swap
/// type (`img_mgmt_get_next_boot_slot`, `img_mgmt_slot_in_use`,
/// `img_mgmt_set_next_boot_slot` in zephyrproject-rtos/zephyr
/// `subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt_state.c` @0014f3dc4dda; `img_mgmt.c`
/// @06407b78705a; `zephyr_img_mgmt.c` @03730aedf2af).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DirectXip {
    /// A swap mode: the swap type decides (docs/mcuboot.md).
    #[default]
    Off,
    /// `CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP`: the other slot boots next when its
    /// version is higher, always "pending, permanent"; there is no state write (rc 8, as
    /// Zephyr's img_mgmt has none in this mode).
    Plain,
    /// `CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP_WITH_REVERT`: a higher version boots
    /// only when marked (magic: test, image_ok: confirmed), through the direct-XIP build of
    /// `boot_set_next` ([`xip::set_next`]); an unconfirmed one is erased at the boot after
    /// its first.
    Revert,
}

/// `enum img_mgmt_next_boot_type` (Zephyr's img_mgmt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// `NEXT_BOOT_TYPE_NORMAL`: a confirmed boot, of the active slot or the other one.
    Normal,
    /// `NEXT_BOOT_TYPE_TEST`: the slot boots once, for test.
    Test,
    /// `NEXT_BOOT_TYPE_REVERT`: the running image is unconfirmed; the other slot boots next.
    Revert,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            images: 1,
            layout: Layout::default(),
            direct_upload: false,
            frugal_list: false,
            image_check: true,
            use_build_number: false,
            allow_erase_pending: true,
            reject_same_as_active: false,
            reject_trailer_overlap: false,
            max_image_size: None,
            confirm_any_image: false,
            secondary_offset: 0,
            direct_xip: DirectXip::Off,
        }
    }
}

/// Largest flash write unit the upload buffer handles.
const WBUF: usize = 64;

/// The upload session (Zephyr's `img_mgmt_state`).
struct Upload {
    slot: Option<usize>,
    off: u32,
    size: u32,
    sha: [u8; 32],
    sha_len: usize,
    hasher: Sha256,
    /// Bytes short of a write unit, not yet written, and where they go.
    wbuf: [u8; WBUF],
    wlen: usize,
    woff: u32,
}

impl Upload {
    fn new() -> Self {
        Upload {
            slot: None,
            off: 0,
            size: 0,
            sha: [0; 32],
            sha_len: 0,
            hasher: Sha256::new(),
            wbuf: [0; WBUF],
            wlen: 0,
            woff: 0,
        }
    }

    fn close(&mut self) {
        self.slot = None;
        self.off = 0;
        self.wlen = 0;
    }
}

/// One decoded upload request.
#[derive(Default)]
struct UploadReq<'b> {
    off: Option<u32>,
    data: Option<&'b [u8]>,
    len: Option<u32>,
    image: Option<u32>,
    sha: Option<&'b [u8]>,
    upgrade: Option<bool>,
}

/// The image group over `N` flash areas (two per image) and a boot control.
pub struct ImgGroup<F: NorFlash, B: BootControl, const N: usize> {
    slots: [F; N],
    boot: B,
    config: Config,
    up: Upload,
}

impl<F: NorFlash, B: BootControl, const N: usize> ImgGroup<F, B, N> {
    /// A new image group; `slots[2i]`, `slots[2i + 1]` are image `i`'s primary and
    /// secondary slots. `config.images` is clamped to `N / 2`.
    pub fn new(slots: [F; N], boot: B, mut config: Config) -> Self {
        const { assert!(N >= 2 && N & 1 == 0, "two flash areas per image") };
        config.images = config.images.clamp(1, (N / 2).max(1) as u8);
        ImgGroup {
            slots,
            boot,
            config,
            up: Upload::new(),
        }
    }

    /// The boot control.
    pub fn boot(&mut self) -> &mut B {
        &mut self.boot
    }

    /// The flash areas.
    pub fn slots(&mut self) -> &mut [F; N] {
        &mut self.slots
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn active_slot(&self, image: u8) -> usize {
        2 * image as usize + (self.boot.active_slot(image) & 1) as usize
    }

    fn swap_type(&mut self, image: u8) -> SwapType {
        self.boot.swap_type(image).unwrap_or(SwapType::None)
    }

    /// Where the image of `slot` starts ([`Config::secondary_offset`]; Zephyr's
    /// `boot_get_image_start_offset`): one sector into a secondary slot in swap-offset
    /// mode unless a revert is pending, else 0.
    fn image_offset(&mut self, slot: usize) -> u32 {
        if self.config.secondary_offset == 0 || slot.is_multiple_of(2) {
            return 0;
        }
        match self.swap_type((slot / 2) as u8) {
            SwapType::Revert => 0,
            _ => self.config.secondary_offset,
        }
    }

    fn inspect(&mut self, slot: usize) -> Option<ImageInfo> {
        let at = self.image_offset(slot);
        let f = self.slots.get_mut(slot)?;
        image::inspect(&mut Offset { f, at }).ok()
    }

    /// Whether `slot` is running, scheduled for a revert, or (when `pending_counts`)
    /// pending (`img_mgmt_slot_in_use`).
    fn in_use(&mut self, slot: usize, pending_counts: bool) -> bool {
        let image = (slot / 2) as u8;
        if slot == self.active_slot(image) {
            return true;
        }
        match self.config.direct_xip {
            // Plain direct-XIP: only the running slot is in use.
            DirectXip::Plain => return false,
            DirectXip::Revert => {
                let (next, ty) = self.next_boot_xip(image);
                let active = self.active_slot(image);
                return match ty {
                    Next::Revert => slot == next,
                    Next::Test if slot == next => pending_counts,
                    Next::Normal if next != active => pending_counts,
                    _ => false,
                };
            }
            DirectXip::Off => {}
        }
        match self.swap_type(image) {
            SwapType::Revert => true,
            SwapType::Test | SwapType::Perm => pending_counts,
            _ => false,
        }
    }

    fn state_read(&mut self, rsp: &mut Response<'_>) -> Result<(), Error> {
        let frugal = self.config.frugal_list;
        rsp.enc().str("images")?.begin_array()?;
        for image in 0..self.config.images {
            let active = self.active_slot(image);
            // The swap type, or in direct-XIP what it stands for: the next boot's slot and
            // its kind, as `img_mgmt_state_read` turns them into flags.
            let swap = match self.config.direct_xip {
                DirectXip::Off => self.swap_type(image),
                _ => match self.next_boot_xip(image) {
                    (n, _) if n == active => SwapType::None,
                    (_, Next::Normal) => SwapType::Perm,
                    (_, Next::Test) => SwapType::Test,
                    (_, Next::Revert) => SwapType::Revert,
                },
            };
            for slot in [2 * image as usize, 2 * image as usize + 1] {
                let Some(info) = self.inspect(slot) else {
                    continue;
                };
                let is_active = slot == active;
                let (pending, confirmed, permanent) = match (swap, is_active) {
                    (SwapType::Revert, true) => (false, false, false),
                    (_, true) => (false, true, false),
                    (SwapType::Test, false) => (true, false, false),
                    (SwapType::Perm, false) => (true, false, true),
                    (SwapType::Revert, false) => (false, true, false),
                    (_, false) => (false, false, false),
                };
                let enc = rsp.enc();
                enc.begin_map()?;
                if self.config.images > 1 {
                    enc.str("image")?.u8(image)?;
                }
                enc.str("slot")?.u8((slot % 2) as u8)?;
                let mut v = heapless::String::<32>::new();
                if write!(v, "{}", info.header.version).is_err() {
                    v.clear();
                    let _ = v.push_str("<???>");
                }
                enc.str("version")?.str(&v)?;
                enc.str("hash")?.bytes(&info.hash)?;
                let flags = [
                    ("bootable", info.header.is_bootable()),
                    ("pending", pending),
                    ("confirmed", confirmed),
                    ("active", is_active),
                    ("permanent", permanent),
                ];
                for (k, v) in flags {
                    if v || !frugal {
                        enc.str(k)?.bool(v)?;
                    }
                }
                enc.end()?;
            }
        }
        rsp.enc().end()?;
        if !frugal {
            rsp.enc().str("splitStatus")?.u8(0)?;
        }
        Ok(())
    }

    fn state_write(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        // Plain direct-XIP has no state write: Zephyr's img_mgmt_handlers has
        // `.mh_write = NULL` under CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP (img_mgmt.c
        // @06407b78), so the dispatcher answers rc 8 before reading the request. The
        // version alone decides what boots (MCUboot ignores the trailer there).
        if self.config.direct_xip == DirectXip::Plain {
            return Err(Rc::NotSup.into());
        }
        let mut hash = None;
        let mut confirm = None;
        for_each_entry(ctx.payload, |k, d| match k {
            "hash" => once(&mut hash, d.bytes()?),
            "confirm" => once(&mut confirm, d.bool()?),
            _ => Ok(false),
        })?;
        let confirm = confirm.unwrap_or(false);
        // As in Zephyr (`zhash.len == 0`), an empty `hash` counts as none.
        let slot = match hash.filter(|h: &&[u8]| !h.is_empty()) {
            None if confirm => self.active_slot(0),
            None => return Err(ImgMgmtErr::InvalidHash.into()),
            Some(h) if h.len() != 32 => return Err(ImgMgmtErr::InvalidHash.into()),
            Some(h) => (0..2 * self.config.images as usize)
                .find(|&s| self.inspect(s).is_some_and(|i| i.hash[..] == *h))
                .ok_or(ImgMgmtErr::HashNotFound)?,
        };
        let image = (slot / 2) as u8;
        let active = self.active_slot(image);
        let is_active = slot == active;
        // Image 0 is the running application; another image's running slot may only be
        // confirmed with `..._ALLOW_CONFIRM_NON_ACTIVE_IMAGE_ANY`.
        if confirm && image != 0 && is_active && !self.config.confirm_any_image {
            return Err(ImgMgmtErr::ImageConfirmationDenied.into());
        }
        if !confirm && is_active {
            return Err(ImgMgmtErr::ImageSettingTestToActiveDenied.into());
        }
        if self.config.direct_xip != DirectXip::Off {
            self.state_write_xip(slot, is_active, confirm)?;
            return self.state_read(rsp);
        }
        let swap = self.swap_type(image);
        let next = if swap == SwapType::None {
            active
        } else {
            active ^ 1
        };
        let busy = Error::from(ImgMgmtErr::ImageAlreadyPending);
        let write = match swap {
            SwapType::Test => {
                if !confirm && slot == next {
                    false
                } else {
                    return Err(busy);
                }
            }
            SwapType::Revert => {
                if !confirm {
                    return Err(busy);
                }
                slot != next
            }
            _ => {
                if confirm && slot == next {
                    false
                } else if swap == SwapType::Perm {
                    return Err(busy);
                } else {
                    true
                }
            }
        };
        if write {
            let r = if is_active {
                self.boot.confirm(image)
            } else {
                self.boot.request_upgrade(image, confirm)
            };
            r.map_err(|e| {
                Error::from(match e {
                    BootError::Flash => ImgMgmtErr::FlashWriteFailed,
                    BootError::BadVector => ImgMgmtErr::InvalidImageVectorTable,
                    BootError::BadImage => ImgMgmtErr::InvalidImageHeaderMagic,
                    BootError::NoImage => ImgMgmtErr::FlashOpenFailed,
                })
            })?;
        }
        self.state_read(rsp)
    }

    /// `img_mgmt_get_next_boot_slot` in the direct-XIP modes: the slot of `image` that
    /// boots next and how. Plain: the other slot when both hold images and the other's
    /// version is higher, a normal boot. Revert: from both slots' trailers
    /// ([`SlotState`]): an unconfirmed running image reverts to the other slot; a higher
    /// version in the other slot boots next, normally when confirmed, for test when only
    /// marked; a running image still on its first boot is a test.
    fn next_boot_xip(&mut self, image: u8) -> (usize, Next) {
        let active = self.active_slot(image);
        let other = active ^ 1;
        let use_build = self.config.use_build_number;
        let (Some(a), Some(o)) = (self.inspect(active), self.inspect(other)) else {
            return (active, Next::Normal);
        };
        let higher = a.header.version.compare(&o.header.version, use_build) == Ordering::Less;
        if self.config.direct_xip == DirectXip::Plain {
            return (if higher { other } else { active }, Next::Normal);
        }
        let layout = self.config.layout;
        let mut state = |slot: usize| {
            trailer::read(&mut self.slots[slot], &layout)
                .ok()
                .map(|st| SlotState::of(&st))
        };
        let (Some(sa), Some(so)) = (state(active), state(other)) else {
            return (active, Next::Normal);
        };
        match (sa, so) {
            (SlotState::Revert, _) => (other, Next::Revert),
            (SlotState::Once, SlotState::Unset) => (active, Next::Test),
            (_, SlotState::Unset) => (active, Next::Normal),
            (_, SlotState::Forever) if higher => (other, Next::Normal),
            (_, SlotState::Once) if higher => (other, Next::Test),
            _ => (active, Next::Normal),
        }
    }

    /// `img_mgmt_set_next_boot_slot` in direct-XIP with revert (the one direct-XIP mode
    /// with a state write; test on the active slot already refused): `boot_set_next` of
    /// the direct-XIP build on the slot, whatever the state.
    fn state_write_xip(
        &mut self,
        slot: usize,
        is_active: bool,
        confirm: bool,
    ) -> Result<(), Error> {
        let layout = self.config.layout;
        let r = xip::set_next(&mut self.slots[slot], &layout, is_active, confirm);
        r.map_err(|e| {
            Error::from(match e {
                BootError::Flash => ImgMgmtErr::FlashWriteFailed,
                BootError::BadVector => ImgMgmtErr::InvalidImageVectorTable,
                BootError::BadImage => ImgMgmtErr::InvalidImageHeaderMagic,
                BootError::NoImage => ImgMgmtErr::FlashOpenFailed,
            })
        })
    }

    fn upload(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let mut r = UploadReq::default();
        for_each_entry(ctx.payload, |k, d| match k {
            "off" => once(&mut r.off, d.u32()?),
            "data" => once(&mut r.data, d.bytes()?),
            "len" => once(&mut r.len, d.u32()?),
            "image" => once(&mut r.image, d.u32()?),
            "sha" => once(&mut r.sha, d.bytes()?),
            "upgrade" => once(&mut r.upgrade, d.bool()?),
            _ => Ok(false),
        })?;
        let result = self.upload_inner(&r, rsp);
        if result.is_err() {
            self.up.close();
        }
        result
    }

    fn upload_inner(&mut self, r: &UploadReq<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        let off = r.off.ok_or(ImgMgmtErr::InvalidOffset)?;
        let data = r.data.unwrap_or(&[]);
        if off == 0 {
            if data.len() < image::HEADER_LEN {
                return Err(ImgMgmtErr::InvalidImageHeader.into());
            }
            let len = r.len.ok_or(ImgMgmtErr::InvalidLength)?;
            if ImageHeader::raw_magic(data) != Some(IMAGE_MAGIC) {
                return Err(ImgMgmtErr::InvalidImageHeaderMagic.into());
            }
            let sha = r.sha.unwrap_or(&[]);
            if sha.len() > 32 {
                return Err(ImgMgmtErr::InvalidHash.into());
            }
            if !sha.is_empty()
                && self.up.slot.is_some()
                && self.up.sha_len == sha.len()
                && self.up.sha[..sha.len()] == *sha
            {
                rsp.enc().str("off")?.u32(self.up.off)?;
                return Ok(());
            }
            self.up.close();
            let slot = self.upload_target(r.image.unwrap_or(0))?;
            let base = self.image_offset(slot);
            let cap = self.slots[slot].capacity() as u32;
            let limit = self.config.layout.status_offset(cap).unwrap_or(0);
            if len > cap
                || (self.config.reject_trailer_overlap && len.saturating_add(base) > limit)
                || self.config.max_image_size.is_some_and(|max| {
                    // The image as far as its header tells (header, payload, protected
                    // TLVs), not `len`: an upload padded to the slot (imgtool --pad) is
                    // as large as its image, and its padding is the trailer.
                    let own = ImageHeader::parse(data).ok().and_then(|h| h.hashed_len());
                    own.unwrap_or(len).min(len) > max
                })
            {
                return Err(ImgMgmtErr::InvalidImageTooLarge.into());
            }
            if r.upgrade == Some(true) {
                // As Zephyr, read `ih_ver` straight from the first chunk (at least 32
                // bytes): nothing of the header but its magic is checked here.
                let version =
                    ImageHeader::raw_version(data).ok_or(ImgMgmtErr::InvalidImageHeader)?;
                let image = (slot / 2) as u8;
                let running = self.active_slot(image);
                let cur = self.inspect(running).ok_or(ImgMgmtErr::VersionGetFailed)?;
                if version.compare(&cur.header.version, self.config.use_build_number)
                    != Ordering::Greater
                {
                    return Err(ImgMgmtErr::CurrentVersionIsNewer.into());
                }
            }
            self.up.slot = Some(slot);
            self.up.size = len;
            self.up.sha[..sha.len()].copy_from_slice(sha);
            self.up.sha_len = sha.len();
            self.up.hasher = Sha256::new();
            self.up.off = 0;
            self.up.wlen = 0;
            self.up.woff = base;
            if self.config.image_check && sha.len() == 32 && self.holds(slot, base, len, sha) {
                self.up.close();
                rsp.enc().str("off")?.u32(len)?.str("match")?.bool(true)?;
                return Ok(());
            }
            self.erase_for_upload(slot, base.saturating_add(len))
                .inspect_err(|_| self.up.close())?;
        }
        let Some(slot) = self.up.slot else {
            rsp.enc().str("off")?.u32(0)?;
            return Ok(());
        };
        if off != self.up.off {
            rsp.enc().str("off")?.u32(self.up.off)?;
            return Ok(());
        }
        // Zephyr's img_mgmt_upload_inspect checks for an overrun on continuation chunks
        // only: a first chunk carrying more than its `len` is written, its offset answered,
        // and the upload can then never complete (the next chunk is the overrun).
        let end = off
            .checked_add(data.len() as u32)
            .filter(|&e| off == 0 || e <= self.up.size)
            .ok_or(ImgMgmtErr::InvalidImageDataOverrun)?;
        self.write_chunk(slot, data)?;
        self.up.hasher.update(data);
        self.up.off = end;
        rsp.enc().str("off")?.u32(end)?;
        if end == self.up.size {
            self.flush(slot)?;
            let digest: [u8; 32] = self.up.hasher.finalize_reset().into();
            let matched = self.up.sha_len == 32 && digest == self.up.sha;
            self.up.close();
            if self.config.reject_same_as_active {
                self.reject_if_active(slot)?;
            }
            if self.config.image_check {
                rsp.enc().str("match")?.bool(matched)?;
            }
        }
        Ok(())
    }

    /// Picks the slot an upload writes (`img_mgmt_get_unused_slot_area_id`).
    fn upload_target(&mut self, image: u32) -> Result<usize, Error> {
        let slot = if self.config.direct_upload && image > 0 {
            let s = (image - 1) as usize;
            if s >= 2 * self.config.images as usize {
                // No flash area for it: Zephyr answers "no slot".
                return Err(ImgMgmtErr::NoFreeSlot.into());
            }
            s
        } else {
            // Single-image builds ignore `image`.
            let image = if self.config.images == 1 { 0 } else { image };
            if image >= u32::from(self.config.images) {
                return Err(ImgMgmtErr::NoFreeSlot.into());
            }
            self.active_slot(image as u8) ^ 1
        };
        if self.in_use(slot, !self.config.allow_erase_pending) {
            return Err(ImgMgmtErr::NoFreeSlot.into());
        }
        Ok(slot)
    }

    /// Whether the `len` bytes of `slot` from `base` on hash to `sha` and its trailer is
    /// usable (a half-written trailer is only repaired by a fresh upload, which erases it).
    fn holds(&mut self, slot: usize, base: u32, len: u32, sha: &[u8]) -> bool {
        let layout = self.config.layout;
        let f = &mut self.slots[slot];
        if u64::from(len) + u64::from(base) > f.capacity() as u64 {
            return false;
        }
        let trailer_ok = trailer::read(f, &layout).is_ok_and(|t| {
            t.magic != trailer::Magic::Bad
                && t.image_ok != trailer::Flag::Bad
                && t.copy_done != trailer::Flag::Bad
        });
        trailer_ok
            && image::hash_region(&mut Offset { f, at: base }, len).is_ok_and(|h| h[..] == *sha)
    }

    /// Erases what the image will cover, from the slot's start to `len` (its end in the
    /// slot) rounded up to erase sectors, and the trailer's sectors.
    fn erase_for_upload(&mut self, slot: usize, len: u32) -> Result<(), Error> {
        let e = F::ERASE_SIZE.max(1) as u32;
        let f = &mut self.slots[slot];
        let cap = f.capacity() as u32;
        let fail = |_| Error::from(ImgMgmtErr::FlashEraseFailed);
        let body_end = len.div_ceil(e).saturating_mul(e).min(cap);
        let trailer = self.config.layout.status_offset(cap).unwrap_or(0);
        let trailer = trailer - trailer % e;
        if trailer <= body_end {
            f.erase(0, cap).map_err(fail)
        } else {
            if body_end > 0 {
                f.erase(0, body_end).map_err(fail)?;
            }
            f.erase(trailer, cap).map_err(fail)
        }
    }

    fn write_chunk(&mut self, slot: usize, mut data: &[u8]) -> Result<(), Error> {
        let w = F::WRITE_SIZE.max(1);
        if w > WBUF {
            return Err(ImgMgmtErr::FlashWriteFailed.into());
        }
        let fail = |_| Error::from(ImgMgmtErr::FlashWriteFailed);
        let f = &mut self.slots[slot];
        let up = &mut self.up;
        if up.wlen > 0 {
            let take = (w - up.wlen).min(data.len());
            up.wbuf[up.wlen..up.wlen + take].copy_from_slice(&data[..take]);
            up.wlen += take;
            data = &data[take..];
            if up.wlen == w {
                f.write(up.woff, &up.wbuf[..w]).map_err(fail)?;
                up.woff += w as u32;
                up.wlen = 0;
            }
        }
        let whole = data.len() - data.len() % w;
        if whole > 0 {
            f.write(up.woff, &data[..whole]).map_err(fail)?;
            up.woff += whole as u32;
        }
        let rest = &data[whole..];
        up.wbuf[up.wlen..up.wlen + rest.len()].copy_from_slice(rest);
        up.wlen += rest.len();
        Ok(())
    }

    fn flush(&mut self, slot: usize) -> Result<(), Error> {
        let w = F::WRITE_SIZE.max(1);
        let up = &mut self.up;
        if up.wlen == 0 {
            return Ok(());
        }
        up.wbuf[up.wlen..w].fill(self.config.layout.erased);
        self.slots[slot]
            .write(up.woff, &up.wbuf[..w])
            .map_err(|_| Error::from(ImgMgmtErr::FlashWriteFailed))?;
        up.woff += w as u32;
        up.wlen = 0;
        Ok(())
    }

    /// After an upload: refuses (and erases the header of) an image identical to the one
    /// running for the same image number.
    fn reject_if_active(&mut self, slot: usize) -> Result<(), Error> {
        let image = (slot / 2) as u8;
        let active = self.active_slot(image);
        let (Some(new), Some(cur)) = (self.inspect(slot), self.inspect(active)) else {
            return Ok(());
        };
        if new.hash != cur.hash {
            return Ok(());
        }
        let e = F::ERASE_SIZE.max(1) as u32;
        let at = self.image_offset(slot);
        let at = at - at % e;
        let _ = self.slots[slot].erase(at, at + e);
        Err(ImgMgmtErr::ImageAlreadyPending.into())
    }

    fn erase(&mut self, ctx: &Ctx<'_>) -> Result<(), Error> {
        let mut slot = None;
        for_each_entry(ctx.payload, |k, d| match k {
            "slot" => once(&mut slot, d.u32()?),
            _ => Ok(false),
        })?;
        let slot = match slot {
            Some(s) => s as usize,
            None => self.active_slot(0) ^ 1,
        };
        if slot >= 2 * self.config.images as usize {
            // Zephyr resets the upload after any erase attempt past the in-use check.
            self.up.close();
            return Err(ImgMgmtErr::InvalidSlot.into());
        }
        let pending_counts = !self.config.allow_erase_pending;
        if self.inspect(slot).is_some() && self.in_use(slot, pending_counts) {
            return Err(ImgMgmtErr::NoFreeSlot.into());
        }
        self.up.close();
        let f = &mut self.slots[slot];
        let cap = f.capacity();
        let mut buf = [0u8; 64];
        let mut blank = true;
        let mut off = 0;
        while off < cap && blank {
            let n = (cap - off).min(buf.len());
            f.read(off as u32, &mut buf[..n])
                .map_err(|_| Error::from(ImgMgmtErr::FlashReadFailed))?;
            blank = buf[..n].iter().all(|&b| b == self.config.layout.erased);
            off += n;
        }
        if !blank {
            f.erase(0, cap as u32)
                .map_err(|_| Error::from(ImgMgmtErr::FlashEraseFailed))?;
        }
        Ok(())
    }

    fn slot_info(&mut self, rsp: &mut Response<'_>) -> Result<(), Error> {
        let direct = self.config.direct_upload;
        rsp.enc().str("images")?.begin_array()?;
        for image in 0..self.config.images {
            let active = self.active_slot(image);
            let enc = rsp.enc();
            enc.begin_map()?.str("image")?.u8(image)?;
            enc.str("slots")?.begin_array()?;
            for slot in [2 * image as usize, 2 * image as usize + 1] {
                enc.begin_map()?.str("slot")?.u8((slot % 2) as u8)?;
                enc.str("size")?.u64(self.slots[slot].capacity() as u64)?;
                if direct {
                    enc.str("upload_image_id")?.u64(slot as u64 + 1)?;
                } else if slot != active {
                    enc.str("upload_image_id")?.u8(image)?;
                }
                enc.end()?;
            }
            enc.end()?.end()?;
        }
        rsp.enc().end()?;
        Ok(())
    }
}

impl<F: NorFlash, B: BootControl, const N: usize> Group for ImgGroup<F, B, N> {
    fn id(&self) -> u16 {
        group::IMAGE
    }

    fn name(&self) -> &'static str {
        "img mgmt"
    }

    fn handlers(&self) -> u8 {
        cmd::SLOT_INFO + 1
    }

    fn handle(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error> {
        match (ctx.header.id, ctx.is_read()) {
            (cmd::STATE, true) => self.state_read(rsp),
            (cmd::STATE, false) => self.state_write(ctx, rsp),
            (cmd::UPLOAD, false) => self.upload(ctx, rsp),
            (cmd::ERASE, false) => self.erase(ctx),
            (cmd::SLOT_INFO, true) => self.slot_info(rsp),
            _ => Err(Rc::NotSup.into()),
        }
    }

    fn v1_rc(&self, rc: u16) -> Rc {
        v1_rc(rc)
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_xip;

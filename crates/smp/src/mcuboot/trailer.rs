//! The image trailer at the end of every slot, byte-exact with MCUboot's
//! `bootutil_public.c` (docs/mcuboot.md, "Trailer" to "What the application writes"): layout, decoding, the writes the
//! application makes (`boot_set_next`), the writes the bootloader makes after a swap, and
//! the swap-type decision table.
//!
//! Offsets depend on the slot size `S` (the flash area's capacity) and on `BOOT_MAX_ALIGN`
//! `A` ([`Layout::max_align`], 8 by default). Every field is written with MCUboot's rule:
//! the value, then erased-value padding up to the flash write size `W` (`F::WRITE_SIZE`,
//! which must not exceed `A`), so the resulting bytes are the same for every `W <= A`.

use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};

use super::{align_down, align_up};
use crate::platform::{BootControl, BootError, BootloaderInfo, SwapType};

/// The trailer magic for `BOOT_MAX_ALIGN` = 8.
pub const MAGIC_8: [u8; 16] = [
    0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
];

/// Trailer geometry shared by the bootloader and the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// `BOOT_MAX_ALIGN`: 8, 16 or 32.
    pub max_align: u32,
    /// The flash's erased value (0xff; 0x00 on some devices).
    pub erased: u8,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            max_align: 8,
            erased: 0xff,
        }
    }
}

impl Layout {
    /// The 16 magic bytes for this alignment.
    pub fn magic(&self) -> [u8; 16] {
        if self.max_align == 8 {
            return MAGIC_8;
        }
        let mut m = [0u8; 16];
        m[..2].copy_from_slice(&(self.max_align as u16).to_le_bytes());
        m[2..].copy_from_slice(&[
            0x2d, 0xe1, 0x5d, 0x29, 0x41, 0x0b, 0x8d, 0x77, 0x67, 0x9c, 0x11, 0x0f, 0x1f, 0x8a,
        ]);
        m
    }

    fn a(&self) -> u32 {
        self.max_align.clamp(8, 32)
    }

    /// Offset of the 16 magic bytes in a slot of `size` bytes.
    pub fn magic_off(&self, size: u32) -> Option<u32> {
        size.checked_sub(16)
    }

    /// Offset of `image_ok`.
    pub fn image_ok_off(&self, size: u32) -> Option<u32> {
        Some(align_down(size.checked_sub(16 + self.a())?, self.a()))
    }

    /// Offset of `copy_done`.
    pub fn copy_done_off(&self, size: u32) -> Option<u32> {
        self.image_ok_off(size)?.checked_sub(self.a())
    }

    /// Offset of `swap_info`.
    pub fn swap_info_off(&self, size: u32) -> Option<u32> {
        self.copy_done_off(size)?.checked_sub(self.a())
    }

    /// Offset of `swap_size`.
    pub fn swap_size_off(&self, size: u32) -> Option<u32> {
        self.swap_info_off(size)?.checked_sub(self.a())
    }

    /// `boot_get_trailer_status_offset`: `S - 16 - 2A`, the start of what an upload must
    /// find erased.
    pub fn status_offset(&self, size: u32) -> Option<u32> {
        size.checked_sub(16 + 2 * self.a())
    }
}

/// The state of the trailer magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Magic {
    /// All erased.
    Unset,
    /// Exactly the expected magic.
    Good,
    /// Anything else.
    Bad,
}

/// The state of a one-byte flag (`image_ok`, `copy_done`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// Erased.
    Unset,
    /// `0x01`.
    Set,
    /// Anything else.
    Bad,
}

/// A decoded trailer (`boot_read_swap_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    /// Magic.
    pub magic: Magic,
    /// `image_ok`.
    pub image_ok: Flag,
    /// `copy_done`.
    pub copy_done: Flag,
    /// Swap type from `swap_info` (`None` when erased or out of range).
    pub swap_type: SwapType,
    /// Image number from `swap_info`.
    pub image: u8,
}

impl State {
    /// An erased trailer.
    pub const ERASED: State = State {
        magic: Magic::Unset,
        image_ok: Flag::Unset,
        copy_done: Flag::Unset,
        swap_type: SwapType::None,
        image: 0,
    };
}

fn rd<F: ReadNorFlash>(f: &mut F, off: Option<u32>, buf: &mut [u8]) -> Result<(), BootError> {
    f.read(off.ok_or(BootError::Flash)?, buf)
        .map_err(|_| BootError::Flash)
}

/// Reads and decodes the trailer of slot `f`.
pub fn read<F: ReadNorFlash>(f: &mut F, l: &Layout) -> Result<State, BootError> {
    let size = u32::try_from(f.capacity()).map_err(|_| BootError::Flash)?;
    let mut m = [0u8; 16];
    rd(f, l.magic_off(size), &mut m)?;
    let magic = if m.iter().all(|&b| b == l.erased) {
        Magic::Unset
    } else if m == l.magic() {
        Magic::Good
    } else {
        Magic::Bad
    };
    let flag = |b: u8| {
        if b == l.erased {
            Flag::Unset
        } else if b == 1 {
            Flag::Set
        } else {
            Flag::Bad
        }
    };
    let mut b = [0u8; 1];
    rd(f, l.image_ok_off(size), &mut b)?;
    let image_ok = flag(b[0]);
    rd(f, l.copy_done_off(size), &mut b)?;
    let copy_done = flag(b[0]);
    rd(f, l.swap_info_off(size), &mut b)?;
    let (swap_type, image) = if b[0] == l.erased || b[0] & 0x0f > 4 {
        (SwapType::None, 0)
    } else {
        (SwapType::from_u8(b[0] & 0x0f), b[0] >> 4)
    };
    Ok(State {
        magic,
        image_ok,
        copy_done,
        swap_type,
        image,
    })
}

/// Reads the `swap_size` field (`None` if erased).
pub fn read_swap_size<F: ReadNorFlash>(f: &mut F, l: &Layout) -> Result<Option<u32>, BootError> {
    let size = u32::try_from(f.capacity()).map_err(|_| BootError::Flash)?;
    let mut b = [0u8; 4];
    rd(f, l.swap_size_off(size), &mut b)?;
    Ok(if b.iter().all(|&x| x == l.erased) {
        None
    } else {
        Some(u32::from_le_bytes(b))
    })
}

/// `boot_write_trailer`: `data` at `off`, padded with the erased value to the write size.
fn write_field<F: NorFlash>(
    f: &mut F,
    l: &Layout,
    off: Option<u32>,
    data: &[u8],
) -> Result<(), BootError> {
    let off = off.ok_or(BootError::Flash)?;
    let w = F::WRITE_SIZE.max(1) as u32;
    let len = align_up(data.len() as u32, w) as usize;
    let mut buf = [l.erased; 32];
    let buf = buf.get_mut(..len).ok_or(BootError::Flash)?;
    buf[..data.len()].copy_from_slice(data);
    f.write(off, buf).map_err(|_| BootError::Flash)
}

fn size_of<F: ReadNorFlash>(f: &F) -> Result<u32, BootError> {
    u32::try_from(f.capacity()).map_err(|_| BootError::Flash)
}

/// Writes the magic: an `ALIGN_UP(16, A)` block ending at the slot's end.
pub fn write_magic<F: NorFlash>(f: &mut F, l: &Layout) -> Result<(), BootError> {
    let size = size_of(f)?;
    let block = align_up(16, l.a());
    let mut buf = [l.erased; 32];
    let buf = &mut buf[..block as usize];
    buf[block as usize - 16..].copy_from_slice(&l.magic());
    let off = size.checked_sub(block).ok_or(BootError::Flash)?;
    let w = F::WRITE_SIZE.max(1) as u32;
    if block.checked_rem(w) != Some(0) {
        return Err(BootError::Flash);
    }
    f.write(off, buf).map_err(|_| BootError::Flash)
}

/// Sets `image_ok` to 0x01.
pub fn write_image_ok<F: NorFlash>(f: &mut F, l: &Layout) -> Result<(), BootError> {
    let off = l.image_ok_off(size_of(f)?);
    write_field(f, l, off, &[1])
}

/// Sets `copy_done` to 0x01.
pub fn write_copy_done<F: NorFlash>(f: &mut F, l: &Layout) -> Result<(), BootError> {
    let off = l.copy_done_off(size_of(f)?);
    write_field(f, l, off, &[1])
}

/// Writes `swap_info = (image << 4) | swap_type`.
pub fn write_swap_info<F: NorFlash>(
    f: &mut F,
    l: &Layout,
    image: u8,
    swap_type: SwapType,
) -> Result<(), BootError> {
    let off = l.swap_info_off(size_of(f)?);
    write_field(f, l, off, &[(image << 4) | (swap_type as u8 & 0x0f)])
}

/// Writes `swap_size` (u32 LE).
pub fn write_swap_size<F: NorFlash>(f: &mut F, l: &Layout, v: u32) -> Result<(), BootError> {
    let off = l.swap_size_off(size_of(f)?);
    write_field(f, l, off, &v.to_le_bytes())
}

/// Erases the erase sectors holding the trailer fields (from `swap_size` to the end).
pub fn erase_trailer<F: NorFlash>(f: &mut F, l: &Layout) -> Result<(), BootError> {
    let size = size_of(f)?;
    let from = l.swap_size_off(size).ok_or(BootError::Flash)?;
    let from = align_down(from, F::ERASE_SIZE.max(1) as u32);
    f.erase(from, size).map_err(|_| BootError::Flash)
}

/// MCUboot's `boot_swap_type_multi` decision table (docs/mcuboot.md, "Swap types"), first match wins. `offset_mode`
/// enables row 0 (swap-offset: a secondary with `copy_done` set marks a revert).
pub fn swap_type(primary: &State, secondary: &State, offset_mode: bool) -> SwapType {
    let s = secondary;
    let p = primary;
    if offset_mode
        && s.magic == Magic::Good
        && s.image_ok == Flag::Unset
        && s.copy_done == Flag::Set
    {
        return SwapType::Revert;
    }
    if s.magic == Magic::Good && s.image_ok == Flag::Unset {
        return SwapType::Test;
    }
    if s.magic == Magic::Good && s.image_ok == Flag::Set {
        return SwapType::Perm;
    }
    if p.magic == Magic::Good && p.image_ok == Flag::Unset && p.copy_done == Flag::Set {
        return SwapType::Revert;
    }
    SwapType::None
}

/// `boot_set_next` (swap modes; docs/mcuboot.md, "What the application writes"): schedules slot `f` of `image` for a test or
/// permanent swap (`active == false`) or confirms the running slot (`active == true`).
pub fn set_next<F: NorFlash>(
    f: &mut F,
    l: &Layout,
    image: u8,
    active: bool,
    confirm: bool,
) -> Result<(), BootError> {
    let confirm = active || confirm;
    let st = read(f, l)?;
    match (st.magic, active) {
        (Magic::Good, true) => {
            if st.image_ok == Flag::Unset {
                write_image_ok(f, l)?;
            }
            Ok(())
        }
        (Magic::Good, false) | (Magic::Unset, true) => Ok(()),
        (Magic::Unset, false) => {
            write_magic(f, l)?;
            if confirm {
                write_image_ok(f, l)?;
            }
            let ty = if confirm {
                SwapType::Perm
            } else {
                SwapType::Test
            };
            write_swap_info(f, l, image, ty)
        }
        (Magic::Bad, true) => Err(BootError::BadVector),
        (Magic::Bad, false) => Err(BootError::BadImage),
    }
}

/// `boot_is_img_confirmed` on a primary slot's trailer: an erased magic counts as
/// confirmed (factory image).
pub fn is_confirmed(primary: &State) -> bool {
    primary.magic == Magic::Unset || primary.image_ok == Flag::Set
}

/// A [`BootControl`] over MCUboot trailers, for a port that emulates the bootloader (the
/// host) or for tests. `slots[2 * i]` and `slots[2 * i + 1]` are image `i`'s primary and
/// secondary slots.
pub struct TrailerBoot<F, const N: usize> {
    /// The slots, primary then secondary per image.
    pub slots: [F; N],
    /// Trailer geometry.
    pub layout: Layout,
    /// What `info()` reports.
    pub info: BootloaderInfo,
    /// The bootloader swaps using offset (`MCUBOOT_SWAP_USING_OFFSET`): [`swap_type`]
    /// with its extra row, as `boot_swap_type_multi` (mcu-tools/mcuboot
    /// `boot/bootutil/src/bootutil_public.c` @2d4bacc3) decides in that mode.
    pub offset_mode: bool,
    /// The slot (0 or 1) image 0 runs from: 0 in the swap modes, where the bootloader
    /// always runs the primary; in direct-XIP the slot the bootloader picked at this boot
    /// (`smp::mcuboot::swap::xip::boot`). Other images always run from their primary
    /// (Zephyr's `img_mgmt_active_slot`: multi-image builds do not support direct-XIP).
    pub active: u8,
}

impl<F: NorFlash, const N: usize> TrailerBoot<F, N> {
    /// A boot control over `slots` (swap with scratch, downgrades allowed).
    pub fn new(slots: [F; N], layout: Layout) -> Self {
        TrailerBoot {
            slots,
            layout,
            info: BootloaderInfo {
                name: "MCUboot",
                mode: 1,
                no_downgrade: false,
            },
            offset_mode: false,
            active: 0,
        }
    }

    fn slot(&mut self, image: u8, secondary: bool) -> Result<&mut F, BootError> {
        self.slots
            .get_mut(2 * image as usize + secondary as usize)
            .ok_or(BootError::NoImage)
    }
}

impl<F: NorFlash, const N: usize> BootControl for TrailerBoot<F, N> {
    fn swap_type(&mut self, image: u8) -> Result<SwapType, BootError> {
        let l = self.layout;
        let p = read(self.slot(image, false)?, &l)?;
        // An unreadable secondary counts as all-unset.
        let s = read(self.slot(image, true)?, &l).unwrap_or(State::ERASED);
        Ok(swap_type(&p, &s, self.offset_mode))
    }

    fn request_upgrade(&mut self, image: u8, permanent: bool) -> Result<(), BootError> {
        let l = self.layout;
        set_next(self.slot(image, true)?, &l, image, false, permanent)
    }

    fn confirm(&mut self, image: u8) -> Result<(), BootError> {
        let l = self.layout;
        set_next(self.slot(image, false)?, &l, image, true, true)
    }

    fn is_confirmed(&mut self, image: u8) -> Result<bool, BootError> {
        let l = self.layout;
        Ok(is_confirmed(&read(self.slot(image, false)?, &l)?))
    }

    fn active_slot(&self, image: u8) -> u8 {
        if image == 0 {
            self.active & 1
        } else {
            0
        }
    }

    fn info(&self) -> BootloaderInfo {
        self.info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::RamFlash;

    const S: usize = 0x1000;

    fn tail<const W: usize>(f: &RamFlash<S, W, 256>, n: usize) -> &[u8] {
        &f.as_bytes()[S - n..]
    }

    fn hex(s: &str) -> heapless::Vec<u8, 64> {
        let s: heapless::String<256> = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const MAGIC: &str = "77 c2 95 f3 60 d2 ef 7f 35 52 50 0f 2c b6 79 80";

    #[test]
    fn offsets_for_each_alignment() {
        let s = 0x60000;
        let l8 = Layout::default();
        assert_eq!(l8.image_ok_off(s), Some(s - 24));
        assert_eq!(l8.copy_done_off(s), Some(s - 32));
        assert_eq!(l8.swap_info_off(s), Some(s - 40));
        assert_eq!(l8.swap_size_off(s), Some(s - 48));
        let l16 = Layout {
            max_align: 16,
            ..Layout::default()
        };
        assert_eq!(l16.image_ok_off(s), Some(s - 32));
        assert_eq!(l16.swap_size_off(s), Some(s - 80));
        let l32 = Layout {
            max_align: 32,
            ..Layout::default()
        };
        assert_eq!(l32.image_ok_off(s), Some(s - 64));
        assert_eq!(l32.copy_done_off(s), Some(s - 96));
        assert_eq!(l32.swap_info_off(s), Some(s - 128));
        assert_eq!(l32.swap_size_off(s), Some(s - 160));
        assert_eq!(l32.magic()[..4], [0x20, 0x00, 0x2d, 0xe1]);
        assert_eq!(l8.image_ok_off(8), None);
    }

    #[test]
    fn request_test_bytes() {
        let l = Layout::default();
        let mut f = RamFlash::<S, 8, 256>::new();
        set_next(&mut f, &l, 0, false, false).unwrap();
        let want = hex(&[
            "ff ff ff ff ff ff ff ff 02 ff ff ff ff ff ff ff",
            "ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff",
            MAGIC,
        ]
        .concat());
        assert_eq!(tail(&f, 48), &want[..]);
        let st = read(&mut f, &l).unwrap();
        assert_eq!(swap_type(&State::ERASED, &st, false), SwapType::Test);
        // A second request (even permanent) is a no-op: the magic is already good.
        set_next(&mut f, &l, 0, false, true).unwrap();
        assert_eq!(tail(&f, 48), &want[..]);
    }

    #[test]
    fn request_permanent_bytes() {
        let l = Layout::default();
        let mut f = RamFlash::<S, 4, 256>::new();
        set_next(&mut f, &l, 0, false, true).unwrap();
        let want = hex(&[
            "ff ff ff ff ff ff ff ff 03 ff ff ff ff ff ff ff",
            "ff ff ff ff ff ff ff ff 01 ff ff ff ff ff ff ff",
            MAGIC,
        ]
        .concat());
        assert_eq!(tail(&f, 48), &want[..]);
        let st = read(&mut f, &l).unwrap();
        assert_eq!(swap_type(&State::ERASED, &st, false), SwapType::Perm);
        // Image 1 test: swap_info 0x12.
        let mut g = RamFlash::<S, 1, 256>::new();
        set_next(&mut g, &l, 1, false, false).unwrap();
        assert_eq!(tail(&g, 40)[0], 0x12);
        assert_eq!(read(&mut g, &l).unwrap().image, 1);
    }

    #[test]
    fn primary_after_test_swap_then_confirm() {
        let l = Layout::default();
        let mut p = RamFlash::<S, 8, 256>::new();
        // What the bootloader writes (docs/mcuboot.md, reset), trailer init then post-swap.
        write_swap_info(&mut p, &l, 0, SwapType::Test).unwrap();
        write_swap_size(&mut p, &l, 0x67f).unwrap();
        write_magic(&mut p, &l).unwrap();
        write_copy_done(&mut p, &l).unwrap();
        let want = hex(&[
            "7f 06 00 00 ff ff ff ff 02 ff ff ff ff ff ff ff",
            "01 ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff",
            MAGIC,
        ]
        .concat());
        assert_eq!(tail(&p, 48), &want[..]);
        let st = read(&mut p, &l).unwrap();
        assert_eq!(swap_type(&st, &State::ERASED, false), SwapType::Revert);
        assert!(!is_confirmed(&st));
        assert_eq!(read_swap_size(&mut p, &l).unwrap(), Some(0x67f));
        set_next(&mut p, &l, 0, true, true).unwrap();
        assert_eq!(
            &tail(&p, 32)[..16],
            &hex("01 ff ff ff ff ff ff ff 01 ff ff ff ff ff ff ff")[..]
        );
        let st = read(&mut p, &l).unwrap();
        assert_eq!(swap_type(&st, &State::ERASED, false), SwapType::None);
        assert!(is_confirmed(&st));
    }

    #[test]
    fn confirm_without_trailer_writes_nothing_and_bad_magic_fails() {
        let l = Layout::default();
        let mut p = RamFlash::<S, 8, 256>::new();
        set_next(&mut p, &l, 0, true, true).unwrap();
        assert!(p.as_bytes().iter().all(|&b| b == 0xff));
        assert!(is_confirmed(&read(&mut p, &l).unwrap()));
        p.write(S as u32 - 16, &[0u8; 16]).unwrap();
        assert_eq!(
            set_next(&mut p, &l, 0, true, true),
            Err(BootError::BadVector)
        );
        assert_eq!(
            set_next(&mut p, &l, 0, false, true),
            Err(BootError::BadImage)
        );
    }

    #[test]
    fn magic_for_align_32() {
        let l = Layout {
            max_align: 32,
            erased: 0xff,
        };
        let mut f = RamFlash::<S, 8, 256>::new();
        set_next(&mut f, &l, 0, false, true).unwrap();
        let t = tail(&f, 64);
        assert_eq!(t[0], 0x01); // image_ok at S-64
        assert!(t[1..32].iter().all(|&b| b == 0xff));
        assert!(t[32..48].iter().all(|&b| b == 0xff));
        assert_eq!(&t[48..], &l.magic());
        // A trailer written for A=32 reads BAD with A=8.
        assert_eq!(read(&mut f, &Layout::default()).unwrap().magic, Magic::Bad);
    }

    #[test]
    fn imgtool_padded_trailers() {
        use crate::mcuboot::Bytes;
        let confirm = include_bytes!("../../tests/data/confirm-ecdsa-p256.bin");
        let pad32 = include_bytes!("../../tests/data/pad32-ecdsa-p256.bin");
        let l8 = Layout::default();
        let l32 = Layout {
            max_align: 32,
            erased: 0xff,
        };
        let st = read(&mut Bytes(confirm), &l8).unwrap();
        assert_eq!(
            (st.magic, st.image_ok, st.copy_done),
            (Magic::Good, Flag::Set, Flag::Unset)
        );
        assert_eq!(st.swap_type, SwapType::None);
        // `--pad --confirm` in the secondary means a permanent swap without any request.
        assert_eq!(swap_type(&State::ERASED, &st, false), SwapType::Perm);
        let st = read(&mut Bytes(pad32), &l32).unwrap();
        assert_eq!((st.magic, st.image_ok), (Magic::Good, Flag::Unset));
        assert_eq!(swap_type(&State::ERASED, &st, false), SwapType::Test);
        assert_eq!(read(&mut Bytes(pad32), &l8).unwrap().magic, Magic::Bad);
        // Our writes reproduce imgtool's bytes.
        let mut f = RamFlash::<0x2000, 8, 256>::new();
        f.program(0, &confirm[..0x2000 - 64]);
        write_magic(&mut f, &l8).unwrap();
        write_image_ok(&mut f, &l8).unwrap();
        assert_eq!(f.as_bytes(), &confirm[..]);
        let mut g = RamFlash::<0x2000, 8, 256>::new();
        g.program(0, &pad32[..0x2000 - 64]);
        write_magic(&mut g, &l32).unwrap();
        assert_eq!(g.as_bytes(), &pad32[..]);
        // And the images inside are valid.
        crate::mcuboot::image::check_hash(&mut Bytes(confirm)).unwrap();
    }

    #[test]
    fn decision_table() {
        use Flag::*;
        let st = |magic, image_ok, copy_done| State {
            magic,
            image_ok,
            copy_done,
            swap_type: SwapType::None,
            image: 0,
        };
        let e = State::ERASED;
        let good = Magic::Good;
        assert_eq!(swap_type(&e, &e, false), SwapType::None);
        assert_eq!(
            swap_type(&e, &st(good, Unset, Unset), false),
            SwapType::Test
        );
        assert_eq!(swap_type(&e, &st(good, Set, Unset), false), SwapType::Perm);
        assert_eq!(swap_type(&e, &st(good, Bad, Unset), false), SwapType::None);
        assert_eq!(
            swap_type(&st(good, Unset, Set), &e, false),
            SwapType::Revert
        );
        assert_eq!(swap_type(&st(good, Set, Set), &e, false), SwapType::None);
        assert_eq!(
            swap_type(&st(good, Unset, Unset), &e, false),
            SwapType::None
        );
        // Secondary outranks primary.
        assert_eq!(
            swap_type(&st(good, Unset, Set), &st(good, Unset, Unset), false),
            SwapType::Test
        );
        // Row 0, swap-offset only.
        let s = st(good, Unset, Set);
        assert_eq!(swap_type(&e, &s, true), SwapType::Revert);
        assert_eq!(swap_type(&e, &s, false), SwapType::Test);
    }

    #[test]
    fn trailer_boot() {
        let l = Layout::default();
        let p = core::cell::RefCell::new(RamFlash::<S, 8, 256>::new());
        let s = core::cell::RefCell::new(RamFlash::<S, 8, 256>::new());
        let mut b = TrailerBoot::new(
            [
                crate::platform::SharedFlash(&p),
                crate::platform::SharedFlash(&s),
            ],
            l,
        );
        assert_eq!(b.swap_type(0), Ok(SwapType::None));
        assert_eq!(b.is_confirmed(0), Ok(true));
        b.request_upgrade(0, false).unwrap();
        assert_eq!(b.swap_type(0), Ok(SwapType::Test));
        assert_eq!(b.swap_type(1), Err(BootError::NoImage));
        assert_eq!(b.confirm(0), Ok(()));
    }
}

//! MCUboot (`src/smp_port_boot.c`): the facts `os bootloader info` reports
//! ([`bootloader_info`], for the OS group and the image group), and, with the image group,
//! `ZephyrBoot`, its `BootControl` over MCUboot's `boot_*` calls of
//! `zephyr/dfu/mcuboot.h`.

use smp::platform::BootloaderInfo;
#[cfg(smp_grp_img)]
use smp::platform::{BootControl, BootError, SwapType};

#[cfg(smp_grp_img)]
use super::PortError;
use super::{check32, sys};

/// MCUboot's name, mode (`enum mcuboot_mode`, -1 unknown) and downgrade prevention as this
/// build's Kconfig states them; `None` when the image does not run under MCUboot.
pub fn bootloader_info() -> Option<BootloaderInfo> {
    let (mut mode, mut no_downgrade) = (0i32, 0u32);
    // SAFETY: the out pointers are valid, exclusive locals for the call.
    let rc = unsafe { sys::smp_port_bootloader_info(&mut mode, &mut no_downgrade) };
    check32(rc).ok().map(|_| BootloaderInfo {
        name: "MCUboot",
        mode,
        no_downgrade: no_downgrade != 0,
    })
}

#[cfg(smp_grp_img)]
fn boot_err(e: PortError) -> BootError {
    match e {
        PortError::NoEnt => BootError::NoImage,
        PortError::Inval => BootError::BadImage,
        _ => BootError::Flash,
    }
}

/// MCUboot as the running application sees it.
#[cfg(smp_grp_img)]
#[derive(Debug, Default)]
pub struct ZephyrBoot {
    _private: (),
}

#[cfg(smp_grp_img)]
impl ZephyrBoot {
    /// A new handle (MCUboot's state lives in the slot trailers).
    pub fn new() -> Self {
        ZephyrBoot { _private: () }
    }
}

#[cfg(smp_grp_img)]
impl BootControl for ZephyrBoot {
    fn swap_type(&mut self, image: u8) -> Result<SwapType, BootError> {
        // SAFETY: plain integer argument and result.
        let v = check32(unsafe { sys::smp_port_boot_swap_type(image.into()) }).map_err(boot_err)?;
        Ok(SwapType::from_u8(u8::try_from(v).unwrap_or(0xff)))
    }

    fn request_upgrade(&mut self, image: u8, permanent: bool) -> Result<(), BootError> {
        // SAFETY: plain integer arguments and result.
        let rc = unsafe { sys::smp_port_boot_request_upgrade(image.into(), permanent.into()) };
        check32(rc).map(|_| ()).map_err(boot_err)
    }

    fn confirm(&mut self, image: u8) -> Result<(), BootError> {
        // SAFETY: plain integer argument and result.
        let rc = unsafe { sys::smp_port_boot_confirm(image.into()) };
        check32(rc).map(|_| ()).map_err(|e| match e {
            PortError::Inval => BootError::BadVector,
            e => boot_err(e),
        })
    }

    fn is_confirmed(&mut self, image: u8) -> Result<bool, BootError> {
        // SAFETY: plain integer argument and result.
        let rc = unsafe { sys::smp_port_boot_is_confirmed(image.into()) };
        check32(rc).map(|v| v != 0).map_err(boot_err)
    }

    fn info(&self) -> BootloaderInfo {
        bootloader_info().unwrap_or(BootloaderInfo {
            name: "MCUboot",
            mode: -1,
            no_downgrade: false,
        })
    }
}

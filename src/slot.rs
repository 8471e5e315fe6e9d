//! Static storage without an allocator: [`Slot`] holds the server state and hands it out one
//! caller at a time; [`StaticBuf`] is a zero-initialised buffer in `.bss` that is handed out
//! once.
//!
//! The port's contract is that Rust is entered by one thread (the SMP work queue). The flags
//! here check that contract (a re-entered or uninitialised slot is refused, not aliased);
//! they use plain atomic loads and stores because `thumbv6m` has no compare-and-swap.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

const EMPTY: u8 = 0;
const READY: u8 = 1;
const BUSY: u8 = 2;
const LEAKED: u8 = 3;

/// Why a [`Slot`] could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotError {
    /// Nothing has been put in the slot yet.
    Empty,
    /// The slot is in use (re-entry), or was leaked.
    Busy,
}

/// A statically allocated cell that is filled once and then lent out to one caller at a
/// time.
pub struct Slot<T> {
    state: AtomicU8,
    cell: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the contents are only reached through `leak` (once, moving the value out of the
// slot's control) or `with` (one caller at a time, checked by `state`); the port calls Rust
// from a single thread, so no two threads ever race on `state`.
unsafe impl<T> Sync for Slot<T> {}

impl<T> Slot<T> {
    /// An empty slot.
    pub const fn new() -> Self {
        Slot {
            state: AtomicU8::new(EMPTY),
            cell: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Moves `value` in and returns the only reference to it, valid for the rest of the
    /// program. Fails (returning the value) if the slot was already filled.
    // The state flag makes this the only `&mut` ever created from the cell.
    #[allow(clippy::mut_from_ref)]
    pub fn leak(&'static self, value: T) -> Result<&'static mut T, T> {
        if self.state.load(Ordering::Acquire) != EMPTY {
            return Err(value);
        }
        self.state.store(LEAKED, Ordering::Release);
        // SAFETY: the state was EMPTY and is now LEAKED, so no other reference to the cell
        // exists or will ever be created by this type; the cell lives for 'static.
        let cell = unsafe { &mut *self.cell.get() };
        Ok(cell.write(value))
    }

    /// Moves `value` in, to be lent out by [`Slot::with`]. Fails if already filled.
    pub fn put(&self, value: T) -> Result<(), T> {
        if self.state.load(Ordering::Acquire) != EMPTY {
            return Err(value);
        }
        self.state.store(BUSY, Ordering::Release);
        // SAFETY: the state was EMPTY, so nothing references the cell; BUSY keeps `with`
        // out while it is written.
        unsafe { (*self.cell.get()).write(value) };
        self.state.store(READY, Ordering::Release);
        Ok(())
    }

    /// Runs `f` on the contents, refusing re-entry.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R, SlotError> {
        match self.state.load(Ordering::Acquire) {
            READY => {}
            EMPTY => return Err(SlotError::Empty),
            _ => return Err(SlotError::Busy),
        }
        self.state.store(BUSY, Ordering::Release);
        // SAFETY: the state was READY, so the cell is initialised (by `put`) and no other
        // reference to it is live; BUSY refuses every other `with` until we are done.
        let value = unsafe { (*self.cell.get()).assume_init_mut() };
        let r = f(value);
        self.state.store(READY, Ordering::Release);
        Ok(r)
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A zero-initialised byte buffer in `.bss`, handed out once.
pub struct StaticBuf<const N: usize> {
    taken: AtomicBool,
    buf: UnsafeCell<[u8; N]>,
}

// SAFETY: the buffer is reachable only through the single `take` that succeeds.
unsafe impl<const N: usize> Sync for StaticBuf<N> {}

impl<const N: usize> StaticBuf<N> {
    /// A new buffer.
    pub const fn new() -> Self {
        StaticBuf {
            taken: AtomicBool::new(false),
            buf: UnsafeCell::new([0; N]),
        }
    }

    /// The buffer, the first time; `None` afterwards.
    // The `taken` flag makes this the only `&mut` ever created from the cell.
    #[allow(clippy::mut_from_ref)]
    pub fn take(&'static self) -> Option<&'static mut [u8]> {
        if self.taken.load(Ordering::Acquire) {
            return None;
        }
        self.taken.store(true, Ordering::Release);
        // SAFETY: `taken` was false, so this is the only reference ever made; the buffer
        // lives for 'static.
        Some(unsafe { &mut *self.buf.get() })
    }
}

impl<const N: usize> Default for StaticBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

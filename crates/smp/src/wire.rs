//! The SMP frame header and the protocol-wide numbers: operations, versions, group ids and
//! the SMP-level error codes (`MGMT_ERR_*`).
//!
//! # Panic contract
//!
//! Nothing in this module panics on any input: [`Header::new_checked`] validates the buffer
//! length once, after which every accessor is in bounds, and [`HeaderRepr::parse`] returns
//! `Err` for anything it cannot represent.
//!
//! ```
//! use smp::wire::{Header, HeaderRepr, Op, Version};
//! let bytes = [0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x04, 0x05, 0xbf, 0xff];
//! let repr = HeaderRepr::parse(&Header::new_checked(&bytes[..]).unwrap()).unwrap();
//! assert_eq!((repr.op, repr.version, repr.len, repr.seq, repr.id), (Op::Write, Version::V2, 2, 4, 5));
//! ```

use core::fmt;

/// Length of the SMP header in bytes.
pub const HEADER_LEN: usize = 8;

mod field {
    use core::ops::Range;
    pub const OP_VER: usize = 0;
    pub const FLAGS: usize = 1;
    pub const LEN: Range<usize> = 2..4;
    pub const GROUP: Range<usize> = 4..6;
    pub const SEQ: usize = 6;
    pub const ID: usize = 7;
}

/// The header buffer was shorter than [`HEADER_LEN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated;

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SMP header shorter than 8 bytes")
    }
}

impl core::error::Error for Truncated {}

/// A read/write view of an 8-byte SMP header at the start of a buffer.
#[derive(Debug, Clone)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wraps `buffer` without checking its length.
    pub const fn new_unchecked(buffer: T) -> Self {
        Header { buffer }
    }

    /// Wraps `buffer`, failing when it is shorter than a header.
    pub fn new_checked(buffer: T) -> Result<Self, Truncated> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Checks the buffer holds a whole header.
    pub fn check_len(&self) -> Result<(), Truncated> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Truncated)
        } else {
            Ok(())
        }
    }

    /// Returns the wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Operation code (bits 2..0 of byte 0).
    pub fn op(&self) -> u8 {
        self.buffer.as_ref()[field::OP_VER] & 0x07
    }
    /// Protocol version (bits 4..3 of byte 0).
    pub fn version(&self) -> u8 {
        (self.buffer.as_ref()[field::OP_VER] >> 3) & 0x03
    }
    /// Flags byte.
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }
    /// Payload length, excluding the header.
    pub fn len(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::LEN];
        u16::from_be_bytes([b[0], b[1]])
    }
    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Group id.
    pub fn group(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::GROUP];
        u16::from_be_bytes([b[0], b[1]])
    }
    /// Sequence number.
    pub fn seq(&self) -> u8 {
        self.buffer.as_ref()[field::SEQ]
    }
    /// Command id within the group.
    pub fn id(&self) -> u8 {
        self.buffer.as_ref()[field::ID]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Header<T> {
    /// Sets op and version together (byte 0; the reserved bits are cleared).
    pub fn set_op_version(&mut self, op: u8, version: u8) {
        self.buffer.as_mut()[field::OP_VER] = ((version & 0x03) << 3) | (op & 0x07);
    }
    /// Sets the flags byte.
    pub fn set_flags(&mut self, v: u8) {
        self.buffer.as_mut()[field::FLAGS] = v;
    }
    /// Sets the payload length.
    pub fn set_len(&mut self, v: u16) {
        self.buffer.as_mut()[field::LEN].copy_from_slice(&v.to_be_bytes());
    }
    /// Sets the group id.
    pub fn set_group(&mut self, v: u16) {
        self.buffer.as_mut()[field::GROUP].copy_from_slice(&v.to_be_bytes());
    }
    /// Sets the sequence number.
    pub fn set_seq(&mut self, v: u8) {
        self.buffer.as_mut()[field::SEQ] = v;
    }
    /// Sets the command id.
    pub fn set_id(&mut self, v: u8) {
        self.buffer.as_mut()[field::ID] = v;
    }
}

/// SMP operation codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// 0: read request.
    Read,
    /// 1: read response.
    ReadRsp,
    /// 2: write request.
    Write,
    /// 3: write response.
    WriteRsp,
    /// 4..7: not defined.
    Unknown(u8),
}

impl From<u8> for Op {
    fn from(v: u8) -> Self {
        match v {
            0 => Op::Read,
            1 => Op::ReadRsp,
            2 => Op::Write,
            3 => Op::WriteRsp,
            n => Op::Unknown(n),
        }
    }
}

impl From<Op> for u8 {
    fn from(op: Op) -> u8 {
        match op {
            Op::Read => 0,
            Op::ReadRsp => 1,
            Op::Write => 2,
            Op::WriteRsp => 3,
            Op::Unknown(n) => n,
        }
    }
}

impl Op {
    /// The response op Zephyr sends for a request with this op: 1 for a read, 3 for
    /// everything else (error replies to odd ops included).
    pub fn response(self) -> Op {
        match self {
            Op::Read => Op::ReadRsp,
            _ => Op::WriteRsp,
        }
    }
}

/// SMP protocol versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// 0: the original protocol ("SMP v1"); group errors are translated to `rc`.
    V1,
    /// 1: SMP v2; group errors travel as `err {group, rc}`.
    V2,
    /// 2 or 3: reserved; answered with `rc` 13 and version clamped to 1.
    Unknown(u8),
}

impl From<u8> for Version {
    fn from(v: u8) -> Self {
        match v {
            0 => Version::V1,
            1 => Version::V2,
            n => Version::Unknown(n),
        }
    }
}

impl From<Version> for u8 {
    fn from(v: Version) -> u8 {
        match v {
            Version::V1 => 0,
            Version::V2 => 1,
            Version::Unknown(n) => n,
        }
    }
}

impl Version {
    /// The version a response carries: `min(request, 1)`.
    pub fn response(self) -> Version {
        match self {
            Version::V1 => Version::V1,
            _ => Version::V2,
        }
    }
}

/// Error returned by [`HeaderRepr::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError;

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("malformed SMP header")
    }
}

impl core::error::Error for ParseError {}

/// A parsed SMP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderRepr {
    /// Operation.
    pub op: Op,
    /// Protocol version.
    pub version: Version,
    /// Flags (reserved, sent as 0).
    pub flags: u8,
    /// Payload length in bytes, excluding the header.
    pub len: u16,
    /// Group id.
    pub group: u16,
    /// Sequence number, echoed in the response.
    pub seq: u8,
    /// Command id.
    pub id: u8,
}

impl HeaderRepr {
    /// Parses a checked header. Every 8-byte pattern is representable, so this only fails
    /// on a buffer that did not pass `check_len`.
    pub fn parse<T: AsRef<[u8]>>(h: &Header<T>) -> Result<Self, ParseError> {
        h.check_len().map_err(|_| ParseError)?;
        Ok(HeaderRepr {
            op: Op::from(h.op()),
            version: Version::from(h.version()),
            flags: h.flags(),
            len: h.len(),
            group: h.group(),
            seq: h.seq(),
            id: h.id(),
        })
    }

    /// Length of the emitted header.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes this header into `h`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, h: &mut Header<T>) {
        h.set_op_version(self.op.into(), self.version.into());
        h.set_flags(self.flags);
        h.set_len(self.len);
        h.set_group(self.group);
        h.set_seq(self.seq);
        h.set_id(self.id);
    }

    /// The header of the response to this request, with payload length `len`.
    pub fn response(&self, len: u16) -> HeaderRepr {
        HeaderRepr {
            op: self.op.response(),
            version: self.version.response(),
            flags: 0,
            len,
            ..*self
        }
    }
}

/// Well-known group ids (`mgmt_defines.h`).
pub mod group {
    /// OS management.
    pub const OS: u16 = 0;
    /// Image management.
    pub const IMAGE: u16 = 1;
    /// Statistics.
    pub const STAT: u16 = 2;
    /// Settings (config).
    pub const SETTINGS: u16 = 3;
    /// Log (not implemented by Zephyr).
    pub const LOG: u16 = 4;
    /// Crash (not implemented by Zephyr).
    pub const CRASH: u16 = 5;
    /// Split image (not implemented by Zephyr).
    pub const SPLIT: u16 = 6;
    /// Run (not implemented by Zephyr).
    pub const RUN: u16 = 7;
    /// File system.
    pub const FS: u16 = 8;
    /// Shell.
    pub const SHELL: u16 = 9;
    /// Enumeration.
    pub const ENUM: u16 = 10;
    /// Zephyr basic (storage erase).
    pub const ZEPHYR_BASIC: u16 = 63;
    /// First application-defined group.
    pub const PERUSER: u16 = 64;
}

/// SMP-level result codes (`mcumgr_err_t`), sent as the top-level `rc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rc {
    /// 0: success.
    Ok,
    /// 1: unknown error.
    Unknown,
    /// 2: no memory / buffer.
    NoMem,
    /// 3: invalid request.
    Inval,
    /// 4: timeout.
    Timeout,
    /// 5: no such entry.
    NoEnt,
    /// 6: state forbids the command.
    BadState,
    /// 7: response does not fit.
    MsgSize,
    /// 8: unknown group, command or op.
    NotSup,
    /// 9: corrupt (truncated) packet.
    Corrupt,
    /// 10: busy.
    Busy,
    /// 11: access denied.
    AccessDenied,
    /// 12: SMP v1 request and legacy support disabled.
    TooOld,
    /// 13: header version newer than supported.
    TooNew,
    /// Any other value (256 and up are application defined).
    Other(u16),
}

impl From<Rc> for u16 {
    fn from(rc: Rc) -> u16 {
        match rc {
            Rc::Ok => 0,
            Rc::Unknown => 1,
            Rc::NoMem => 2,
            Rc::Inval => 3,
            Rc::Timeout => 4,
            Rc::NoEnt => 5,
            Rc::BadState => 6,
            Rc::MsgSize => 7,
            Rc::NotSup => 8,
            Rc::Corrupt => 9,
            Rc::Busy => 10,
            Rc::AccessDenied => 11,
            Rc::TooOld => 12,
            Rc::TooNew => 13,
            Rc::Other(n) => n,
        }
    }
}

impl From<u16> for Rc {
    fn from(v: u16) -> Rc {
        match v {
            0 => Rc::Ok,
            1 => Rc::Unknown,
            2 => Rc::NoMem,
            3 => Rc::Inval,
            4 => Rc::Timeout,
            5 => Rc::NoEnt,
            6 => Rc::BadState,
            7 => Rc::MsgSize,
            8 => Rc::NotSup,
            9 => Rc::Corrupt,
            10 => Rc::Busy,
            11 => Rc::AccessDenied,
            12 => Rc::TooOld,
            13 => Rc::TooNew,
            n => Rc::Other(n),
        }
    }
}

impl fmt::Display for Rc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Rc::Ok => "ok",
            Rc::Unknown => "unknown error",
            Rc::NoMem => "no memory",
            Rc::Inval => "invalid request",
            Rc::Timeout => "timeout",
            Rc::NoEnt => "no such entry",
            Rc::BadState => "bad state",
            Rc::MsgSize => "response too large",
            Rc::NotSup => "not supported",
            Rc::Corrupt => "corrupt packet",
            Rc::Busy => "busy",
            Rc::AccessDenied => "access denied",
            Rc::TooOld => "protocol version too old",
            Rc::TooNew => "protocol version too new",
            Rc::Other(n) => return write!(f, "error {n}"),
        };
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // TV1 request header: v1 write, len 0x2e, group 0, seq 1, id 0.
    static REQ: [u8; 8] = [0x02, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x01, 0x00];
    static RSP: [u8; 8] = [0x03, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x01, 0x00];

    #[test]
    fn test_deconstruct() {
        let h = Header::new_checked(&REQ[..]).unwrap();
        assert_eq!(h.op(), 2);
        assert_eq!(h.version(), 0);
        assert_eq!(h.len(), 0x2e);
        assert_eq!(h.group(), 0);
        assert_eq!(h.seq(), 1);
        assert_eq!(h.id(), 0);
    }

    #[test]
    fn test_construct_response() {
        let repr = HeaderRepr::parse(&Header::new_checked(&REQ[..]).unwrap()).unwrap();
        let mut out = [0xffu8; 8];
        repr.response(0x2e)
            .emit(&mut Header::new_unchecked(&mut out[..]));
        assert_eq!(out, RSP);
    }

    #[test]
    fn test_truncated() {
        assert_eq!(Header::new_checked(&REQ[..7]).err(), Some(Truncated));
    }

    #[test]
    fn response_op_and_version_rules() {
        assert_eq!(Op::Read.response(), Op::ReadRsp);
        for op in [1u8, 2, 3, 4, 5, 6, 7] {
            assert_eq!(Op::from(op).response(), Op::WriteRsp);
        }
        assert_eq!(Version::from(0).response(), Version::V1);
        assert_eq!(Version::from(2).response(), Version::V2);
        assert_eq!(Version::from(3).response(), Version::V2);
        // byte 0 of the v2 write response, 0x0b
        let mut b = [0u8; 8];
        let mut h = Header::new_unchecked(&mut b[..]);
        h.set_op_version(3, 1);
        assert_eq!(b[0], 0x0b);
    }

    #[test]
    fn rc_round_trip() {
        for n in 0u16..300 {
            assert_eq!(u16::from(Rc::from(n)), n);
        }
    }
}

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
    /// The op bits of byte 0.
    pub const OP_MASK: u8 = 0x07;
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
        self.buffer.as_ref()[field::OP_VER] & field::OP_MASK
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

/// Declares a protocol number enum whose named variants stand for fixed values and whose
/// `other` variant carries every other value, with the two lossless conversions to and from the
/// number type: each value is written once, in the table.
macro_rules! numbered {
    (
        $(#[$meta:meta])*
        pub enum $name:ident: $ty:ty {
            $( $(#[$vmeta:meta])* $var:ident = $val:literal, )*
        }
        $(#[$ometa:meta])* other $other:ident;
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $( $(#[$vmeta])* $var, )*
            $(#[$ometa])* $other($ty),
        }

        impl From<$ty> for $name {
            fn from(v: $ty) -> Self {
                match v {
                    $( $val => $name::$var, )*
                    n => $name::$other(n),
                }
            }
        }

        impl From<$name> for $ty {
            fn from(v: $name) -> $ty {
                match v {
                    $( $name::$var => $val, )*
                    $name::$other(n) => n,
                }
            }
        }
    };
}

numbered! {
    /// SMP operation codes.
    pub enum Op: u8 {
        /// 0: read request.
        Read = 0,
        /// 1: read response.
        ReadRsp = 1,
        /// 2: write request.
        Write = 2,
        /// 3: write response.
        WriteRsp = 3,
    }
    /// 4..7: not defined.
    other Unknown;
}

impl Op {
    /// The op of a packet whose first byte is `byte0` (the rest of the header not yet
    /// received): for a stream framing that must reject an undefined op early.
    pub fn of_first_byte(byte0: u8) -> Op {
        Op::from(byte0 & field::OP_MASK)
    }

    /// The response op Zephyr sends for a request with this op: 1 for a read, 3 for
    /// everything else (error replies to odd ops included).
    pub fn response(self) -> Op {
        match self {
            Op::Read => Op::ReadRsp,
            _ => Op::WriteRsp,
        }
    }
}

numbered! {
    /// SMP protocol versions.
    pub enum Version: u8 {
        /// 0: the original protocol ("SMP v1"); group errors are translated to `rc`.
        V1 = 0,
        /// 1: SMP v2; group errors travel as `err {group, rc}`.
        V2 = 1,
    }
    /// 2 or 3: reserved; answered with `rc` 13 and version clamped to 1.
    other Unknown;
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

    /// Parses the header at the start of `packet` (the bytes after it are not looked at):
    /// the one entry point for code that holds raw bytes, such as a transport or a packet
    /// log. Fails only when `packet` is shorter than [`HEADER_LEN`].
    pub fn from_bytes(packet: &[u8]) -> Result<Self, ParseError> {
        let h = Header::new_checked(packet).map_err(|_| ParseError)?;
        Self::parse(&h)
    }

    /// Length of the payload plus the header: the bytes this packet takes in a stream.
    pub const fn packet_len(&self) -> usize {
        HEADER_LEN + self.len as usize
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

/// The header as one log line: `op 2 ver 1 group 0 cmd 0 seq 1 len 46` (numbers as on the
/// wire; an undefined op or version prints its number too).
impl fmt::Display for HeaderRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "op {} ver {} group {} cmd {} seq {} len {}",
            u8::from(self.op),
            u8::from(self.version),
            self.group,
            self.id,
            self.seq,
            self.len
        )
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

numbered! {
    /// SMP-level result codes (`mcumgr_err_t`), sent as the top-level `rc`.
    pub enum Rc: u16 {
        /// 0: success.
        Ok = 0,
        /// 1: unknown error.
        Unknown = 1,
        /// 2: no memory / buffer.
        NoMem = 2,
        /// 3: invalid request.
        Inval = 3,
        /// 4: timeout.
        Timeout = 4,
        /// 5: no such entry.
        NoEnt = 5,
        /// 6: state forbids the command.
        BadState = 6,
        /// 7: response does not fit.
        MsgSize = 7,
        /// 8: unknown group, command or op.
        NotSup = 8,
        /// 9: corrupt (truncated) packet.
        Corrupt = 9,
        /// 10: busy.
        Busy = 10,
        /// 11: access denied.
        AccessDenied = 11,
        /// 12: SMP v1 request and legacy support disabled.
        TooOld = 12,
        /// 13: header version newer than supported.
        TooNew = 13,
    }
    /// Any other value (256 and up are application defined).
    other Other;
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
    fn display_is_one_log_line_of_wire_numbers() {
        let repr = HeaderRepr::from_bytes(&REQ).unwrap();
        let mut line = heapless::String::<64>::new();
        core::fmt::write(&mut line, format_args!("{repr}")).unwrap();
        assert_eq!(line, "op 2 ver 0 group 0 cmd 0 seq 1 len 46");
        // Undefined op and version, largest group and length.
        let odd = [0x1f, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x09];
        line.clear();
        let repr = HeaderRepr::from_bytes(&odd).unwrap();
        core::fmt::write(&mut line, format_args!("{repr}")).unwrap();
        assert_eq!(line, "op 7 ver 3 group 65535 cmd 9 seq 254 len 65535");
        assert_eq!(repr.packet_len(), 8 + 65535);
    }

    #[test]
    fn from_bytes_needs_a_whole_header_and_ignores_the_rest() {
        assert_eq!(HeaderRepr::from_bytes(&REQ[..7]), Err(ParseError));
        assert_eq!(HeaderRepr::from_bytes(&[]), Err(ParseError));
        let mut long = [0u8; 12];
        long[..8].copy_from_slice(&REQ);
        assert_eq!(
            HeaderRepr::from_bytes(&long),
            HeaderRepr::parse(&Header::new_checked(&REQ[..]).unwrap())
        );
    }

    #[test]
    fn op_and_version_tables() {
        let ops = [Op::Read, Op::ReadRsp, Op::Write, Op::WriteRsp];
        for n in 0u8..=255 {
            let op = Op::from(n);
            assert_eq!(u8::from(op), n);
            match ops.get(usize::from(n)) {
                Some(&named) => assert_eq!(op, named),
                None => assert_eq!(op, Op::Unknown(n)),
            }
        }
        let versions = [Version::V1, Version::V2];
        for n in 0u8..=255 {
            let v = Version::from(n);
            assert_eq!(u8::from(v), n);
            match versions.get(usize::from(n)) {
                Some(&named) => assert_eq!(v, named),
                None => assert_eq!(v, Version::Unknown(n)),
            }
        }
        assert_eq!(Rc::from(7), Rc::MsgSize);
        assert_eq!(Rc::from(13), Rc::TooNew);
        assert_eq!(Rc::from(14), Rc::Other(14));
    }

    #[test]
    fn rc_round_trip() {
        for n in 0u16..300 {
            assert_eq!(u16::from(Rc::from(n)), n);
        }
    }
}

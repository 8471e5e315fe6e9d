//! The dispatcher: groups, the registry, and the packet-processing loop of Zephyr's
//! `smp.c`.
//!
//! A [`Server`] owns a fixed-capacity registry of [`Group`]s. [`Server::process`] takes one
//! receive buffer (which may hold several SMP messages back to back), runs each request's
//! handler, and hands every response packet to the caller, encoded into the caller's
//! transmit buffer. Nothing is allocated.
//!
//! Errors follow Zephyr exactly (see docs/protocol.md, "One receive buffer" and "Errors"):
//! - framework failures (truncated packet, unknown group/command/op, version) and handler
//!   `rc` failures are answered `{"rc": N}` in either protocol version;
//! - group errors travel as `"err": {"group": g, "rc": r}` to SMP v2 requests, and are
//!   translated to a plain `rc` by the group's table for SMP v1 requests;
//! - any error stops the processing of the remaining messages of the buffer.

use core::fmt;

use minicbor::encode::write::{Cursor, EndOfSlice};
use minicbor::Encoder;

use crate::wire::{Header, HeaderRepr, Op, Rc, Version, HEADER_LEN};

/// The encoder handlers write their response keys with.
pub type Enc<'b> = Encoder<Cursor<&'b mut [u8]>>;

/// The result of a handler: success, an SMP-level `rc`, or a group error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Answered as `{"rc": N}` whatever the protocol version.
    Rc(Rc),
    /// A group error: `{"err": {"group", "rc"}}` in v2, translated `rc` in v1. The handler's
    /// partial output is discarded.
    Group {
        /// The group that defines `rc`.
        group: u16,
        /// The group's error code (never 0).
        rc: u16,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Rc(rc) => write!(f, "rc {} ({rc})", u16::from(*rc)),
            Error::Group { group, rc } => write!(f, "group {group} error {rc}"),
        }
    }
}

impl core::error::Error for Error {}

impl From<Rc> for Error {
    fn from(rc: Rc) -> Self {
        Error::Rc(rc)
    }
}

impl From<minicbor::decode::Error> for Error {
    fn from(_: minicbor::decode::Error) -> Self {
        Error::Rc(Rc::Inval)
    }
}

impl<E> From<minicbor::encode::Error<E>> for Error {
    fn from(_: minicbor::encode::Error<E>) -> Self {
        Error::Rc(Rc::MsgSize)
    }
}

/// One group's error codes (Zephyr's `*_mgmt_err_code_t`): the type knows its group, so a
/// handler names only the code, whether it returns it (`Err(FsMgmtErr::X.into())`) or
/// writes it next to other keys ([`Response::group_err`]).
pub trait GroupError: Copy {
    /// The id of the group that defines these codes.
    const GROUP: u16;
    /// The code's number in the group's table (never 0: 0 is success).
    fn code(self) -> u16;
}

impl<E: GroupError> From<E> for Error {
    fn from(e: E) -> Error {
        Error::Group {
            group: E::GROUP,
            rc: e.code(),
        }
    }
}

/// Implements [`GroupError`] for a fieldless `#[repr(u16)]` enum of one group.
macro_rules! group_error {
    ($ty:ty, $group:expr) => {
        impl $crate::server::GroupError for $ty {
            const GROUP: u16 = $group;
            fn code(self) -> u16 {
                self as u16
            }
        }
    };
}
pub(crate) use group_error;

/// Buffer configuration, as reported by `os mcumgr params`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Largest SMP packet (header included) a transport accepts or sends.
    pub buf_size: u32,
    /// Number of packet buffers.
    pub buf_count: u32,
}

/// What the registry knows of a group, visible to every handler (for enumeration and
/// statistics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupInfo {
    /// Group id.
    pub id: u16,
    /// Name as Zephyr's enumeration group reports it (`"os mgmt"`, ...).
    pub name: &'static str,
    /// Handler-table size: highest command id + 1.
    pub handlers: u8,
    /// Requests dispatched to this group since start.
    pub requests: u32,
}

/// Everything a handler gets to see about the request it serves.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The request header.
    pub header: HeaderRepr,
    /// The request payload, clipped to the header's length.
    pub payload: &'a [u8],
    /// Which transport (port-defined number) the request came from.
    pub transport: u8,
    /// Monotonic time in milliseconds, supplied by the port.
    pub now_ms: u64,
    /// Buffer configuration.
    pub params: Params,
    /// The registered groups, in registration order.
    pub groups: &'a [GroupInfo],
}

impl Ctx<'_> {
    /// The request's operation.
    pub fn op(&self) -> Op {
        self.header.op
    }
    /// Whether the request is a read.
    pub fn is_read(&self) -> bool {
        self.header.op == Op::Read
    }
}

/// The response being built: a CBOR map that the dispatcher opened and will close.
pub struct Response<'b> {
    enc: Enc<'b>,
    group_err: Option<(u16, u16)>,
}

impl<'b> Response<'b> {
    fn new(buf: &'b mut [u8]) -> Self {
        Response {
            enc: Encoder::new(Cursor::new(buf)),
            group_err: None,
        }
    }

    /// The encoder, positioned inside the response map: write keys and values.
    pub fn enc(&mut self) -> &mut Enc<'b> {
        &mut self.enc
    }

    /// Writes `"err": {"group": g, "rc": r}` in place, next to whatever keys the handler
    /// writes before or after it (Zephyr's `smp_add_cmd_err`). For an SMP v1 request the
    /// dispatcher replaces the whole reply with the translated `rc`.
    pub fn group_err<E: GroupError>(&mut self, e: E) -> Result<(), Error> {
        self.write_group_err(E::GROUP, e.code())
    }

    fn write_group_err(&mut self, group: u16, rc: u16) -> Result<(), Error> {
        self.enc
            .str("err")?
            .begin_map()?
            .str("group")?
            .u32(group.into())?
            .str("rc")?
            .u32(rc.into())?
            .end()?;
        self.group_err = Some((group, rc));
        Ok(())
    }

    fn position(&self) -> usize {
        self.enc.writer().position()
    }
}

/// A command group: decodes its requests, runs them, encodes the responses.
pub trait Group {
    /// Group id (see [`crate::wire::group`]).
    fn id(&self) -> u16;
    /// Name reported by the enumeration group's details command.
    fn name(&self) -> &'static str {
        ""
    }
    /// Handler-table size: highest command id this group answers + 1. Commands at or above
    /// it are answered `rc` 8 by the dispatcher.
    fn handlers(&self) -> u8;
    /// Handles one request. Return [`Rc::NotSup`] for a command or op the group lacks.
    fn handle(&mut self, ctx: &Ctx<'_>, rsp: &mut Response<'_>) -> Result<(), Error>;
    /// Called by the port, with the current time, at the deadline [`Group::next_deadline`]
    /// asked for (or at any other time): the place for timeouts (the FS group closes idle
    /// files here). Default: nothing.
    fn poll(&mut self, _now_ms: u64) {}
    /// The uptime in ms at which this group next needs [`Group::poll`], if any (the FS
    /// group: when its open file becomes idle). Default: never.
    fn next_deadline(&self) -> Option<u64> {
        None
    }
    /// Translates one of this group's error codes for an SMP v1 reply
    /// (`mg_translate_error`). The default maps everything to `rc` 1.
    fn v1_rc(&self, _rc: u16) -> Rc {
        Rc::Unknown
    }
}

/// The registry is full; raise the server's group capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryFull;

impl fmt::Display for RegistryFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SMP group registry full: raise the server's group capacity (N)")
    }
}

impl core::error::Error for RegistryFull {}

/// Options of the dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Buffer sizes reported to clients and enforced on responses.
    pub params: Params,
    /// Accept SMP v1 (version 0) requests (`MCUMGR_SMP_SUPPORT_ORIGINAL_PROTOCOL`, default
    /// on). When off, they are answered `rc` 12.
    pub support_v1: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            params: Params {
                buf_size: 384,
                buf_count: 4,
            },
            support_v1: true,
        }
    }
}

/// What [`Server::process`] did with a buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Responses handed to the sink.
    pub responses: usize,
    /// Whether processing stopped early on an error.
    pub aborted: bool,
}

/// Where a request came from: port-defined transport number and the current time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meta {
    /// Transport number, passed on to handlers in [`Ctx::transport`].
    pub transport: u8,
    /// Monotonic milliseconds.
    pub now_ms: u64,
}

/// The SMP server: a registry of up to `N` groups and the dispatch loop.
pub struct Server<'g, const N: usize> {
    groups: heapless::Vec<&'g mut dyn Group, N>,
    info: heapless::Vec<GroupInfo, N>,
    config: Config,
}

impl<'g, const N: usize> Server<'g, N> {
    /// An empty server.
    pub fn new(config: Config) -> Self {
        Server {
            groups: heapless::Vec::new(),
            info: heapless::Vec::new(),
            config,
        }
    }

    /// Registers a group. Registration order is what enumeration reports (Zephyr's is
    /// [`ZEPHYR_ORDER`](crate::groups::ZEPHYR_ORDER)).
    pub fn register(&mut self, group: &'g mut dyn Group) -> Result<(), RegistryFull> {
        let info = GroupInfo {
            id: group.id(),
            name: group.name(),
            handlers: group.handlers(),
            requests: 0,
        };
        self.info.push(info).map_err(|_| RegistryFull)?;
        self.groups.push(group).map_err(|_| RegistryFull)
    }

    /// The registered groups.
    pub fn groups(&self) -> &[GroupInfo] {
        &self.info
    }

    /// The dispatcher's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Gives every group a chance to act on the passage of time (see [`Group::poll`]).
    pub fn poll(&mut self, now_ms: u64) {
        for g in self.groups.iter_mut() {
            g.poll(now_ms);
        }
    }

    /// The earliest [`Group::next_deadline`] of the registered groups: the uptime in ms
    /// at which the port should call [`Server::poll`] next (`None`: no timer pending).
    pub fn next_deadline(&self) -> Option<u64> {
        self.groups.iter().filter_map(|g| g.next_deadline()).min()
    }

    /// Processes every SMP message in `rx`, calling `send` with each response packet
    /// (header included), encoded in `tx`. Responses larger than `tx` or than the
    /// configured buffer size are replaced by `{"rc": 7}`.
    pub fn process(
        &mut self,
        meta: Meta,
        rx: &[u8],
        tx: &mut [u8],
        mut send: impl FnMut(&[u8]),
    ) -> Outcome {
        let limit = tx.len().min(self.config.params.buf_size as usize);
        let tx = &mut tx[..limit];
        let mut out = Outcome::default();
        let mut rest = rx;
        // Fewer than 8 bytes left: no response (Zephyr's ECORRUPT, silent).
        while let Ok(h) = Header::new_checked(rest) {
            let Ok(req) = HeaderRepr::parse(&h) else {
                break;
            };
            let total = HEADER_LEN + req.len as usize;
            if rest.len() < total {
                if let Some(n) = encode_rc(&req, Rc::Corrupt, tx) {
                    send(&tx[..n]);
                    out.responses += 1;
                }
                out.aborted = true;
                break;
            }
            let payload = &rest[HEADER_LEN..total];
            rest = &rest[total..];
            let (n, ok) = self.handle_one(meta, &req, payload, tx);
            if n > 0 {
                send(&tx[..n]);
                out.responses += 1;
            }
            if !ok {
                out.aborted = true;
                break;
            }
        }
        out
    }

    /// Runs one request; returns the response length (0 = nothing to send) and whether the
    /// request succeeded at the framework level.
    fn handle_one(
        &mut self,
        meta: Meta,
        req: &HeaderRepr,
        payload: &[u8],
        tx: &mut [u8],
    ) -> (usize, bool) {
        let fail = |rc: Rc, tx: &mut [u8]| (encode_rc(req, rc, tx).unwrap_or(0), false);
        match req.op {
            Op::Read | Op::Write => {}
            _ => return fail(Rc::NotSup, tx),
        }
        match req.version {
            Version::V1 if !self.config.support_v1 => return fail(Rc::TooOld, tx),
            Version::Unknown(_) => return fail(Rc::TooNew, tx),
            _ => {}
        }
        let Some(idx) = self.info.iter().position(|g| g.id == req.group) else {
            return fail(Rc::NotSup, tx);
        };
        if req.id >= self.info[idx].handlers {
            return fail(Rc::NotSup, tx);
        }
        self.info[idx].requests = self.info[idx].requests.wrapping_add(1);
        if tx.len() < HEADER_LEN + 2 {
            return (0, false);
        }
        let ctx = Ctx {
            header: *req,
            payload,
            transport: meta.transport,
            now_ms: meta.now_ms,
            params: self.config.params,
            groups: &self.info,
        };
        let (head, body) = tx.split_at_mut(HEADER_LEN);
        let mut rsp = Response::new(body);
        let result = match rsp.enc().begin_map() {
            Ok(_) => self.groups[idx].handle(&ctx, &mut rsp),
            Err(e) => Err(e.into()),
        };
        let result = result.and_then(|()| rsp.enc().end().map(|_| ()).map_err(Error::from));
        let group_err = rsp.group_err;
        let len = rsp.position();

        match result {
            Ok(()) => match group_err {
                // v1 cannot carry `err`: the whole reply becomes the translated `rc`.
                Some((group, rc)) if req.version == Version::V1 => {
                    fail(self.translate(group, rc), tx)
                }
                _ => match emit_response_header(req, len, head) {
                    Some(n) => (n, true),
                    None => fail(Rc::MsgSize, tx),
                },
            },
            Err(Error::Rc(rc)) => fail(rc, tx),
            Err(Error::Group { group, rc }) => {
                if req.version == Version::V1 {
                    let rc = self.translate(group, rc);
                    return fail(rc, tx);
                }
                let mut rsp = Response::new(&mut tx[HEADER_LEN..]);
                let enc = (|| -> Result<(), Error> {
                    rsp.enc().begin_map()?;
                    rsp.write_group_err(group, rc)?;
                    rsp.enc().end()?;
                    Ok(())
                })();
                if enc.is_err() {
                    return fail(Rc::MsgSize, tx);
                }
                let len = rsp.position();
                match emit_response_header(req, len, &mut tx[..HEADER_LEN]) {
                    Some(n) => (n, true),
                    None => fail(Rc::MsgSize, tx),
                }
            }
        }
    }

    fn translate(&self, group: u16, rc: u16) -> Rc {
        let rc = match self.groups.iter().find(|g| g.id() == group) {
            Some(g) => g.v1_rc(rc),
            None => Rc::Unknown,
        };
        // Zephyr's basic group translates some codes to 0, which makes a malformed v1 reply;
        // an error must never read as success.
        if rc == Rc::Ok {
            Rc::Unknown
        } else {
            rc
        }
    }
}

/// Encodes the generic error response `{"rc": N}` for `req` into `tx`; returns its length.
pub fn encode_rc(req: &HeaderRepr, rc: Rc, tx: &mut [u8]) -> Option<usize> {
    if tx.len() < HEADER_LEN {
        return None;
    }
    let (head, body) = tx.split_at_mut(HEADER_LEN);
    let mut enc = Encoder::new(Cursor::new(body));
    let r: Result<_, minicbor::encode::Error<EndOfSlice>> = (|| {
        enc.begin_map()?
            .str("rc")?
            .u32(u16::from(rc).into())?
            .end()?;
        Ok(())
    })();
    r.ok()?;
    let len = enc.writer().position();
    emit_response_header(req, len, head)
}

/// Writes into `head` the header of the response to `req` whose body is `len` bytes long;
/// returns the packet length, or `None` when `len` does not fit the header's 16-bit length
/// field (a transport buffer above 64 KiB: the caller answers `rc` 7 instead).
fn emit_response_header(req: &HeaderRepr, len: usize, head: &mut [u8]) -> Option<usize> {
    let len16 = u16::try_from(len).ok()?;
    req.response(len16)
        .emit(&mut Header::new_checked(head).ok()?);
    Some(HEADER_LEN + len)
}

#[cfg(test)]
mod tests;

//! [`Client`]: the one test client. It builds a request, exchanges it through a
//! [`Server`], checks the response with [`check_response`], and reads fields, group
//! errors and the image state out of it ([`field`], [`err`], [`rc`], [`image_state`]).

use minicbor::data::Type;
use minicbor::Decoder;

use super::check::check_response;
use super::packet::Bytes;
use crate::cbor::for_each_entry;
use crate::server::{Config, Group, Meta, Server};
use crate::wire::{Header, HeaderRepr, Op, Version, HEADER_LEN};

/// A server under test with the groups registered, and the header fields of the next
/// request.
pub struct Client<'a, const N: usize = 4> {
    /// The server under test.
    pub server: Server<'a, N>,
    /// Metadata passed with every request (transport, clock).
    pub meta: Meta,
    /// Protocol version of the requests (SMP v2 unless set).
    pub version: Version,
    /// Sequence number of the requests.
    pub seq: u8,
    /// Transmit buffer length handed to the server (at most 4096).
    pub tx_len: usize,
}

impl<'a, const N: usize> Client<'a, N> {
    /// A client of a server built with `config` and no groups yet.
    pub fn new(config: Config) -> Self {
        Client {
            server: Server::new(config),
            meta: Meta::default(),
            version: Version::V2,
            seq: 0,
            tx_len: 4096,
        }
    }

    /// A client of a default-configured server holding `group`.
    pub fn with(group: &'a mut dyn Group) -> Self {
        let mut c = Self::new(Config::default());
        c.register(group);
        c
    }

    /// Registers one more group.
    ///
    /// # Panics
    /// When the server's registry is full.
    pub fn register(&mut self, group: &'a mut dyn Group) -> &mut Self {
        self.server.register(group).unwrap();
        self
    }

    /// Runs the raw bytes `rx` (any number of packets, or garbage) through the server;
    /// returns every response packet, concatenated, unchecked.
    pub fn exchange(&mut self, rx: &[u8]) -> Bytes {
        let mut tx = [0u8; 4096];
        let mut out = Bytes::new();
        let n = self.tx_len.min(tx.len());
        self.server.process(self.meta, rx, &mut tx[..n], |r| {
            out.extend_from_slice(r).unwrap()
        });
        out
    }

    /// The request packet with `op`, this client's version and sequence number, `group`,
    /// command `id` and `body`.
    pub fn packet(&self, op: Op, group: u16, id: u8, body: &[u8]) -> Bytes {
        let mut p = Bytes::new();
        p.resize(HEADER_LEN, 0).unwrap();
        HeaderRepr {
            op,
            version: self.version,
            flags: 0,
            len: u16::try_from(body.len()).unwrap(),
            group,
            seq: self.seq,
            id,
        }
        .emit(&mut Header::new_unchecked(&mut p[..]));
        p.extend_from_slice(body).unwrap();
        p
    }

    /// Sends one request and returns its one response packet, checked by
    /// [`check_response`] against the request and the buffer size.
    ///
    /// # Panics
    /// When there is not exactly one response or it is malformed.
    pub fn request(&mut self, op: Op, group: u16, id: u8, body: &[u8]) -> Bytes {
        let req = self.packet(op, group, id, body);
        let rsp = self.exchange(&req);
        let head = HeaderRepr::from_bytes(&req).unwrap();
        let one = HeaderRepr::from_bytes(&rsp).map(|h| h.packet_len());
        assert_eq!(one, Ok(rsp.len()), "not exactly one response: {rsp:02x?}");
        let limit = self.limit();
        check_response(&head, &rsp, limit);
        rsp
    }

    /// [`Client::request`] with a read.
    pub fn read(&mut self, group: u16, id: u8, body: &[u8]) -> Bytes {
        self.request(Op::Read, group, id, body)
    }

    /// [`Client::request`] with a write.
    pub fn write(&mut self, group: u16, id: u8, body: &[u8]) -> Bytes {
        self.request(Op::Write, group, id, body)
    }

    /// The largest response the server may send: the transmit buffer or the configured
    /// buffer size, whichever is smaller.
    pub fn limit(&self) -> usize {
        let buf = self.server.config().params.buf_size as usize;
        self.tx_len.min(4096).min(buf)
    }
}

/// The unsigned integer (or boolean, as 0/1) under the top-level `key` of the response
/// packet `rsp`.
///
/// # Panics
/// When the body is not a CBOR map.
pub fn field(rsp: &[u8], key: &str) -> Option<u64> {
    let mut got = None;
    for_each_entry(&rsp[HEADER_LEN..], |k, d| {
        if k == key {
            got = Some(match d.datatype()? {
                Type::Bool => d.bool()? as u64,
                _ => d.u64()?,
            });
            return Ok(true);
        }
        Ok(false)
    })
    .unwrap();
    got
}

/// The top-level `rc` of the response packet `rsp`.
pub fn rc(rsp: &[u8]) -> Option<u16> {
    field(rsp, "rc").map(|n| u16::try_from(n).unwrap())
}

/// The `rc` inside the SMP v2 group error `err {group, rc}` of the response packet `rsp`.
///
/// # Panics
/// When the body is not a CBOR map.
pub fn err(rsp: &[u8]) -> Option<u16> {
    let mut got = None;
    for_each_entry(&rsp[HEADER_LEN..], |k, d| {
        if k == "err" {
            for_each_entry(&d.input()[d.position()..], |k, d| {
                if k == "rc" {
                    got = Some(d.u16()?);
                    return Ok(true);
                }
                Ok(false)
            })?;
        }
        Ok(false)
    })
    .unwrap();
    got
}

/// One entry of the image group's state (`images` of a state read or write reply).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ImageEntry {
    /// `image`, when present.
    pub image: Option<u8>,
    /// `slot`.
    pub slot: u8,
    /// `version`.
    pub version: heapless::String<16>,
    /// `hash`.
    pub hash: [u8; 32],
    /// The boolean keys that are true, each followed by a space (`"active confirmed "`).
    pub flags: heapless::String<64>,
}

/// The `images` of an image state response packet `rsp`, which must be
/// `{"images": [...], "splitStatus": ...}` in that order.
///
/// # Panics
/// When the body has another shape.
pub fn image_state(rsp: &[u8]) -> heapless::Vec<ImageEntry, 6> {
    let mut out = heapless::Vec::new();
    let mut d = Decoder::new(&rsp[HEADER_LEN..]);
    d.map().unwrap();
    assert_eq!(d.str().unwrap(), "images");
    d.array().unwrap();
    while d.datatype().unwrap() != Type::Break {
        let mut e = ImageEntry::default();
        d.map().unwrap();
        while d.datatype().unwrap() != Type::Break {
            match d.str().unwrap() {
                "image" => e.image = Some(d.u8().unwrap()),
                "slot" => e.slot = d.u8().unwrap(),
                "version" => e.version = d.str().unwrap().try_into().unwrap(),
                "hash" => e.hash.copy_from_slice(d.bytes().unwrap()),
                k => {
                    if d.bool().unwrap() {
                        e.flags.push_str(k).unwrap();
                        e.flags.push(' ').unwrap();
                    }
                }
            }
        }
        d.skip().ok();
        out.push(e).unwrap();
    }
    d.skip().ok();
    assert_eq!(d.str().unwrap(), "splitStatus");
    out
}

//! Request and response bytes for the groups' byte-vector tests.

/// A test buffer (requests and responses).
pub type Bytes = heapless::Vec<u8, 4096>;

/// Parses hex digits, ignoring whitespace.
///
/// # Panics
/// On odd-length or non-hex input (tests only).
pub fn hex(s: &str) -> Bytes {
    let digits: heapless::Vec<u8, 8192> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| {
            let s = core::str::from_utf8(p).unwrap();
            u8::from_str_radix(s, 16).unwrap()
        })
        .collect()
}

/// Builds a request packet: `op_ver` is header byte 0 (`0x08` v2 read, `0x0a` v2 write,
/// `0x00`/`0x02` for v1), followed by `body`.
pub fn packet(op_ver: u8, group: u16, seq: u8, id: u8, body: &[u8]) -> Bytes {
    let mut p = Bytes::new();
    let len = body.len() as u16;
    let g = group.to_be_bytes();
    let l = len.to_be_bytes();
    p.extend_from_slice(&[op_ver, 0, l[0], l[1], g[0], g[1], seq, id])
        .unwrap();
    p.extend_from_slice(body).unwrap();
    p
}

/// What a [`body`] closure returns: its encoder calls' errors, propagated with `?`.
pub type EncResult = Result<(), minicbor::encode::Error<minicbor::encode::write::EndOfSlice>>;

/// Encodes a request body with `f` (inside an indefinite map that this function opens and
/// closes).
pub fn body(f: impl FnOnce(&mut crate::server::Enc<'_>) -> EncResult) -> Bytes {
    let mut buf = [0u8; 4096];
    let mut e = minicbor::Encoder::new(minicbor::encode::write::Cursor::new(&mut buf[..]));
    e.begin_map().unwrap();
    f(&mut e).unwrap();
    e.end().unwrap();
    let n = e.writer().position();
    heapless::Vec::from_slice(&buf[..n]).unwrap()
}

/// Runs `req` through `server` with `meta`; returns every response, concatenated.
pub fn exchange<const N: usize>(
    server: &mut crate::server::Server<'_, N>,
    meta: crate::server::Meta,
    req: &[u8],
) -> Bytes {
    let mut tx = [0u8; 4096];
    let mut out = Bytes::new();
    server.process(meta, req, &mut tx, |r| out.extend_from_slice(r).unwrap());
    out
}

/// The response body (after the 8-byte header) of a single response.
pub fn rsp_body(rsp: &[u8]) -> &[u8] {
    &rsp[crate::wire::HEADER_LEN..]
}

//! Command groups, one module each. Every module lists its command ids, request and
//! response keys, and error codes.

pub mod img;
pub mod os;

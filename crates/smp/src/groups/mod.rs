//! Command groups, one module each. Every module lists its command ids, request and
//! response keys, and error codes.

pub mod basic;
pub mod enum_;
pub mod fs;
pub mod os;
pub mod settings;
pub mod shell;
pub mod stat;

//! Transport codecs: byte framings that turn a transport's byte stream into SMP packets and
//! back. Codecs own no I/O; transports only move bytes.

pub mod raw;
pub mod serial;

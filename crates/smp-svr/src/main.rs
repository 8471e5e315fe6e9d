// Host-port modules; the device wiring (transports, groups) uses them.
#[allow(dead_code)]
mod boot;
#[allow(dead_code)]
mod flash;

fn main() {}

//! Bluetooth LE transport: Zephyr's SMP GATT service over the trouble host stack, with an
//! external controller reached over HCI (H4) on a byte stream ([`crate::ble_hci`]).
//!
//! The host stack (trouble-host 0.8 over bt-hci 0.10, async) runs on a thread of its own,
//! `ble`, on a current-thread tokio runtime. It hands each complete SMP request to the
//! engine's loop through a channel and a `mio::Waker` ([`Inbox`]); the core's responses
//! come back through another channel ([`Outbox`]) and go out as notifications. The core
//! therefore still runs on the engine's one thread, as every other transport's requests.
//!
//! The service is the one Zephyr's `smp_bt.c` registers (zephyrproject-rtos/zephyr
//! `subsys/mgmt/mcumgr/transport/src/smp_bt.c` at 16a3471af48baec949862c58f21622cdc5b29dd2;
//! UUIDs from `include/zephyr/mgmt/mcumgr/transport/smp_bt.h` at
//! 07d5b2e3b9ae50ed56cb6c95b0239267488f14d3):
//! - service 8D53DC1D-1DB7-4CD3-868B-8A527460AA84, one characteristic
//!   DA2E7828-FBCE-4E01-AE9E-261174997C48 with the properties write without response and
//!   notify, and its CCC descriptor;
//! - permissions as `SMP_GATT_PERM`: the characteristic's write and the CCC descriptor
//!   need nothing (`--ble-security open`, `CONFIG_MCUMGR_TRANSPORT_BT_PERM_RW`), an
//!   encrypted link (`encrypt`, `_PERM_RW_ENCRYPT`) or an encrypted and authenticated one
//!   (`authen`, `_PERM_RW_AUTHEN`); a write the link's security does not allow is refused
//!   by the ATT server and never reaches the core;
//! - requests are reassembled from several writes by the SMP header's length
//!   ([`crate::ble_reasm`]), bounded by `buf_size`;
//! - a response goes out as notifications of at most ATT MTU − 3 bytes
//!   (`smp_bt_conn_get_mtu()`), only to the connection its request came from (a response
//!   to a client that has left is dropped, as `smp_bt_tx_pkt()` drops it).
//!
//! Advertising is connectable, as the `smp_svr` sample's (`samples/subsys/mgmt/mcumgr/
//! smp_svr/src/bluetooth.c` at 06758ff20b28aae9fea4273ac0ba59aebf80966f), with the same
//! flags ("LE general discoverable, no BR/EDR"); it stops while a client is connected (one
//! connection at a time) and starts again after the disconnection. The sample puts the
//! 128-bit UUID in the advertising data and the name in the scan response; here the name
//! is in the advertising data (and the UUID too when both fit: a name of up to 8 bytes),
//! the UUID always in the scan response, because Bumble's virtual controller never
//! delivers scan response data: it reports a legacy advertiser's advertising data as its
//! scan response too (`bumble/controller.py`, `on_advertising_pdu`, bumble 0.0.228), and
//! clients find the device by name. A reset of the
//! device drops the link; the device advertises again right away.

use std::sync::mpsc;
use std::sync::Arc;

use embassy_futures::select::{select, Either};
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use tokio::sync::mpsc as tmpsc;
use trouble_host::prelude::*;

use crate::ble_hci::{Controller as Ctrl, Opened};
use crate::ble_reasm::{Collect, Reassembly};
use crate::stats::TransportStats;

/// The SMP service's UUID, in the little-endian order it has on the air.
pub const SERVICE_UUID: [u8; 16] = 0x8d53dc1d_1db7_4cd3_868b_8a527460aa84u128.to_le_bytes();
/// The SMP characteristic's UUID, little-endian.
pub const CHARACTERISTIC_UUID: [u8; 16] = 0xda2e7828_fbce_4e01_ae9e_261174997c48u128.to_le_bytes();

/// Bytes of a notification's ATT header (`BT_GATT_MESSAGE_OVERHEAD` in `smp_bt.c`).
const NOTIFY_OVERHEAD: usize = 3;

/// Attributes in the table: GAP (5), GATT (1), SMP (4), with room to spare.
const ATT_MAX: usize = 16;

/// What the characteristic and its CCC descriptor require of the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Security {
    /// No requirement (Zephyr's `CONFIG_MCUMGR_TRANSPORT_BT_PERM_RW`, the sample's).
    Open,
    /// An encrypted link (`CONFIG_MCUMGR_TRANSPORT_BT_PERM_RW_ENCRYPT`).
    Encrypt,
    /// An encrypted, authenticated link (`CONFIG_MCUMGR_TRANSPORT_BT_PERM_RW_AUTHEN`).
    Authen,
}

impl Security {
    fn level(self) -> PermissionLevel {
        match self {
            Security::Open => PermissionLevel::Allowed,
            Security::Encrypt => PermissionLevel::EncryptionRequired,
            Security::Authen => PermissionLevel::AuthenticationRequired,
        }
    }
}

/// One complete SMP request and the connection it came on.
pub struct Request {
    /// Connection number (counts from 1 per process).
    pub conn: u32,
    /// The packet.
    pub data: Vec<u8>,
}

/// What the engine tells the BLE thread.
enum Command {
    /// A response packet for connection `conn`.
    Send { conn: u32, data: Vec<u8> },
    /// The device resets: drop the link.
    Disconnect,
}

/// The engine's receiving side.
pub struct Inbox {
    rx: mpsc::Receiver<Request>,
    /// Counts what is received.
    pub stats: TransportStats,
    /// Transport number.
    pub transport: u8,
}

impl Inbox {
    /// The next complete request, if one waits.
    pub fn try_recv(&self) -> Option<Request> {
        self.rx.try_recv().ok()
    }
}

/// The engine's sending side.
pub struct Outbox {
    tx: tmpsc::UnboundedSender<Command>,
    /// Counts what is sent.
    pub stats: TransportStats,
}

impl Outbox {
    /// Queues one response packet for connection `conn`.
    pub fn send(&self, conn: u32, packet: &[u8]) {
        self.stats.tx(packet.len());
        let _ = self.tx.send(Command::Send {
            conn,
            data: packet.to_vec(),
        });
    }

    /// Drops the link (the device resets).
    pub fn disconnect(&self) {
        let _ = self.tx.send(Command::Disconnect);
    }
}

/// How the BLE transport is set up.
pub struct Config {
    /// The controller's stream, already opened.
    pub hci: Opened,
    /// How the controller was named (for messages).
    pub spec: String,
    /// Advertised name (and GAP device name).
    pub name: String,
    /// Required link security.
    pub security: Security,
    /// The SMP buffer size: requests are reassembled up to this size.
    pub buf_size: usize,
    /// The random static address, 6 bytes little-endian.
    pub address: [u8; 6],
}

/// The device's random static address: the same for a state directory and name across
/// restarts (a client that remembers it finds the device again), the two top bits set as
/// a static address has them.
pub fn address(state: &std::path::Path, name: &str) -> [u8; 6] {
    use sha2::Digest;
    let dir = std::fs::canonicalize(state).unwrap_or_else(|_| state.to_path_buf());
    let mut h = sha2::Sha256::new();
    h.update(dir.as_os_str().as_encoded_bytes());
    h.update([0]);
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut a = [0u8; 6];
    a.copy_from_slice(&d[..6]);
    a[5] |= 0xc0;
    a
}

/// What the stack needs once the controller is open.
struct Settings {
    name: String,
    security: Security,
    buf_size: usize,
}

/// Starts the BLE thread; `waker` wakes the engine when a request is queued.
pub fn start(
    cfg: Config,
    waker: Arc<mio::Waker>,
    transport: u8,
    stats: TransportStats,
) -> std::io::Result<(Inbox, Outbox)> {
    let (req_tx, req_rx) = mpsc::channel();
    let (cmd_tx, cmd_rx) = tmpsc::unbounded_channel();
    let thread_stats = stats.clone();
    std::thread::Builder::new()
        .name("ble".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    log::error!("ble: cannot start the runtime: {e}");
                    return;
                }
            };
            let link = Link {
                requests: req_tx,
                commands: cmd_rx,
                waker,
                stats: thread_stats,
            };
            if let Err(e) = rt.block_on(run(cfg, link)) {
                log::error!("ble: {e}; Bluetooth LE stopped (the other transports go on)");
            }
        })?;
    Ok((
        Inbox {
            rx: req_rx,
            stats: stats.clone(),
            transport,
        },
        Outbox { tx: cmd_tx, stats },
    ))
}

/// The BLE thread's ends of the channels.
struct Link {
    requests: mpsc::Sender<Request>,
    commands: tmpsc::UnboundedReceiver<Command>,
    waker: Arc<mio::Waker>,
    stats: TransportStats,
}

/// Builds the advertising data and the scan response: flags and the name (shortened to
/// what fits) in the advertising data, with the service's 128-bit UUID too when it fits
/// there; the UUID always in the scan response.
fn advertising(name: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    const MAX: usize = 31;
    const FLAGS: usize = 3;
    const UUID: usize = 2 + 16;
    let flags = AdStructure::Flags(LE_GENERAL_DISCOVERABLE | BR_EDR_NOT_SUPPORTED);
    let uuids = [SERVICE_UUID];
    let room = MAX - FLAGS - 2;
    let n = name.len().min(room);
    let name_ad = if n == name.len() {
        AdStructure::CompleteLocalName(name.as_bytes())
    } else {
        AdStructure::ShortenedLocalName(&name.as_bytes()[..n])
    };
    let mut adv = [0u8; MAX];
    let items: &[AdStructure<'_>] = if FLAGS + 2 + n + UUID <= MAX {
        &[flags, AdStructure::CompleteServiceUuids128(&uuids), name_ad]
    } else {
        &[flags, name_ad]
    };
    let a = AdStructure::encode_slice(items, &mut adv)
        .map_err(|e| format!("advertising data: {e:?}"))?;
    let mut scan = [0u8; MAX];
    let m = AdStructure::encode_slice(&[AdStructure::CompleteServiceUuids128(&uuids)], &mut scan)
        .map_err(|e| format!("scan response: {e:?}"))?;
    Ok((adv[..a].to_vec(), scan[..m].to_vec()))
}

async fn run(cfg: Config, mut link: Link) -> Result<(), String> {
    let Config {
        hci,
        spec,
        name,
        security,
        buf_size,
        address,
    } = cfg;
    let controller: Ctrl =
        crate::ble_hci::controller(hci).map_err(|e| format!("cannot use {spec}: {e}"))?;
    let cfg = Settings {
        name,
        security,
        buf_size,
    };
    let mut resources: HostResources<DefaultPacketPool, 1, 2> = HostResources::new();
    let mut builder =
        trouble_host::new(controller, &mut resources).set_random_address(Address::random(address));
    builder = match cfg.security {
        // Just Works pairing gives an encrypted, unauthenticated link.
        Security::Open | Security::Encrypt => {
            builder.set_io_capabilities(IoCapabilities::NoInputNoOutput)
        }
        // Authentication needs a passkey: the device "displays" it in its log.
        Security::Authen => builder.set_io_capabilities(IoCapabilities::DisplayOnly),
    };
    let stack = builder.build();
    let mut runner = stack.runner();
    let mut peripheral = stack.peripheral();

    let name = cfg.name.clone();
    let appearance = [0u8, 0]; // "unknown", as Zephyr's default CONFIG_BT_DEVICE_APPEARANCE
    let mut store = [0u8; 1];
    let mut table: AttributeTable<'_, NoopRawMutex, ATT_MAX> = AttributeTable::new();
    {
        let mut gap = table.add_service(Service::new(0x1800u16));
        let _ = gap.add_characteristic_ro(0x2a00u16, name.as_bytes());
        let _ = gap.add_characteristic_ro(0x2a01u16, &appearance);
        gap.build();
    }
    table.add_service(Service::new(0x1801u16));
    let level = cfg.security.level();
    let smp: Characteristic<[u8; 1]> = {
        let mut svc = table.add_service(Service::new(Uuid::new_long(SERVICE_UUID)));
        let c = svc
            .add_characteristic(
                Uuid::new_long(CHARACTERISTIC_UUID),
                [
                    CharacteristicProp::WriteWithoutResponse,
                    CharacteristicProp::Notify,
                ],
                [0u8; 1],
                &mut store[..],
            )
            .write_permission(level)
            .cccd_permission(level)
            .build();
        svc.build();
        c
    };
    let server = AttributeServer::<NoopRawMutex, DefaultPacketPool, ATT_MAX, 1>::new(table);
    let (adv, scan) = advertising(&cfg.name)?;
    let app = serve(
        &stack,
        &mut peripheral,
        &server,
        &smp,
        &adv,
        &scan,
        &cfg,
        &mut link,
    );
    match select(runner.run(), app).await {
        Either::First(r) => r.map_err(|e| format!("host stack: {e:?}")),
        Either::Second(r) => r,
    }
}

#[allow(clippy::too_many_arguments)]
async fn serve<'v>(
    stack: &Stack<'_, Ctrl, DefaultPacketPool>,
    peripheral: &mut Peripheral<'_, Ctrl, DefaultPacketPool>,
    server: &AttributeServer<'v, NoopRawMutex, DefaultPacketPool, ATT_MAX, 1>,
    smp: &Characteristic<[u8; 1]>,
    adv: &[u8],
    scan: &[u8],
    cfg: &Settings,
    link: &mut Link,
) -> Result<(), String> {
    let mut conn_id = 0u32;
    let mut reasm = Reassembly::new(cfg.buf_size);
    let mut announced = false;
    loop {
        let advertiser = peripheral
            .advertise(
                &AdvertisementParameters::default(),
                Advertisement::ConnectableScannableUndirected {
                    adv_data: adv,
                    scan_data: scan,
                },
            )
            .await
            .map_err(|e| format!("cannot advertise: {e:?}"))?;
        log::info!("ble: advertising as {:?}", cfg.name);
        if !announced {
            crate::announce(&format!("ble advertising {}", cfg.name));
            announced = true;
        }
        // While nobody is connected, a response still queued for a client that left is
        // dropped, and a reset has no link to drop.
        let accept = advertiser.accept();
        let mut accept = std::pin::pin!(accept);
        let conn = loop {
            match select(&mut accept, link.commands.recv()).await {
                Either::First(c) => break c.map_err(|e| format!("accept: {e:?}"))?,
                Either::Second(None) => return Ok(()),
                Either::Second(Some(_)) => {}
            }
        };
        let conn = conn
            .with_attribute_server(server)
            .map_err(|e| format!("attribute server: {e:?}"))?;
        conn_id += 1;
        log::info!(
            "ble: connection {conn_id} from {:?}",
            conn.raw().peer_address()
        );
        // Bumble's controller does not know LE Set Data Length: not fatal, the link then
        // keeps 27-byte LL packets (the host fragments).
        if let Err(e) = conn.raw().update_data_length(stack, 251, 2120).await {
            log::debug!("ble: data length update refused ({e:?}); not needed");
        }
        reasm.reset();
        session(&conn, smp, conn_id, &mut reasm, link).await;
        log::info!("ble: connection {conn_id} ended");
    }
}

/// Serves one connection until it ends.
async fn session(
    conn: &GattConnection<'_, '_, DefaultPacketPool>,
    smp: &Characteristic<[u8; 1]>,
    conn_id: u32,
    reasm: &mut Reassembly,
    link: &mut Link,
) {
    let mut disconnecting = false;
    loop {
        let ev = match select(conn.next(), link.commands.recv()).await {
            Either::First(ev) => ev,
            Either::Second(None) => return,
            Either::Second(Some(Command::Disconnect)) => {
                if !disconnecting {
                    log::info!("ble: reset: dropping connection {conn_id}");
                    conn.raw().disconnect();
                    disconnecting = true;
                }
                continue;
            }
            Either::Second(Some(Command::Send { conn: c, data })) => {
                if c == conn_id && !disconnecting {
                    notify(conn, smp, &data).await;
                }
                continue;
            }
        };
        match ev {
            GattConnectionEvent::Disconnected { reason } => {
                log::info!("ble: connection {conn_id} disconnected: {reason:?}");
                return;
            }
            GattConnectionEvent::Gatt { event } => {
                let reply = match event {
                    GattEvent::Write(w) if w.handle() == smp.handle => {
                        w.with_data(|_, data| write(data, conn_id, reasm, link));
                        w.accept_unprocessed()
                    }
                    GattEvent::NotAllowed(e) => {
                        log::warn!(
                            "ble: connection {conn_id}: a request the link's security does not allow was refused"
                        );
                        e.accept()
                    }
                    // The CCC descriptor and discovery: the attribute server answers.
                    other => other.accept(),
                };
                match reply {
                    Ok(r) => r.send().await,
                    Err(e) => log::warn!("ble: reply failed: {e:?}"),
                }
                // Unsubscribing drops a partly collected request (`smp_bt_ccc_changed()`).
                if reasm.started() && !subscribed(conn, smp) {
                    reasm.reset();
                }
            }
            GattConnectionEvent::PassKeyDisplay(key) => {
                // The board's "display": a client pairing with authentication enters it.
                log::warn!("ble: connection {conn_id}: pairing passkey {key}");
            }
            GattConnectionEvent::PairingComplete { security_level, .. } => {
                log::info!("ble: connection {conn_id}: paired, {security_level:?}");
            }
            GattConnectionEvent::PairingFailed(e) => {
                log::warn!("ble: connection {conn_id}: pairing failed: {e:?}");
            }
            _ => {}
        }
    }
}

/// Whether the client has notifications enabled.
fn subscribed(
    conn: &GattConnection<'_, '_, DefaultPacketPool>,
    smp: &Characteristic<[u8; 1]>,
) -> bool {
    smp.cccd_handle.is_some_and(|_| smp.should_notify(conn))
}

/// One write to the SMP characteristic.
fn write(data: &[u8], conn: u32, reasm: &mut Reassembly, link: &Link) {
    match reasm.collect(data) {
        Collect::More => {}
        Collect::Complete => {
            let data = reasm.take();
            if link.requests.send(Request { conn, data }).is_ok() {
                let _ = link.waker.wake();
            }
        }
        Collect::Dropped(why) => {
            link.stats.dropped();
            log::warn!("ble: connection {conn}: {why}: dropped");
        }
    }
}

/// Sends one response as notifications of at most ATT MTU − 3 bytes.
async fn notify(
    conn: &GattConnection<'_, '_, DefaultPacketPool>,
    smp: &Characteristic<[u8; 1]>,
    data: &[u8],
) {
    let chunk = usize::from(conn.raw().att_mtu())
        .saturating_sub(NOTIFY_OVERHEAD)
        .max(1);
    for part in data.chunks(chunk) {
        if let Err(e) = smp.notify_raw(conn, part, false).await {
            log::warn!("ble: notification failed ({e:?}): response dropped");
            return;
        }
    }
}

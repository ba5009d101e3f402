//! The live inbox against grammers itself, offline: a data centre that
//! accepts TCP and never answers (what a hung server looks like), and a
//! session that tracks 200 channels.

use std::net::{Ipv4Addr, SocketAddrV4, SocketAddrV6};

use grammers_client::session::Session;
use grammers_client::session::types::{ChannelState, DcOption, PeerAuth, PeerInfo, UpdatesState};
use grammers_client::session::updates::UpdatesLike;
use grammers_client::tl;
use grammers_session::types::UpdateState;

use super::*;
use crate::telegram::session;

const BOT: i64 = 856_254_490;

/// Accepts connections and never answers; keeps them open.
async fn black_hole() -> u16 {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    port
}

/// A session whose home data centre is `port` on loopback, knowing the bot.
async fn session_at(dir: &std::path::Path, port: u16) -> Arc<SqliteSession> {
    let s = session::open(dir).await.unwrap();
    s.set_home_dc_id(2).await.unwrap();
    s.set_dc_option(&DcOption {
        id: 2,
        ipv4: SocketAddrV4::new(Ipv4Addr::LOCALHOST, port),
        ipv6: SocketAddrV6::new(Ipv4Addr::LOCALHOST.to_ipv6_mapped(), port, 0, 0),
        auth_key: None,
    })
    .await
    .unwrap();
    s.cache_peer(PeerInfo::User {
        id: BOT,
        auth: Some(PeerAuth::from_hash(42)),
        bot: Some(true),
        is_self: None,
    })
    .await
    .unwrap();
    s
}

fn short() -> Limits {
    Limits {
        call: Duration::from_millis(300),
        probe_every: Duration::from_secs(3600),
        timeouts: 3,
        scan_cooldown: Duration::from_secs(600),
    }
}

/// Issue 9 item 3: a server that accepts and never answers gives timeouts,
/// and the third in a row asks for a new pool (was: a wait without end).
#[tokio::test]
async fn a_server_that_never_answers_times_out_then_asks_for_a_new_pool() {
    let tmp = tempfile::tempdir().unwrap();
    let session = session_at(tmp.path(), black_hole().await).await;
    let mut conn = Connection::open(session, 1);
    let mut inbox = GrammersInbox::start(&mut conn, vec![BOT], short(), LastScan::default())
        .await
        .unwrap();
    let window = Window::new(Some(1), 0, 0);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let read = tokio::time::timeout(Duration::from_secs(10), inbox.history(BOT, window))
            .await
            .expect("a history read came back within its time limit");
        seen.push(read.unwrap_err());
    }
    assert!(matches!(seen[0], TgError::Transient(_)), "{seen:?}");
    assert!(matches!(seen[1], TgError::Transient(_)), "{seen:?}");
    assert!(matches!(seen[2], TgError::Closed(_)), "{seen:?}");
    drop(inbox);
    // The runner is stuck in the connect: closing must not wait for it.
    tokio::time::timeout(Duration::from_secs(5), conn.close())
        .await
        .expect("a stuck pool is closed");
}

/// Issue 9 item 1: with 200 channels in the session's update state, the bank
/// bot's message comes through without a request about any of them (the data
/// centre never answers, so one such request would stall the stream).
#[tokio::test]
async fn two_hundred_channels_in_the_session_do_not_delay_the_bank_message() {
    let tmp = tempfile::tempdir().unwrap();
    let session = session_at(tmp.path(), black_hole().await).await;
    let channels: Vec<ChannelState> = (1..=200)
        .map(|i| ChannelState {
            id: 1_000_000 + i,
            pts: 50,
        })
        .collect();
    for c in &channels {
        session
            .cache_peer(PeerInfo::Channel {
                id: c.id,
                auth: Some(PeerAuth::from_hash(c.id)),
                kind: None,
            })
            .await
            .unwrap();
    }
    session
        .set_update_state(UpdateState::All(UpdatesState {
            pts: 0,
            qts: 0,
            date: 0,
            seq: 0,
            channels,
        }))
        .await
        .unwrap();
    let mut conn = Connection::open(Arc::clone(&session), 1);
    let (updates, from_telegram) = mpsc::channel(16);
    conn.updates = Some(from_telegram);
    let mut inbox = GrammersInbox::start(&mut conn, vec![BOT], short(), LastScan::default())
        .await
        .unwrap();
    let channel_post = tl::types::UpdateNewChannelMessage {
        message: tl::types::MessageEmpty {
            id: 5,
            peer_id: Some(
                tl::types::PeerChannel {
                    channel_id: 1_000_007,
                }
                .into(),
            ),
        }
        .into(),
        pts: 90,
        pts_count: 1,
    };
    updates
        .send(UpdatesLike::Updates(
            tl::types::UpdateShort {
                update: channel_post.into(),
                date: 0,
            }
            .into(),
        ))
        .await
        .unwrap();
    let credit = tl::types::UpdateShortMessage {
        out: false,
        mentioned: false,
        media_unread: false,
        silent: false,
        id: 77,
        user_id: BOT,
        message: "Popolnenie 20 001 UZS".into(),
        pts: 1,
        pts_count: 1,
        date: 1_700_000_000,
        fwd_from: None,
        via_bot_id: None,
        reply_to: None,
        entities: None,
        ttl_period: None,
    };
    updates
        .send(UpdatesLike::Updates(credit.into()))
        .await
        .unwrap();
    let message = tokio::time::timeout(Duration::from_secs(5), inbox.next())
        .await
        .expect("the bank message came through without waiting for the channels")
        .unwrap();
    assert_eq!((message.chat(), message.message_id), (BOT, 77));
    let stored = session.updates_state().await.unwrap();
    assert!(stored.channels.is_empty(), "{:?}", stored.channels.len());
    drop(inbox);
    conn.close().await;
}

/// Issue 9 item 2: `Dropped` while the pool runs is one closed connection
/// (transient); once the pool has stopped it is `Closed`.
#[test]
fn a_dropped_request_is_transient_while_the_pool_runs() {
    let health = Health {
        alive: Arc::new(AtomicBool::new(true)),
        timeouts: Arc::default(),
        limit: 3,
    };
    let dropped = || InvocationError::Dropped("SenderPoolRunner was dropped during receive");
    assert!(matches!(health.classify(dropped()), TgError::Transient(_)));
    health.alive.store(false, Ordering::SeqCst);
    assert!(matches!(health.classify(dropped()), TgError::Closed(_)));
}

/// Issue 9 item 4: a dialog scan that failed is not redone at once (scans
/// invite flood waits); the chat is reported unreadable until the cool-down.
#[tokio::test]
async fn a_failed_dialog_scan_is_not_redone_before_its_cool_down() {
    let tmp = tempfile::tempdir().unwrap();
    let session = session_at(tmp.path(), black_hole().await).await;
    let mut conn = Connection::open(session, 1);
    let last_scan = LastScan::default();
    let mut limits = short();
    limits.call = Duration::from_millis(100);
    let mut inbox = GrammersInbox::start(&mut conn, vec![BOT, 42], limits, last_scan.clone())
        .await
        .unwrap();
    let window = Window::new(Some(1), 0, 0);
    // Chat 42 is not in the session: a scan is tried (and times out).
    let first = inbox.history(42, window).await.unwrap_err();
    assert!(matches!(first, TgError::Transient(_)), "{first:?}");
    assert!(last_scan.lock().unwrap().is_some());
    let second = tokio::time::timeout(Duration::from_secs(1), inbox.history(42, window))
        .await
        .expect("no second scan")
        .unwrap_err();
    assert!(matches!(second, TgError::Rejected(_)), "{second:?}");
    drop(inbox);
    conn.close().await;
}

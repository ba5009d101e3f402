//! The `Store` contract, checked directly on both implementations (the
//! in-memory store and a private real Redis): the invariants of the brief at
//! the level where they are enforced, with explicit clocks so grace windows,
//! deadlines and leases are exact.

mod support;

use std::sync::{Arc, LazyLock};

use paycue::allocation::{CardClasses, DEFAULT_ROUND_STEP};
use paycue::model::{Action, CreditKind, CreditOutcome, TxStatus};
use paycue::money::Money;
use paycue::store::{
    ApplyOutcome, AttemptResult, CancelOutcome, CreateOutcome, IncomingCredit, MemoryStore,
    NewTransaction, RedisStore, Store, StoreSettings,
};
use support::RedisServer;
use support::app::Backend;

support::both!(
    ended_amount_is_held_for_grace_then_reissued,
    transaction_changes_state_once,
    same_message_is_applied_once,
    credit_matching_checks_card_currency_and_date,
    expiry_racing_a_credit_ends_in_exactly_one_state,
    outbox_lease_hides_an_event_until_it_runs_out,
    a_finish_from_an_expired_claim_leaves_the_newer_claim_alone,
    a_redelivered_event_starts_a_new_series_of_attempts,
    events_of_one_transaction_go_out_in_order,
    two_store_handles_never_issue_the_same_amount,
    two_sweepers_cancel_each_transaction_once,
    reversal_of_a_confirmed_credit_is_recorded_once,
    reversal_that_matches_nothing_is_listed_unmatched,
    retention_removes_what_ended_and_still_refuses_replays,
    an_expiry_hold_is_seen_by_every_handle_and_lapses,
    a_round_price_is_never_a_unique_amount,
    a_card_less_credit_can_pay_only_one_order,
    reversal_after_a_duplicate_payment_is_ambiguous,
    retention_keeps_a_paid_order_through_its_reversal_window,
    retention_keeps_a_transaction_with_an_undelivered_event,
    a_free_amount_is_issued_after_cards_are_regrouped,
);

/// The tests' clock starts at the real time: Redis forgets an ended hold by
/// its own clock, so a hold must not be released in the past. Every later
/// instant is explicit (T0 + n), so grace windows and leases are exact.
static T0: LazyLock<i64> = LazyLock::new(paycue::model::now_millis);
const GRACE: i64 = 10 * 60_000;
const TTL: i64 = 30 * 60_000;
const REVERSAL_WINDOW: i64 = paycue::store::REVERSAL_WINDOW_MS;

struct Ctx {
    stores: Vec<Arc<dyn Store>>,
    _redis: Option<RedisServer>,
}

/// `handles` views of one store: for Redis, separate connections (as two
/// processes would have); for memory, the same store.
fn open(b: Backend, test: &str, handles: usize) -> Option<Ctx> {
    let settings = StoreSettings {
        grace_ms: GRACE,
        ..StoreSettings::default()
    };
    match b {
        Backend::Memory => {
            let store: Arc<dyn Store> = Arc::new(MemoryStore::new(settings));
            Some(Ctx {
                stores: vec![store; handles],
                _redis: None,
            })
        }
        Backend::Redis => {
            let redis = RedisServer::start(test)?;
            let stores = (0..handles)
                .map(|_| {
                    Arc::new(RedisStore::open(&redis.url(), settings.clone())) as Arc<dyn Store>
                })
                .collect();
            Some(Ctx {
                stores,
                _redis: Some(redis),
            })
        }
    }
}

fn cards(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| c.to_string()).collect()
}

/// Card classes: the cards of one class share amounts (a card-less message
/// could be for any of them); `&[]` is the implicit card.
fn classes(list: &[&[&str]]) -> CardClasses {
    CardClasses::from_classes(list.iter().map(|c| cards(c)).collect())
}

fn new_tx(price: i64, card_classes: &[&[&str]], at: i64) -> NewTransaction {
    NewTransaction {
        id: uuid::Uuid::new_v4().to_string(),
        requested_amount: Money::from_major(price),
        currency: "UZS".into(),
        cards: classes(card_classes),
        limit: 3,
        round_step: DEFAULT_ROUND_STEP,
        created_at: at,
        expires_at: at + TTL,
        metadata: Some(serde_json::json!({"order": price})),
        idempotency: None,
    }
}

async fn create(
    s: &dyn Store,
    price: i64,
    card_classes: &[&[&str]],
    at: i64,
) -> paycue::model::Transaction {
    match s.create(new_tx(price, card_classes, at)).await.unwrap() {
        CreateOutcome::Created(tx) => tx,
        other => panic!("expected a new transaction, got {other:?}"),
    }
}

fn credit(msg: i64, major: i64, store_cards: &[&str], date: i64, now: i64) -> IncomingCredit {
    IncomingCredit {
        credit_id: uuid::Uuid::new_v4().to_string(),
        event_id: paycue::engine::new_event_id(),
        cancel_event_id: paycue::engine::new_event_id(),
        bank: "humo".into(),
        amount: Money::from_major(major),
        currency: Some("UZS".into()),
        card_last4: None,
        cards: cards(store_cards),
        expected_currency: "UZS".into(),
        sender_id: 856_254_490,
        chat_id: 856_254_490,
        scope: String::new(),
        message_id: msg,
        date,
        received_at: now,
        text: format!("credit {major} for message {msg}"),
    }
}

/// Delivers every due event (oldest first), as a shop that is up would.
async fn deliver_all(s: &dyn Store, now: i64) {
    while let Some(d) = s.claim_event(now, 1_000).await.unwrap() {
        let ok = paycue::model::Attempt {
            at: now,
            status_code: Some(200),
            error: None,
            duration_ms: 1,
        };
        s.finish_attempt(&d.event.id, d.claim, ok, AttemptResult::Delivered)
            .await
            .unwrap();
    }
}

fn major(tx: &paycue::model::Transaction) -> i64 {
    tx.amount.minor() / 100
}

async fn ended_amount_is_held_for_grace_then_reissued(b: Backend) {
    let Some(ctx) = open(b, "grace", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let a = create(s, 100, &[], *T0).await;
    assert_eq!(major(&a), 101, "offsets start at +1");
    let cancelled = s.cancel(&a.id, "evt_a", *T0 + 1_000).await.unwrap();
    assert!(matches!(cancelled, CancelOutcome::Cancelled(_)));
    let b2 = create(s, 100, &[], *T0 + 2_000).await;
    assert_eq!(
        major(&b2),
        102,
        "an ended amount stays held during its grace window"
    );
    let c = create(s, 100, &[], *T0 + 1_000 + GRACE + 1).await;
    assert_eq!(major(&c), 101, "and is free again after it");
}

async fn transaction_changes_state_once(b: Backend) {
    let Some(ctx) = open(b, "once", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let tx = create(s, 500, &[], *T0).await;
    let paid = s
        .apply_credit(credit(1, 501, &[""], *T0 + 5, *T0 + 6))
        .await
        .unwrap();
    assert!(matches!(paid, ApplyOutcome::Confirmed { .. }), "{paid:?}");
    match s.cancel(&tx.id, "evt_x", *T0 + 7).await.unwrap() {
        CancelOutcome::NotPending(t) => assert_eq!(t.status, TxStatus::Confirmed),
        other => panic!("a confirmed transaction was cancelled: {other:?}"),
    }
    // A second payment of the same amount is late on the same order.
    let again = s
        .apply_credit(credit(2, 501, &[""], *T0 + 8, *T0 + 9))
        .await
        .unwrap();
    match again {
        ApplyOutcome::Late { transaction, .. } => {
            assert_eq!(transaction.id, tx.id);
            assert_eq!(transaction.status, TxStatus::Confirmed);
        }
        other => panic!("{other:?}"),
    }
    let swept = s
        .expire_due(*T0 + TTL + 1, &["evt_y".into()])
        .await
        .unwrap();
    assert!(
        swept.is_empty(),
        "the sweep must not touch a confirmed transaction"
    );
    let events = s.events(&tx.id).await.unwrap();
    let actions: Vec<Action> = events.iter().map(|e| e.action).collect();
    assert_eq!(actions, vec![Action::Confirm, Action::Late]);
    assert!(matches!(
        s.cancel("no-such-id", "evt_z", *T0).await.unwrap(),
        CancelOutcome::NotFound
    ));
}

async fn same_message_is_applied_once(b: Backend) {
    let Some(ctx) = open(b, "dedupe", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    create(s, 700, &[], *T0).await;
    let first = s
        .apply_credit(credit(42, 701, &[""], *T0, *T0))
        .await
        .unwrap();
    assert!(matches!(first, ApplyOutcome::Confirmed { .. }));
    for _ in 0..3 {
        let replay = s
            .apply_credit(credit(42, 701, &[""], *T0, *T0 + 1))
            .await
            .unwrap();
        assert_eq!(replay, ApplyOutcome::Duplicate);
    }
    assert!(s.mark_seen("", 856_254_490, 43).await.unwrap());
    assert!(!s.mark_seen("", 856_254_490, 43).await.unwrap());
    assert!(
        !s.mark_seen("", 856_254_490, 42).await.unwrap(),
        "seen as a credit"
    );
    assert!(s.mark_seen("", 856_254_490, 7).await.unwrap());
    assert_eq!(s.last_message_id("", 856_254_490).await.unwrap(), Some(43));
    assert_eq!(s.last_message_id("", 1).await.unwrap(), None);
    assert!(
        s.list_credits(CreditOutcome::Late, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn credit_matching_checks_card_currency_and_date(b: Backend) {
    let Some(ctx) = open(b, "matching", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    // Cards no card-less message can confuse: each its own class. (A
    // card-less credit reaching both is then `ambiguous_card`: the engine
    // never builds one, the store still refuses to guess.)
    let two: &[&[&str]] = &[&["8600123412347466"], &["9860****4428"]];
    let a = create(s, 900, two, *T0).await;
    let b2 = create(s, 900, two, *T0).await;
    assert_eq!((major(&a), major(&b2)), (901, 901), "both cards at +1");
    let reason = |o: ApplyOutcome| match o {
        ApplyOutcome::Unmatched { credit } => credit.reason.unwrap_or_default(),
        other => panic!("expected unmatched, got {other:?}"),
    };
    let both = ["8600123412347466", "9860****4428"];
    let no_card = s
        .apply_credit(credit(1, 901, &both, *T0, *T0))
        .await
        .unwrap();
    assert_eq!(reason(no_card), "ambiguous_card");
    let unknown = s.apply_credit(credit(2, 901, &[], *T0, *T0)).await.unwrap();
    assert_eq!(reason(unknown), "unknown_card");
    let mut usd = credit(3, 901, &["9860****4428"], *T0, *T0);
    usd.currency = Some("USD".into());
    assert_eq!(reason(s.apply_credit(usd).await.unwrap()), "currency");
    let early = credit(4, 901, &["9860****4428"], *T0 - 10 * 60_000, *T0);
    assert_eq!(
        reason(s.apply_credit(early).await.unwrap()),
        "before_transaction"
    );
    let nothing = s
        .apply_credit(credit(5, 555, &["9860****4428"], *T0, *T0))
        .await
        .unwrap();
    assert_eq!(reason(nothing), "no_transaction");
    let unmatched = s.list_credits(CreditOutcome::Unmatched, 10).await.unwrap();
    assert_eq!(unmatched.len(), 5);
    assert_eq!(unmatched[0].message_id, 5, "newest first");
    let right = s
        .apply_credit(credit(6, 901, &["9860****4428"], *T0, *T0))
        .await
        .unwrap();
    match right {
        ApplyOutcome::Confirmed { transaction, .. } => {
            assert_eq!(transaction.id, b2.id);
            assert_eq!(transaction.card.as_deref(), Some("9860****4428"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        s.get(&a.id).await.unwrap().unwrap().status,
        TxStatus::Pending
    );
}

async fn expiry_racing_a_credit_ends_in_exactly_one_state(b: Backend) {
    let Some(ctx) = open(b, "race", 2) else {
        return;
    };
    let (s1, s2) = (ctx.stores[0].clone(), ctx.stores[1].clone());
    for i in 0..40 {
        let at = *T0 + i * 10;
        let tx = create(s1.as_ref(), 1_000 + i * 10, &[], at).await;
        let deadline = tx.expires_at;
        let sweep_ids = [format!("evt_sweep_{i}")];
        let sweep = s2.expire_due(deadline + 1, &sweep_ids);
        let pay = s1.apply_credit(credit(i, major(&tx), &[""], deadline, deadline + 1));
        let (swept, paid) = tokio::join!(sweep, pay);
        let (swept, paid) = (swept.unwrap(), paid.unwrap());
        let ended = s1.get(&tx.id).await.unwrap().unwrap();
        let actions: Vec<Action> = s1
            .events(&tx.id)
            .await
            .unwrap()
            .iter()
            .map(|e| e.action)
            .collect();
        match paid {
            ApplyOutcome::Confirmed { .. } => {
                assert!(swept.is_empty(), "confirmed and expired at once");
                assert_eq!(ended.status, TxStatus::Confirmed);
                assert_eq!(actions, vec![Action::Confirm]);
            }
            ApplyOutcome::Late { .. } => {
                assert_eq!(swept.len(), 1);
                assert_eq!(ended.status, TxStatus::Cancelled);
                assert_eq!(actions, vec![Action::Cancel, Action::Late]);
            }
            other => panic!("{other:?}"),
        }
    }
}

async fn outbox_lease_hides_an_event_until_it_runs_out(b: Backend) {
    let Some(ctx) = open(b, "lease", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let tx = create(s, 300, &[], *T0).await;
    s.cancel(&tx.id, "evt_lease", *T0 + 1).await.unwrap();
    let claimed = s
        .claim_event(*T0 + 2, 1_000)
        .await
        .unwrap()
        .expect("due event");
    assert_eq!(claimed.event.id, "evt_lease");
    assert_eq!(claimed.transaction.status, TxStatus::Cancelled);
    assert!(
        s.claim_event(*T0 + 3, 1_000).await.unwrap().is_none(),
        "hidden by its lease"
    );
    // The worker died (no finish_attempt): after the lease it is due again.
    let again = s
        .claim_event(*T0 + 1_003, 1_000)
        .await
        .unwrap()
        .expect("lease ran out");
    assert_eq!(again.event.id, "evt_lease");
    let attempt = |code| paycue::model::Attempt {
        at: *T0,
        status_code: Some(code),
        error: None,
        duration_ms: 3,
    };
    s.finish_attempt(
        "evt_lease",
        again.claim,
        attempt(500),
        AttemptResult::RetryAt(*T0 + 5_000),
    )
    .await
    .unwrap();
    assert!(s.claim_event(*T0 + 4_999, 1_000).await.unwrap().is_none());
    let retry = s
        .claim_event(*T0 + 5_000, 1_000)
        .await
        .unwrap()
        .expect("retry due");
    assert_eq!(retry.event.attempts.len(), 1);
    s.finish_attempt(
        "evt_lease",
        retry.claim,
        attempt(200),
        AttemptResult::Delivered,
    )
    .await
    .unwrap();
    assert!(
        s.claim_event(*T0 + 99_999_999, 1_000)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.redeliver(&tx.id, *T0 + 10).await.unwrap().as_deref(),
        Some("evt_lease")
    );
    let re = s
        .claim_event(*T0 + 10, 1_000)
        .await
        .unwrap()
        .expect("redelivered");
    assert_eq!(
        (re.event.id.as_str(), re.event.attempts.len()),
        ("evt_lease", 2)
    );
}

/// A worker whose lease ran out (paused, its Redis calls stalled, its clock
/// behind) finishes after another worker claimed the event again. Its late
/// finish must not end the newer claim: a redeliver asked for meanwhile waits
/// for the newer attempt instead of starting a second one beside it, and
/// the newer attempt decides what happens next.
async fn a_finish_from_an_expired_claim_leaves_the_newer_claim_alone(b: Backend) {
    let Some(ctx) = open(b, "stale_finish", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let tx = create(s, 300, &[], *T0).await;
    s.cancel(&tx.id, "evt_stale", *T0 + 1).await.unwrap();
    let old = s.claim_event(*T0 + 2, 1_000).await.unwrap().expect("due");
    let newer = s
        .claim_event(*T0 + 1_003, 1_000)
        .await
        .unwrap()
        .expect("lease ran out");
    assert_ne!(old.claim, newer.claim, "each claim has its own token");
    let failed = paycue::model::Attempt {
        at: *T0 + 2,
        status_code: Some(500),
        error: Some("HTTP 500".into()),
        duration_ms: 1_001,
    };
    s.finish_attempt(
        "evt_stale",
        old.claim,
        failed,
        AttemptResult::RetryAt(*T0 + 1_010),
    )
    .await
    .unwrap();
    assert!(
        s.claim_event(*T0 + 1_020, 1_000).await.unwrap().is_none(),
        "the newer claim still hides the event"
    );
    s.redeliver(&tx.id, *T0 + 1_021).await.unwrap();
    assert!(
        s.claim_event(*T0 + 1_022, 1_000).await.unwrap().is_none(),
        "a redeliver waits for the attempt in flight"
    );
    let ok = paycue::model::Attempt {
        at: *T0 + 1_003,
        status_code: Some(200),
        error: None,
        duration_ms: 30,
    };
    s.finish_attempt("evt_stale", newer.claim, ok, AttemptResult::Delivered)
        .await
        .unwrap();
    let events = s.events(&tx.id).await.unwrap();
    assert_eq!(events[0].attempts.len(), 2, "both attempts are on record");
    let re = s
        .claim_event(paycue::model::now_millis() + 1, 1_000)
        .await
        .unwrap()
        .expect("the redeliver asked for during the newer attempt");
    assert_eq!(re.event.id, "evt_stale");
}

/// A redeliver starts a new series of attempts: the worker counts its
/// retries from there, so an event that had `failed` gets its retries again
/// instead of one lone attempt.
async fn a_redelivered_event_starts_a_new_series_of_attempts(b: Backend) {
    let Some(ctx) = open(b, "series", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let tx = create(s, 300, &[], *T0).await;
    s.cancel(&tx.id, "evt_series", *T0 + 1).await.unwrap();
    let gone = |n| paycue::model::Attempt {
        at: *T0 + n,
        status_code: Some(500),
        error: Some("HTTP 500".into()),
        duration_ms: 1,
    };
    let first = s.claim_event(*T0 + 2, 1_000).await.unwrap().expect("due");
    assert_eq!(first.series_from, 0);
    s.finish_attempt(
        "evt_series",
        first.claim,
        gone(2),
        AttemptResult::RetryAt(*T0 + 3),
    )
    .await
    .unwrap();
    let second = s.claim_event(*T0 + 3, 1_000).await.unwrap().expect("retry");
    assert_eq!(second.series_from, 0, "a retry continues the series");
    s.finish_attempt("evt_series", second.claim, gone(3), AttemptResult::Failed)
        .await
        .unwrap();
    s.redeliver(&tx.id, *T0 + 4).await.unwrap();
    let again = s
        .claim_event(*T0 + 4, 1_000)
        .await
        .unwrap()
        .expect("queued");
    assert_eq!(again.event.attempts.len(), 2);
    assert_eq!(again.series_from, 2, "the redeliver starts a new series");
}

async fn events_of_one_transaction_go_out_in_order(b: Backend) {
    let Some(ctx) = open(b, "order", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let tx = create(s, 400, &[], *T0).await;
    // Paid after the deadline, before any sweep: cancel, then late.
    let late = credit(9, major(&tx), &[""], tx.expires_at + 1, tx.expires_at + 2);
    assert!(matches!(
        s.apply_credit(late).await.unwrap(),
        ApplyOutcome::Late { .. }
    ));
    let now = tx.expires_at + 3;
    let first = s
        .claim_event(now, 1_000)
        .await
        .unwrap()
        .expect("cancel due");
    assert_eq!(first.event.action, Action::Cancel);
    assert!(
        s.claim_event(now, 1_000).await.unwrap().is_none(),
        "late waits for cancel"
    );
    let ok = paycue::model::Attempt {
        at: now,
        status_code: Some(200),
        error: None,
        duration_ms: 1,
    };
    s.finish_attempt(&first.event.id, first.claim, ok, AttemptResult::Delivered)
        .await
        .unwrap();
    let second = s.claim_event(now, 1_000).await.unwrap().expect("late due");
    assert_eq!(second.event.action, Action::Late);
    assert!(second.credit.is_some());
}

async fn two_store_handles_never_issue_the_same_amount(b: Backend) {
    let Some(ctx) = open(b, "handles", 2) else {
        return;
    };
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..60 {
        let s = ctx.stores[i % 2].clone();
        tasks.spawn(async move {
            let mut new = new_tx(50_000, &[], *T0);
            new.limit = 100;
            match s.create(new).await.unwrap() {
                CreateOutcome::Created(tx) => tx.amount,
                other => panic!("{other:?}"),
            }
        });
    }
    let mut amounts = Vec::new();
    while let Some(a) = tasks.join_next().await {
        amounts.push(a.unwrap().minor() / 100);
    }
    amounts.sort();
    let want: Vec<i64> = (50_001..).filter(|a| a % 10 != 0).take(60).collect();
    assert_eq!(amounts, want);
    let held = ctx.stores[0].held_counts(&[String::new()]).await.unwrap();
    assert_eq!(held, vec![(String::new(), 60)]);
}

/// A source that is behind holds the sweep of every process on the store;
/// the hold ends when released, or by itself if the holder dies. A holder
/// ends only its own hold: another process still behind keeps the sweep held.
async fn an_expiry_hold_is_seen_by_every_handle_and_lapses(b: Backend) {
    let Some(ctx) = open(b, "expiry_hold", 2) else {
        return;
    };
    let (holder, other) = (&ctx.stores[0], &ctx.stores[1]);
    assert!(!other.expiry_held().await.unwrap());
    holder.hold_expiry("a", 60_000).await.unwrap();
    assert!(other.expiry_held().await.unwrap());
    holder.release_expiry("a").await.unwrap();
    assert!(!other.expiry_held().await.unwrap());
    holder.hold_expiry("a", 200).await.unwrap();
    assert!(other.expiry_held().await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(
        !other.expiry_held().await.unwrap(),
        "a dead holder's hold lapses"
    );
    holder.hold_expiry("a", 60_000).await.unwrap();
    other.hold_expiry("b", 60_000).await.unwrap();
    holder.release_expiry("a").await.unwrap();
    assert!(
        other.expiry_held().await.unwrap(),
        "b is still behind: a's release must not lift b's hold"
    );
    other.release_expiry("b").await.unwrap();
    assert!(!holder.expiry_held().await.unwrap());
}

async fn two_sweepers_cancel_each_transaction_once(b: Backend) {
    let Some(ctx) = open(b, "sweepers", 2) else {
        return;
    };
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(
            create(ctx.stores[0].as_ref(), 2_000 + i * 10, &[], *T0)
                .await
                .id,
        );
    }
    // Two processes sweep the same due transactions at the same moment, in
    // small batches so that their scripts interleave.
    let sweep = |s: Arc<dyn Store>, tag: &'static str| async move {
        let mut cancelled = Vec::new();
        for round in 0..20 {
            let ids: Vec<String> = (0..3).map(|k| format!("evt_{tag}_{round}_{k}")).collect();
            cancelled.extend(s.expire_due(*T0 + TTL + 1, &ids).await.unwrap());
        }
        cancelled
    };
    let (a, b2) = tokio::join!(
        sweep(ctx.stores[0].clone(), "a"),
        sweep(ctx.stores[1].clone(), "b")
    );
    let mut all: Vec<String> = a.into_iter().chain(b2).map(|t| t.id).collect();
    all.sort();
    ids.sort();
    assert_eq!(all, ids, "every due transaction cancelled exactly once");
    for id in &ids {
        let events = ctx.stores[1].events(id).await.unwrap();
        assert_eq!(events.len(), 1, "one cancel event for {id}");
        assert_eq!(events[0].action, Action::Cancel);
    }
}

/// Issue 14.1: 25 orders at 29 990 never get a multiple of 10 (30 000 is a
/// list price a buyer may pay by mistake), and such a payment confirms none.
async fn a_round_price_is_never_a_unique_amount(b: Backend) {
    let Some(ctx) = open(b, "round", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let mut got = Vec::new();
    for _ in 0..25 {
        let mut new = new_tx(29_990, &[], *T0);
        new.limit = 40;
        match s.create(new).await.unwrap() {
            CreateOutcome::Created(tx) => got.push(major(&tx)),
            other => panic!("{other:?}"),
        }
    }
    let want: Vec<i64> = (29_991..30_018).filter(|a| a % 10 != 0).collect();
    assert_eq!(got, want, "smallest free offsets, skipping round amounts");
    let round = credit(1, 30_000, &[""], *T0 + 1, *T0 + 1);
    let outcome = s.apply_credit(round).await.unwrap();
    assert!(
        matches!(&outcome, ApplyOutcome::Unmatched { credit } if credit.reason.as_deref() == Some("no_transaction")),
        "{outcome:?}"
    );
}

/// Issue 14.2: two orders at one price on two cards that a message without
/// card digits cannot tell apart get different amounts, and each card-less
/// credit confirms its own order (never `ambiguous_card`).
async fn a_card_less_credit_can_pay_only_one_order(b: Backend) {
    let Some(ctx) = open(b, "card_less", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let kaspi = ["4400430212341234", "4400****5678"];
    let first = create(s, 7_000, &[&kaspi], *T0).await;
    let second = create(s, 7_000, &[&kaspi], *T0).await;
    assert_ne!(first.amount, second.amount, "{first:?} {second:?}");
    for (i, tx) in [&first, &second].into_iter().enumerate() {
        let c = credit(i as i64 + 1, major(tx), &kaspi, *T0 + 1, *T0 + 1);
        match s.apply_credit(c).await.unwrap() {
            ApplyOutcome::Confirmed { transaction, .. } => assert_eq!(transaction.id, tx.id),
            other => panic!(
                "a card-less credit for {} must confirm {}: {other:?}",
                major(tx),
                tx.id
            ),
        }
    }
}

/// Cards regrouped between restarts (a card added without a bank joins two
/// classes into one): the old classes may each hold the same amount, so a
/// count of taken amounts over the new class counts one amount twice. A
/// free amount in the window must still be issued (here +2 on the second
/// card), never "no free amount".
async fn a_free_amount_is_issued_after_cards_are_regrouped(b: Backend) {
    let Some(ctx) = open(b, "regrouped", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let (a, c) = ("9860****1111", "8600****2222");
    let mut first = new_tx(7_000, &[&[a], &[c]], *T0);
    first.limit = 2;
    let mut second = new_tx(7_000, &[&[a], &[c]], *T0);
    second.limit = 2;
    for new in [first, second] {
        let got = s.create(new).await.unwrap();
        assert!(
            matches!(&got, CreateOutcome::Created(tx) if major(tx) == 7_001),
            "{got:?}"
        );
    }
    let mut merged = new_tx(7_000, &[&[a, c]], *T0 + 1);
    merged.limit = 2;
    match s.create(merged).await.unwrap() {
        CreateOutcome::Created(tx) => {
            assert_eq!((major(&tx), tx.card.as_deref()), (7_002, Some(c)));
        }
        other => panic!("7 002 on {c} is free on the whole class: {other:?}"),
    }
}

/// Differential test of allocation: a long pseudo-random run of creates and
/// cancels (overlapping price windows, fractional prices, round amounts,
/// separate and shared card classes, grace windows running out) gives
/// exactly the same (card, amount) on Redis, which searches its index
/// (first offset, then galloping), as on the memory store, which tries
/// `allocation::candidates` one by one (the order the brief gives).
#[tokio::test]
async fn redis_allocation_matches_the_reference_order() {
    let Some(ctx) = open(Backend::Redis, "differential", 1) else {
        return;
    };
    let redis = ctx.stores[0].clone();
    let memory = MemoryStore::new(StoreSettings {
        grace_ms: GRACE,
        ..StoreSettings::default()
    });
    // Card setups, each on its own cards (changing a card's class or step
    // mid-run is an upgrade case: still unique, not always smallest) and with
    // its own ROUND_STEP: two separate classes, one shared class, a shared
    // class beside a separate one, the implicit card.
    let setups: [(&[&[&str]], u32); 4] = [
        (&[&["8600123412347466"], &["9860****4428"]], 0),
        (&[&["4400****1111", "4400****2222"]], 10),
        (&[&["4400****3333", "4400****5555"], &["9860****6666"]], 100),
        (&[], 10),
    ];
    // Prices in minor units: some reach a round amount at +1, +2 or +3
    // (199.00, 98.00, 97.00), some never can (100.50, 150.99).
    let prices = [10_000, 10_050, 9_800, 9_700, 19_900, 10_200, 15_099];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % n
    };
    let (mut now, mut live, mut created, mut full) = (*T0, Vec::<String>::new(), 0, 0);
    for step in 0..900 {
        now += next(GRACE as u64 / 8) as i64;
        if next(3) == 0 && !live.is_empty() {
            let id = live.swap_remove(next(live.len() as u64) as usize);
            let a = redis
                .cancel(&id, &format!("evt_r{step}"), now)
                .await
                .unwrap();
            let b = memory
                .cancel(&id, &format!("evt_m{step}"), now)
                .await
                .unwrap();
            assert_eq!(
                matches!(a, CancelOutcome::Cancelled(_)),
                matches!(b, CancelOutcome::Cancelled(_))
            );
            continue;
        }
        let price = prices[next(prices.len() as u64) as usize];
        let (card_classes, round_step) = setups[next(setups.len() as u64) as usize];
        let new = NewTransaction {
            id: uuid::Uuid::new_v4().to_string(),
            requested_amount: Money::from_minor(price),
            currency: "UZS".into(),
            cards: classes(card_classes),
            // Mostly a small LIMIT (so prices fill up), sometimes a large
            // one (so the search gallops past many taken offsets).
            limit: if next(5) == 0 { 40 } else { 4 },
            round_step,
            created_at: now,
            expires_at: now + TTL,
            metadata: None,
            idempotency: None,
        };
        let a = redis.create(new.clone()).await.unwrap();
        let b = memory.create(new).await.unwrap();
        match (&a, &b) {
            (CreateOutcome::Created(x), CreateOutcome::Created(y)) => {
                assert_eq!((&x.card, x.amount), (&y.card, y.amount), "step {step}");
                live.push(x.id.clone());
                created += 1;
            }
            (CreateOutcome::NoFreeAmount, CreateOutcome::NoFreeAmount) => full += 1,
            _ => panic!("step {step}: redis {a:?} vs memory {b:?}"),
        }
    }
    // The run must have exercised both outcomes.
    assert!(created > 100 && full > 10, "created {created}, full {full}");
}

/// A message is marked seen only by the step that records what became of
/// it: a credit whose matching fails on corrupt data (a held amount pointing
/// at a missing transaction) leaves no trace, so once the data is repaired
/// the retry confirms the order instead of being dropped as a duplicate.
#[tokio::test]
async fn redis_failed_credit_is_not_marked_seen() {
    let Some(ctx) = open(Backend::Redis, "seen_on_failure", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let tx = create(s, 800, &[], *T0).await;
    let redis = ctx._redis.as_ref().expect("redis");
    let client = ::redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("paycue:tx:{}", tx.id);
    let saved: Vec<(String, String)> = ::redis::cmd("HGETALL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = ::redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();

    let failed = s
        .apply_credit(credit(77, 801, &[""], *T0 + 5, *T0 + 6))
        .await;
    assert!(
        matches!(failed, Err(paycue::store::StoreError::Corrupt(_))),
        "{failed:?}"
    );
    assert_eq!(
        s.last_message_id("", 856_254_490).await.unwrap(),
        None,
        "a failed step must not move the chat's last message id"
    );

    let _: () = ::redis::cmd("HSET")
        .arg(&key)
        .arg(saved)
        .query_async(&mut conn)
        .await
        .unwrap();
    let retry = s
        .apply_credit(credit(77, 801, &[""], *T0 + 5, *T0 + 7))
        .await
        .unwrap();
    match retry {
        ApplyOutcome::Confirmed { transaction, .. } => assert_eq!(transaction.id, tx.id),
        other => panic!("the retry of a failed credit was {other:?}"),
    }
    assert_eq!(s.last_message_id("", 856_254_490).await.unwrap(), Some(77));
}

/// A reversal (`❌ Отмена` / `OTMENA`) of a credit that confirmed an order is
/// its own fact on the transaction: the state stays `confirmed`, the
/// transaction gets `reversed_at`/`reversal`, and a `reversal` event goes
/// out after the `confirm`. Once per credit: a replay is a duplicate and a
/// second reversal of the same amount matches nothing.
async fn reversal_of_a_confirmed_credit_is_recorded_once(b: Backend) {
    let Some(ctx) = open(b, "reversal", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let tx = create(s, 600, &[&["8600123412347466"], &["9860****4428"]], *T0).await;
    let card = tx.card.clone().unwrap();
    let paid = s
        .apply_credit(credit(1, 601, &[&card], *T0 + 10, *T0 + 11))
        .await
        .unwrap();
    let ApplyOutcome::Confirmed { credit: paid, .. } = paid else {
        panic!("{paid:?}")
    };
    let back = credit(2, 601, &[&card], *T0 + 3_600_000, *T0 + 3_600_001);
    let reversal_id = back.credit_id.clone();
    let outcome = s.apply_reversal(back.clone()).await.unwrap();
    match &outcome {
        ApplyOutcome::Reversed {
            transaction,
            credit,
        } => {
            assert_eq!(transaction.id, tx.id);
            assert_eq!(transaction.status, TxStatus::Confirmed, "state stays");
            assert_eq!(transaction.reversed_at, Some(*T0 + 3_600_000));
            assert_eq!(transaction.reversal.as_deref(), Some(reversal_id.as_str()));
            assert_eq!(transaction.paid_by.as_deref(), Some(paid.id.as_str()));
            assert_eq!(credit.kind, CreditKind::Reversal);
            assert_eq!(credit.outcome, CreditOutcome::Reversed);
        }
        other => panic!("{other:?}"),
    }
    let stored = s.get(&tx.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.reversed_at),
        (TxStatus::Confirmed, Some(*T0 + 3_600_000))
    );
    let actions: Vec<Action> = s
        .events(&tx.id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, vec![Action::Confirm, Action::Reversal]);

    // The replayed message does nothing new.
    let mut replay = back.clone();
    replay.credit_id = uuid::Uuid::new_v4().to_string();
    replay.event_id = paycue::engine::new_event_id();
    assert_eq!(
        s.apply_reversal(replay).await.unwrap(),
        ApplyOutcome::Duplicate
    );
    // A second reversal message of the same amount: the credit went back once.
    let again = s
        .apply_reversal(credit(3, 601, &[&card], *T0 + 3_700_000, *T0 + 3_700_000))
        .await
        .unwrap();
    match again {
        ApplyOutcome::Unmatched { credit } => {
            assert_eq!(credit.reason.as_deref(), Some("no_credit"));
            assert_eq!(credit.kind, CreditKind::Reversal);
        }
        other => panic!("a credit was reversed twice: {other:?}"),
    }
    assert_eq!(s.events(&tx.id).await.unwrap().len(), 2);

    // The reversal event waits for the confirm, then carries the reversal.
    let now = *T0 + 3_800_000;
    let first = s.claim_event(now, 1_000).await.unwrap().expect("confirm");
    assert_eq!(first.event.action, Action::Confirm);
    assert!(
        s.claim_event(now, 1_000).await.unwrap().is_none(),
        "reversal waits"
    );
    let ok = paycue::model::Attempt {
        at: now,
        status_code: Some(200),
        error: None,
        duration_ms: 1,
    };
    s.finish_attempt(&first.event.id, first.claim, ok, AttemptResult::Delivered)
        .await
        .unwrap();
    let second = s.claim_event(now, 1_000).await.unwrap().expect("reversal");
    assert_eq!(second.event.action, Action::Reversal);
    assert_eq!(second.event.id, back.event_id);
    let carried = second.credit.expect("the reversal message");
    assert_eq!(
        (carried.id.as_str(), carried.message_id),
        (reversal_id.as_str(), 2)
    );
}

/// A reversal that matches no confirmed credit (none, another card, outside
/// the window, or two candidates) is listed like an unmatched credit, and
/// reverses nothing.
async fn reversal_that_matches_nothing_is_listed_unmatched(b: Backend) {
    let Some(ctx) = open(b, "reversal_unmatched", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let reason = |o: ApplyOutcome| match o {
        ApplyOutcome::Unmatched { credit } => {
            assert_eq!(credit.kind, CreditKind::Reversal);
            credit.reason.unwrap_or_default()
        }
        other => panic!("expected unmatched, got {other:?}"),
    };
    // Nothing was ever paid.
    let none = s
        .apply_reversal(credit(1, 999, &[""], *T0, *T0))
        .await
        .unwrap();
    assert_eq!(reason(none), "no_credit");
    // A pending (unpaid) order is not reversed.
    let pending = create(s, 100, &[], *T0).await;
    let unpaid = s
        .apply_reversal(credit(2, major(&pending), &[""], *T0 + 5, *T0 + 5))
        .await
        .unwrap();
    assert_eq!(reason(unpaid), "no_credit");
    // Outside the window.
    let a = create(s, 200, &[], *T0).await;
    s.apply_credit(credit(3, major(&a), &[""], *T0 + 10, *T0 + 10))
        .await
        .unwrap();
    let too_late = *T0 + 10 + REVERSAL_WINDOW + 1;
    let stale = s
        .apply_reversal(credit(4, major(&a), &[""], too_late, too_late))
        .await
        .unwrap();
    assert_eq!(reason(stale), "no_credit");
    // Two confirmed credits of one (card, amount) inside the window: which
    // order lost its money cannot be told, so nothing is reversed.
    let b1 = create(s, 300, &[], *T0).await;
    s.apply_credit(credit(5, major(&b1), &[""], *T0 + 20, *T0 + 20))
        .await
        .unwrap();
    let later = *T0 + 20 + GRACE + 1;
    let b2 = create(s, 300, &[], later).await;
    assert_eq!(b2.amount, b1.amount, "the amount came free after its grace");
    s.apply_credit(credit(6, major(&b2), &[""], later + 1, later + 1))
        .await
        .unwrap();
    let which = s
        .apply_reversal(credit(7, major(&b1), &[""], later + 2, later + 2))
        .await
        .unwrap();
    assert_eq!(reason(which), "ambiguous_credit");
    for id in [&pending.id, &a.id, &b1.id, &b2.id] {
        assert_eq!(s.get(id).await.unwrap().unwrap().reversed_at, None);
    }
    let listed = s.list_credits(CreditOutcome::Unmatched, 10).await.unwrap();
    assert_eq!(listed.len(), 4);
    assert!(listed.iter().all(|c| c.kind == CreditKind::Reversal));
}

const DAY: i64 = 86_400_000;

/// Retention with a short cutoff: ended transactions go with everything
/// hanging off them, in bounded steps, oldest first; pending and recent
/// ones stay; unmatched credits go; forgotten message ids stay refused.
async fn retention_removes_what_ended_and_still_refuses_replays(b: Backend) {
    let Some(ctx) = open(b, "retention", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let chat = 856_254_490;
    let paid = create(s, 100, &[], *T0).await;
    s.apply_credit(credit(1, 101, &[""], *T0 + 1, *T0 + 1))
        .await
        .unwrap();
    s.apply_credit(credit(2, 101, &[""], *T0 + 2, *T0 + 2))
        .await
        .unwrap(); // late, on the same order
    s.apply_reversal(credit(3, 101, &[""], *T0 + 3, *T0 + 3))
        .await
        .unwrap(); // unmatched: ambiguous after the second payment
    let cancelled = create(s, 200, &[], *T0 + 4).await;
    s.cancel(&cancelled.id, "evt_c", *T0 + 5).await.unwrap();
    s.apply_credit(credit(4, 999, &[""], *T0 + 6, *T0 + 6))
        .await
        .unwrap(); // unmatched
    let delivered = s.claim_event(*T0 + 7, 1_000).await.unwrap().unwrap();
    let ok = paycue::model::Attempt {
        at: *T0 + 7,
        status_code: Some(200),
        error: None,
        duration_ms: 1,
    };
    s.finish_attempt(
        &delivered.event.id,
        delivered.claim,
        ok,
        AttemptResult::Delivered,
    )
    .await
    .unwrap();
    let pending = create(s, 300, &[], *T0 + 8).await;

    // Nothing is old enough yet.
    let early = s.prune(*T0 + 3_600_000, *T0, 100).await.unwrap();
    assert_eq!(early, paycue::store::Pruned::default());

    // Four days later (past the reversal window) with a one-day retention,
    // every event delivered, one transaction per step.
    let now = *T0 + 4 * DAY;
    deliver_all(s, now).await;
    let first = s.prune(now, now - DAY, 1).await.unwrap();
    assert_eq!(first.transactions, 1, "bounded: {first:?}");
    assert!(s.get(&paid.id).await.unwrap().is_none(), "oldest first");
    assert!(s.get(&cancelled.id).await.unwrap().is_some());
    let mut rest = paycue::store::Pruned::default();
    for _ in 0..10 {
        let step = s.prune(now, now - DAY, 1).await.unwrap();
        rest.transactions += step.transactions;
        rest.credits += step.credits;
        if step == paycue::store::Pruned::default() {
            break;
        }
    }
    assert_eq!((rest.transactions, first.credits + rest.credits), (1, 2));
    assert!(s.get(&cancelled.id).await.unwrap().is_none());
    assert!(s.events(&paid.id).await.unwrap().is_empty());
    assert!(s.events(&cancelled.id).await.unwrap().is_empty());
    let left: Vec<String> = s
        .list(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(left, vec![pending.id.clone()], "a pending order stays");
    for outcome in [CreditOutcome::Unmatched, CreditOutcome::Late] {
        assert!(s.list_credits(outcome, 10).await.unwrap().is_empty());
    }
    assert!(
        s.list(Some(TxStatus::Confirmed), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.list(Some(TxStatus::Cancelled), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Forgotten ids are still refused; new ones are applied.
    for id in 1..=4 {
        let replay = s
            .apply_credit(credit(id, 301, &[""], now, now))
            .await
            .unwrap();
        assert_eq!(replay, ApplyOutcome::Duplicate, "message {id}");
        assert!(!s.mark_seen("", chat, id).await.unwrap());
    }
    assert_eq!(s.last_message_id("", chat).await.unwrap(), Some(4));
    assert!(s.mark_seen("", chat, 5).await.unwrap());
}

/// Redis after retention holds nothing of the removed records (no stray
/// event, attempt, credit or listing key), and dedupe sets written by older
/// versions are moved over without ever accepting a replay.
#[tokio::test]
async fn redis_retention_leaves_no_stray_keys() {
    let Some(ctx) = open(Backend::Redis, "retention_keys", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let redis = ctx._redis.as_ref().expect("redis");
    let client = ::redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let chat = 856_254_490;
    // A set written by a version before retention: ids 50..52 were applied.
    let _: () = ::redis::cmd("SADD")
        .arg(format!("paycue:seen:{chat}"))
        .arg(&[50, 51, 52])
        .query_async(&mut conn)
        .await
        .unwrap();
    let tx = create(s, 100, &[], *T0).await;
    s.apply_credit(credit(60, 101, &[""], *T0 + 1, *T0 + 1))
        .await
        .unwrap();
    s.apply_credit(credit(61, 101, &[""], *T0 + 2, *T0 + 2))
        .await
        .unwrap();
    s.apply_reversal(credit(62, 101, &[""], *T0 + 3, *T0 + 3))
        .await
        .unwrap();
    s.apply_credit(credit(63, 5, &[""], *T0 + 4, *T0 + 4))
        .await
        .unwrap();
    let claimed = s.claim_event(*T0 + 5, 1_000).await.unwrap().unwrap();
    let failed = paycue::model::Attempt {
        at: *T0 + 5,
        status_code: Some(500),
        error: Some("HTTP 500".into()),
        duration_ms: 1,
    };
    s.finish_attempt(
        &claimed.event.id,
        claimed.claim,
        failed,
        AttemptResult::Failed,
    )
    .await
    .unwrap();
    assert_eq!(
        s.apply_credit(credit(51, 101, &[""], *T0 + 6, *T0 + 6))
            .await
            .unwrap(),
        ApplyOutcome::Duplicate,
        "an id in the old set"
    );
    let now = *T0 + 4 * DAY;
    deliver_all(s, now).await;
    // Moving the old set over counts its ids as applied now; they go (and
    // raise the floor) one retention later.
    s.prune(now, now - DAY, 100).await.unwrap();
    let later = now + 2 * DAY;
    s.prune(later, later - DAY, 100).await.unwrap();
    assert!(s.get(&tx.id).await.unwrap().is_none());
    let mut keys: Vec<String> = ::redis::cmd("KEYS")
        .arg("paycue:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    // What stays: counters and per-chat dedupe state. (Hold keys expire by
    // Redis's own clock; the allocation index is cleaned by the sweep.)
    let stray: Vec<&String> = keys
        .iter()
        .filter(|k| {
            !matches!(
                k.as_str(),
                "paycue:seq" | "paycue:last_message" | "paycue:seen_floor"
            ) && !k.starts_with("paycue:hold")
                && !k.starts_with("paycue:grid:")
        })
        .collect();
    assert!(stray.is_empty(), "left behind: {stray:?}");
    for id in [50, 52, 60, 63] {
        assert!(!s.mark_seen("", chat, id).await.unwrap(), "message {id}");
    }
    assert!(s.mark_seen("", chat, 64).await.unwrap());
}

/// Redis commands run so far, by `INFO commandstats` (the INFO calls that
/// read it left out).
async fn commands_run(conn: &mut ::redis::aio::MultiplexedConnection) -> u64 {
    let info: String = ::redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info:"))
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// The `/metrics` scrape's store read costs the same number of Redis
/// commands with a handful of keys and with 50 000 more (it used to SCAN the
/// whole keyspace).
#[tokio::test]
async fn redis_held_counts_cost_does_not_grow_with_the_keyspace() {
    let Some(ctx) = open(Backend::Redis, "metrics_cost", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let redis = ctx._redis.as_ref().expect("redis");
    let client = ::redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let two = cards(&["8600123412347466", "9860****4428"]);
    for _ in 0..3 {
        create(s, 500, &[&["8600123412347466"], &["9860****4428"]], *T0).await;
    }
    let cost = |conn: &mut ::redis::aio::MultiplexedConnection| {
        let mut conn = conn.clone();
        let two = two.clone();
        async move {
            let before = commands_run(&mut conn).await;
            let held = s.held_counts(&two).await.unwrap();
            (commands_run(&mut conn).await - before, held)
        }
    };
    let (small, held) = cost(&mut conn).await;
    assert_eq!(held, vec![(two[0].clone(), 2), (two[1].clone(), 1)]);
    for chunk in 0..50 {
        let mut pipe = ::redis::pipe();
        for i in 0..1_000 {
            pipe.set(format!("paycue:filler:{chunk}:{i}"), "x").ignore();
        }
        let _: () = pipe.query_async(&mut conn).await.unwrap();
    }
    let (large, held_again) = cost(&mut conn).await;
    assert_eq!(held_again, held);
    assert_eq!(small, large, "a scrape's Redis work grew with the keyspace");
}

/// A buyer pays the same unique amount twice (the second is `late` on the
/// same order) and the bank takes one payment back: which one went back
/// cannot be told, and the order is still paid once, so the reversal must
/// not be reported against the order (it is listed `ambiguous_credit`).
async fn reversal_after_a_duplicate_payment_is_ambiguous(b: Backend) {
    let Some(ctx) = open(b, "reversal_duplicate", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let tx = create(s, 500, &[], *T0).await;
    let paid = s
        .apply_credit(credit(1, major(&tx), &[""], *T0 + 10, *T0 + 10))
        .await
        .unwrap();
    assert!(matches!(paid, ApplyOutcome::Confirmed { .. }), "{paid:?}");
    let twice = s
        .apply_credit(credit(2, major(&tx), &[""], *T0 + 20, *T0 + 20))
        .await
        .unwrap();
    assert!(matches!(twice, ApplyOutcome::Late { .. }), "{twice:?}");
    let back = s
        .apply_reversal(credit(3, major(&tx), &[""], *T0 + 60_000, *T0 + 60_000))
        .await
        .unwrap();
    match back {
        ApplyOutcome::Unmatched { credit } => {
            assert_eq!(credit.reason.as_deref(), Some("ambiguous_credit"))
        }
        other => panic!("a paid order was reported reversed: {other:?}"),
    }
    assert_eq!(s.get(&tx.id).await.unwrap().unwrap().reversed_at, None);
}

/// With the shortest retention (a day), a paid order is kept as long as a
/// reversal of its credit can still come (`REVERSAL_WINDOW_MS`): pruning it
/// earlier would turn the bank's reversal into an unmatched `no_credit` and
/// the shop would never hear that the money went back.
async fn retention_keeps_a_paid_order_through_its_reversal_window(b: Backend) {
    let Some(ctx) = open(b, "retention_reversal", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let tx = create(s, 700, &[], *T0).await;
    s.apply_credit(credit(1, major(&tx), &[""], *T0 + 1, *T0 + 1))
        .await
        .unwrap();
    let now = *T0 + 2 * DAY;
    s.prune(now, now - DAY, 100).await.unwrap();
    let back = s
        .apply_reversal(credit(2, major(&tx), &[""], now, now))
        .await
        .unwrap();
    assert!(
        matches!(back, ApplyOutcome::Reversed { .. }),
        "the reversal was lost to retention: {back:?}"
    );
    // Once the window is over (and the shop has its events) it goes.
    let later = *T0 + 5 * DAY;
    deliver_all(s, later).await;
    let step = s.prune(later, later - DAY, 100).await.unwrap();
    assert_eq!(step.transactions, 1);
    assert!(s.get(&tx.id).await.unwrap().is_none());
}

/// A reversal near the end of its window queues a `reversal` event; the
/// shop is down, so the event is in its retries when the sweep comes: the
/// transaction (and the event) stay until it is delivered or given up, or
/// the shop would never hear that the money went back.
async fn retention_keeps_a_transaction_with_an_undelivered_event(b: Backend) {
    let Some(ctx) = open(b, "retention_outbox", 1) else {
        return;
    };
    let s = ctx.stores[0].as_ref();
    let tx = create(s, 800, &[], *T0).await;
    s.apply_credit(credit(1, major(&tx), &[""], *T0 + 1, *T0 + 1))
        .await
        .unwrap();
    deliver_all(s, *T0 + 2).await;
    let at = *T0 + REVERSAL_WINDOW - 60_000;
    let back = s
        .apply_reversal(credit(2, major(&tx), &[""], at, at))
        .await
        .unwrap();
    let ApplyOutcome::Reversed { .. } = back else {
        panic!("{back:?}")
    };
    let now = *T0 + REVERSAL_WINDOW + 60_000;
    s.prune(now, now - DAY, 100).await.unwrap();
    let due = s.claim_event(now, 1_000).await.unwrap();
    let claim = due.as_ref().map_or(0, |d| d.claim);
    assert_eq!(
        due.map(|d| d.event.action),
        Some(Action::Reversal),
        "an undelivered reversal was deleted"
    );
    assert!(s.get(&tx.id).await.unwrap().is_some());
    let events = s.events(&tx.id).await.unwrap();
    let gone = paycue::model::Attempt {
        at: now,
        status_code: Some(500),
        error: Some("HTTP 500".into()),
        duration_ms: 1,
    };
    s.finish_attempt(&events[1].id, claim, gone, AttemptResult::Failed)
        .await
        .unwrap();
    assert_eq!(s.prune(now, now - DAY, 100).await.unwrap().transactions, 1);
}

//! The `Store` contract, checked directly on both implementations (the
//! in-memory store and a private real Redis): the invariants of the brief at
//! the level where they are enforced, with explicit clocks so grace windows,
//! deadlines and leases are exact.

mod support;

use std::sync::{Arc, LazyLock};

use paycue::model::{Action, CreditOutcome, TxStatus};
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
    events_of_one_transaction_go_out_in_order,
    two_store_handles_never_issue_the_same_amount,
    two_sweepers_cancel_each_transaction_once,
    an_expiry_hold_is_seen_by_every_handle_and_lapses,
);

/// The tests' clock starts at the real time: Redis forgets an ended hold by
/// its own clock, so a hold must not be released in the past. Every later
/// instant is explicit (T0 + n), so grace windows and leases are exact.
static T0: LazyLock<i64> = LazyLock::new(paycue::model::now_millis);
const GRACE: i64 = 10 * 60_000;
const TTL: i64 = 30 * 60_000;

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

fn new_tx(price: i64, cards: &[String], at: i64) -> NewTransaction {
    NewTransaction {
        id: uuid::Uuid::new_v4().to_string(),
        requested_amount: Money::from_major(price),
        currency: "UZS".into(),
        cards: cards.to_vec(),
        limit: 3,
        created_at: at,
        expires_at: at + TTL,
        metadata: Some(serde_json::json!({"order": price})),
        idempotency: None,
    }
}

async fn create(
    s: &dyn Store,
    price: i64,
    cards: &[String],
    at: i64,
) -> paycue::model::Transaction {
    match s.create(new_tx(price, cards, at)).await.unwrap() {
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
    let two = cards(&["8600123412347466", "9860****4428"]);
    let a = create(s, 900, &two, *T0).await;
    let b2 = create(s, 900, &two, *T0).await;
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
        let tx = create(s1.as_ref(), 1_000 + i, &[], at).await;
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
    s.finish_attempt("evt_lease", attempt(200), AttemptResult::Delivered)
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
    s.finish_attempt(&first.event.id, ok, AttemptResult::Delivered)
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
    assert_eq!(amounts, (50_001..=50_060).collect::<Vec<_>>());
    let held = ctx.stores[0].held_counts().await.unwrap();
    assert_eq!(held, vec![(String::new(), 60)]);
}

/// A source that is behind holds the sweep of every process on the store;
/// the hold ends when released, or by itself if the holder dies.
async fn an_expiry_hold_is_seen_by_every_handle_and_lapses(b: Backend) {
    let Some(ctx) = open(b, "expiry_hold", 2) else {
        return;
    };
    let (holder, other) = (&ctx.stores[0], &ctx.stores[1]);
    assert!(!other.expiry_held().await.unwrap());
    holder.hold_expiry(60_000).await.unwrap();
    assert!(other.expiry_held().await.unwrap());
    holder.release_expiry().await.unwrap();
    assert!(!other.expiry_held().await.unwrap());
    holder.hold_expiry(200).await.unwrap();
    assert!(other.expiry_held().await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(
        !other.expiry_held().await.unwrap(),
        "a dead holder's hold lapses"
    );
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

/// Differential test of allocation: a long pseudo-random run of creates and
/// cancels (overlapping price windows, fractional prices, two cards, grace
/// windows running out) gives exactly the same (card, amount) on Redis,
/// which searches its index by bisection, as on the memory store, which
/// tries `allocation::candidates` one by one (the order the brief gives).
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
    let two = cards(&["8600123412347466", "9860****4428"]);
    let prices = [10_000, 10_050, 10_100, 10_200, 10_250, 15_099];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % n
    };
    let (mut now, mut live, mut created, mut full) = (*T0, Vec::<String>::new(), 0, 0);
    for step in 0..600 {
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
        let card_list = if next(2) == 0 {
            two.clone()
        } else {
            Vec::new()
        };
        let new = NewTransaction {
            id: uuid::Uuid::new_v4().to_string(),
            requested_amount: Money::from_minor(price),
            currency: "UZS".into(),
            cards: card_list,
            limit: 4,
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

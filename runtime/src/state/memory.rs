//! `MemoryState`: the in-process store. Subjects are spread over sharded locks, so decisions
//! about different agents do not wait for each other, and a decision locks only the shards of
//! the subjects it uses (in shard order, so two decisions can never wait on each other).
//! Each subject keeps a sliding log of its uses, sorted, at most as long as its largest count
//! and no older than its longest window: checking a limit reads one entry of the log, so a
//! decision costs the same after a billion decisions as after one.

use super::{Block, Blocked, Breaker, Check, Rate, Refused, State, Subject, Take};
use super::{FAILURES_KEPT_WITHOUT_BREAKER, MAX_LOG};
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Enough shards that 2–64 threads rarely meet on one.
const SHARDS: usize = 64;

type Shard = HashMap<Subject, Entry>;

/// What one subject has done recently: use times and failure times, each sorted.
#[derive(Debug, Default)]
struct Entry {
    uses: VecDeque<u64>,
    failures: VecDeque<u64>,
}

pub struct MemoryState {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
}

impl Default for MemoryState {
    fn default() -> MemoryState {
        MemoryState {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl std::fmt::Debug for MemoryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryState").finish_non_exhaustive()
    }
}

impl MemoryState {
    fn shard_of(&self, subject: &Subject) -> usize {
        (self.hasher.hash_one(subject) as usize) % SHARDS
    }

    /// Locks a shard. Nothing panics while holding one (every update is a few pushes and
    /// pops), so a poisoned lock still guards consistent data and is taken back.
    fn lock(&self, shard: usize) -> Option<MutexGuard<'_, Shard>> {
        self.shards
            .get(shard)
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// When `log` (sorted use times) has no room for `k` more uses at `now` under `rate`: how long
/// until it has. Room means the `count - k + 1`-th most recent use has left the window.
fn rate_wait(log: &VecDeque<u64>, rate: Rate, k: u64, now: u64) -> Option<u64> {
    let count = rate.count.min(MAX_LOG);
    if k > count {
        return Some(rate.per_ms.max(1));
    }
    let j = (count - k + 1) as usize;
    let t = log.len().checked_sub(j).and_then(|i| log.get(i))?;
    let end = t.saturating_add(rate.per_ms);
    (end > now).then(|| (end - now).max(1))
}

/// How long the breaker stays open, when `failures` (sorted) open it at `now`.
fn breaker_wait(failures: &VecDeque<u64>, breaker: Breaker, now: u64) -> Option<u64> {
    let n = breaker.failures.min(MAX_LOG) as usize;
    if n == 0 {
        return Some(breaker.cooldown_ms.max(1));
    }
    let t = failures
        .len()
        .checked_sub(n)
        .and_then(|i| failures.get(i))?;
    let end = t.saturating_add(breaker.cooldown_ms);
    (end > now).then(|| (end - now).max(1))
}

/// Why `entry` cannot take `k` uses under `take`'s limits at `now` (the breaker first).
fn blocked(entry: Option<&Entry>, take: &Take, k: u64, now: u64) -> Option<Blocked> {
    let empty = VecDeque::new();
    let (uses, failures) = entry.map_or((&empty, &empty), |e| (&e.uses, &e.failures));
    if let Some(b) = take.breaker {
        if let Some(wait_ms) = breaker_wait(failures, b, now) {
            return Some(Blocked::Breaker { wait_ms });
        }
    }
    take.rates
        .iter()
        .filter_map(|r| rate_wait(uses, *r, k, now))
        .max()
        .map(|wait_ms| Blocked::Rate { wait_ms })
}

/// Puts `t` in its place in a sorted log (times come nearly in order: the search ends near the
/// back), then drops what is older than `window` before `now` and what is beyond `keep` entries.
fn record(log: &mut VecDeque<u64>, t: u64, keep: u64, window: Option<u64>, now: u64) {
    let at = log.partition_point(|x| *x <= t);
    log.insert(at, t);
    while log.len() as u64 > keep.min(MAX_LOG) {
        log.pop_front();
    }
    if let Some(w) = window {
        while log.front().is_some_and(|x| x.saturating_add(w) <= now) {
            log.pop_front();
        }
    }
}

impl Check for MemoryState {
    fn check(&self, take: &Take, now_ms: u64) -> Option<Blocked> {
        let shard = self.lock(self.shard_of(&take.subject))?;
        blocked(shard.get(&take.subject), take, 1, now_ms)
    }
}

impl State for MemoryState {
    fn take(&self, takes: &[Take], now_ms: u64) -> Result<(), Refused> {
        let index: Vec<usize> = takes.iter().map(|t| self.shard_of(&t.subject)).collect();
        let mut order = index.clone();
        order.sort_unstable();
        order.dedup();
        let mut guards: Vec<(usize, MutexGuard<'_, Shard>)> = Vec::with_capacity(order.len());
        for s in order {
            match self.lock(s) {
                Some(g) => guards.push((s, g)),
                None => return Err(Refused::Unavailable("no such shard".into())),
            }
        }
        let mut blocks = Vec::new();
        for (i, (take, shard)) in takes.iter().zip(&index).enumerate() {
            let earlier = takes.iter().take(i).any(|t| t.subject == take.subject);
            if earlier {
                continue;
            }
            let k = takes.iter().filter(|t| t.subject == take.subject).count() as u64;
            let entry = guards
                .iter()
                .find(|(s, _)| *s == *shard)
                .and_then(|(_, g)| g.get(&take.subject));
            if let Some(why) = blocked(entry, take, k, now_ms) {
                blocks.push(Block {
                    subject: take.subject.clone(),
                    why,
                });
            }
        }
        if !blocks.is_empty() {
            return Err(Refused::Blocked(blocks));
        }
        for (take, shard) in takes.iter().zip(&index) {
            let keep = take.rates.iter().map(|r| r.count).max().unwrap_or(0);
            let window = take.rates.iter().map(|r| r.per_ms).max();
            if keep == 0 {
                continue;
            }
            if let Some((_, g)) = guards.iter_mut().find(|(s, _)| *s == *shard) {
                let entry = g.entry(take.subject.clone()).or_default();
                record(&mut entry.uses, now_ms, keep, window, now_ms);
            }
        }
        Ok(())
    }

    fn record_failure(&self, agent: &Subject, breaker: Option<Breaker>, now_ms: u64) {
        let keep = breaker
            .map_or(0, |b| b.failures)
            .max(FAILURES_KEPT_WITHOUT_BREAKER);
        if let Some(mut shard) = self.lock(self.shard_of(agent)) {
            let entry = shard.entry(agent.clone()).or_default();
            let window = breaker.map(|b| b.cooldown_ms);
            record(&mut entry.failures, now_ms, keep, window, now_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    fn agent(name: &str, rates: &[(u64, u64)], breaker: Option<Breaker>) -> Take {
        Take {
            subject: Subject::Agent(Arc::from(name)),
            rates: rates
                .iter()
                .map(|(count, per_ms)| Rate {
                    count: *count,
                    per_ms: *per_ms,
                })
                .collect(),
            breaker,
        }
    }

    #[test]
    fn eight_threads_racing_on_a_limit_of_100_get_exactly_100() {
        let state = Arc::new(MemoryState::default());
        let allowed = Arc::new(AtomicU64::new(0));
        let take = agent("ledger", &[(100, 60_000)], None);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (state, allowed, take) = (state.clone(), allowed.clone(), take.clone());
                std::thread::spawn(move || {
                    for _ in 0..1_000 {
                        if state.take(std::slice::from_ref(&take), 1_000).is_ok() {
                            allowed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(allowed.load(Ordering::Relaxed), 100);
        assert!(state.take(std::slice::from_ref(&take), 60_999).is_err());
        assert!(state.take(&[take], 61_000).is_ok());
    }

    #[test]
    fn a_decision_takes_all_its_subjects_or_none() {
        let state = MemoryState::default();
        let a = agent("a", &[(2, 1_000)], None);
        let b = agent("b", &[(1, 1_000)], None);
        state.take(&[a.clone(), b.clone()], 0).unwrap();
        // b is full: a is not taken either.
        let refused = state.take(&[a.clone(), b.clone()], 10).unwrap_err();
        assert_eq!(
            refused,
            Refused::Blocked(vec![Block {
                subject: b.subject.clone(),
                why: Blocked::Rate { wait_ms: 990 }
            }])
        );
        state.take(std::slice::from_ref(&a), 20).unwrap();
        assert!(state.take(&[a], 30).is_err());
    }

    #[test]
    fn a_subject_named_twice_needs_room_for_two() {
        let state = MemoryState::default();
        let a = agent("a", &[(3, 1_000)], None);
        state.take(&[a.clone(), a.clone()], 0).unwrap();
        assert!(state.take(&[a.clone(), a.clone()], 1).is_err());
        state.take(&[a], 2).unwrap();
    }

    #[test]
    fn a_breaker_opens_at_its_threshold_and_closes_after_the_cooldown() {
        let state = MemoryState::default();
        let breaker = Breaker {
            failures: 3,
            cooldown_ms: 500,
        };
        let a = agent("a", &[], Some(breaker));
        state.record_failure(&a.subject, Some(breaker), 100);
        state.record_failure(&a.subject, Some(breaker), 200);
        assert_eq!(state.check(&a, 250), None);
        state.record_failure(&a.subject, Some(breaker), 300);
        assert_eq!(
            state.check(&a, 300),
            Some(Blocked::Breaker { wait_ms: 300 })
        );
        assert!(state.breaker_open(&a.subject, breaker, 599));
        assert!(!state.breaker_open(&a.subject, breaker, 600));
        assert!(state.take(&[a], 600).is_ok());
    }

    #[test]
    fn the_debug_of_the_store_names_it_without_its_contents() {
        let state = MemoryState::default();
        state.take(&[agent("a", &[(1, 1_000)], None)], 0).unwrap();
        assert_eq!(format!("{state:?}"), "MemoryState { .. }");
    }

    /// Subjects are spread over the shards (so decisions about different agents rarely wait
    /// for each other), each in range: 256 names fill more than half of the 64 shards (about
    /// 63 expected; one shard for all would be the chance 64^-255).
    #[test]
    fn subjects_are_spread_over_the_shards() {
        let state = MemoryState::default();
        let shards: std::collections::HashSet<usize> = (0..256)
            .map(|i| state.shard_of(&Subject::Agent(Arc::from(format!("a{i}").as_str()))))
            .collect();
        assert!(shards.iter().all(|s| *s < SHARDS), "{shards:?}");
        assert!(shards.len() > SHARDS / 2, "{} shards", shards.len());
    }

    /// The meaning written the slow way: every use kept, the window counted by a scan.
    #[derive(Default)]
    struct Naive {
        uses: Vec<u64>,
    }

    impl Naive {
        fn take(&mut self, rates: &[(u64, u64)], now: u64) -> bool {
            let room = rates.iter().all(|(count, per)| {
                (self.uses.iter().filter(|t| *t + per > now).count() as u64) < *count
            });
            if room {
                self.uses.push(now);
            }
            room
        }
    }

    proptest! {
        #[test]
        fn memory_state_agrees_with_the_naive_model(
            rates in prop::collection::vec((1u64..6, 1u64..50), 1..3),
            steps in prop::collection::vec(0u64..20, 1..200),
        ) {
            let state = MemoryState::default();
            let take = agent("x", &rates, None);
            let mut naive = Naive::default();
            let mut now = 0;
            for step in steps {
                now += step;
                let ours = state.take(std::slice::from_ref(&take), now).is_ok();
                prop_assert_eq!(ours, naive.take(&rates, now), "at {}", now);
                prop_assert_eq!(state.check(&take, now).is_none(), naive.room(&rates, now));
            }
        }
    }

    impl Naive {
        /// Whether one more use would be allowed at `now`, without taking it.
        fn room(&self, rates: &[(u64, u64)], now: u64) -> bool {
            rates.iter().all(|(count, per)| {
                (self.uses.iter().filter(|t| *t + per > now).count() as u64) < *count
            })
        }
    }
}

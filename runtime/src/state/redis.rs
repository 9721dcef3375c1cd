//! `RedisState`: the state store a fleet of sidecars shares (`intent serve --state redis://..`).
//! The language's meaning is kept exactly: a decision's subjects are checked and taken in one
//! server-side Lua script (`redis.lua`, run with EVALSHA), each rate limit as a sliding log of
//! at most `count` use times (not GCRA, which admits 2N-1 in a window), and breakers as a sorted
//! set of failure times that every replica reads. Times are the Redis server's.
//!
//! Asynchronous on tokio (a reconnecting multiplexed connection, every call under a timeout),
//! so no request thread ever blocks on Redis. When Redis cannot be reached the store says so
//! (`Refused::Unavailable`) and the decision fails closed, or, with a local fallback, each
//! replica enforces its share of each limit (count / replicas) on its own until Redis is back.
//! While Redis is down, requests do not wait on it: `ping` (run every half second by the
//! sidecar) finds it back, and the next decision uses it again, without a restart.
//!
//! The engine chooses candidates on `Check`: what this store learned from Redis's refusals
//! ("subject blocked for another N ms", a lower bound, since uses and failures leave a window
//! only by time). A stale read costs one more round trip, never a wrong answer.

use super::{Block, Blocked, Breaker, Check, MemoryState, Rate, Refused, State, Subject, Take};
use super::{FAILURES_KEPT_WITHOUT_BREAKER, MAX_LOG};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Records a failure: KEYS failures, sequence; ARGV at_ms (0: now), keep, cooldown_ms (0: none).
const FAILURE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = tonumber(ARGV[1])
if at == 0 then at = now end
local keep, cooldown = tonumber(ARGV[2]), tonumber(ARGV[3])
local id = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], at, string.format('%d', at) .. ':' .. id)
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(keep + 1))
if cooldown > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - cooldown))
  redis.call('PEXPIRE', KEYS[1], cooldown + math.max(at - now, 0))
else
  redis.call('PEXPIRE', KEYS[1], 86400000)
end
return 1
";

/// Breakers' remaining open time: KEYS failures per agent; ARGV (failures, cooldown_ms) each.
const BREAKERS: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS do
  local bf, bc = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local w = 0
  local r = redis.call('ZREVRANGE', KEYS[i], bf - 1, bf - 1, 'WITHSCORES')
  if r[2] then
    local e = tonumber(r[2]) + bc
    if e > now then w = e - now end
  end
  out[i] = w
end
return out
";

/// How the Redis store is reached and what it does when it cannot be.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `redis://host:port/db` (or `rediss://`, `unix://`).
    pub url: String,
    /// Put before every key, so fleets can share a Redis.
    pub prefix: String,
    /// The longest one call may take (connecting included) before the store counts as down.
    pub timeout: Duration,
    /// `Some(replicas)`: while Redis is down, enforce `count / replicas` of each limit locally.
    /// `None`: fail closed.
    pub fallback_replicas: Option<u64>,
}

/// The store's health, for `/readyz` and `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub up: bool,
    /// Calls that failed (timed out, refused, errors) since start.
    pub errors: u64,
    pub last_error: Option<String>,
    /// Decisions taken by the local fallback since start.
    pub fallback_takes: u64,
}

/// What the store learned from Redis: subjects blocked until a local time.
#[derive(Default)]
struct Hints(Mutex<HashMap<Subject, (Blocked, u64)>>);

impl Hints {
    fn get(&self, subject: &Subject, now: u64) -> Option<Blocked> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let (why, until) = map.get(subject)?;
        let wait_ms = until.checked_sub(now).filter(|w| *w > 0)?;
        Some(match why {
            Blocked::Rate { .. } => Blocked::Rate { wait_ms },
            Blocked::Breaker { .. } => Blocked::Breaker { wait_ms },
        })
    }

    fn learn(&self, blocks: &[Block], now: u64) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for b in blocks {
            map.insert(
                b.subject.clone(),
                (b.why, now.saturating_add(b.why.wait_ms())),
            );
        }
    }
}

pub struct RedisState {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
    take_script: Script,
    failure_script: Script,
    breakers_script: Script,
    hints: Hints,
    fallback: Option<(MemoryState, u64)>,
    up: AtomicBool,
    errors: AtomicU64,
    fallback_takes: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState")
            .field("prefix", &self.prefix)
            .field("up", &self.up.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl RedisState {
    /// A store for `config`. Connects lazily (the sidecar starts while Redis is down, and fails
    /// closed until it is up); must be called inside a tokio runtime.
    pub fn new(config: &RedisConfig) -> Result<RedisState, String> {
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| format!("--state {}: {e}", config.url))?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let conn = ConnectionManager::new_lazy_with_config(client, manager)
            .map_err(|e| format!("--state {}: {e}", config.url))?;
        Ok(RedisState {
            conn,
            prefix: config.prefix.clone(),
            timeout: config.timeout,
            take_script: Script::new(include_str!("redis.lua")),
            failure_script: Script::new(FAILURE),
            breakers_script: Script::new(BREAKERS),
            hints: Hints::default(),
            fallback: config
                .fallback_replicas
                .map(|n| (MemoryState::default(), n.max(1))),
            up: AtomicBool::new(false),
            errors: AtomicU64::new(0),
            fallback_takes: AtomicU64::new(0),
            last_error: Mutex::new(None),
        })
    }

    fn key(&self, subject: &Subject, what: &str) -> String {
        format!(
            "{}{}:{}:{what}",
            self.prefix,
            subject.kind(),
            subject.name()
        )
    }

    pub fn health(&self) -> Health {
        Health {
            up: self.up.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            fallback_takes: self.fallback_takes.load(Ordering::Relaxed),
        }
    }

    /// Whether the store falls back to local limits when Redis is down.
    pub fn has_fallback(&self) -> bool {
        self.fallback.is_some()
    }

    fn failed(&self, why: String) -> String {
        self.up.store(false, Ordering::Relaxed);
        self.errors.fetch_add(1, Ordering::Relaxed);
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(why.clone());
        why
    }

    /// Runs one call under the timeout, keeping the health up to date.
    async fn call<T>(
        &self,
        f: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, String> {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(Ok(v)) => {
                self.up.store(true, Ordering::Relaxed);
                Ok(v)
            }
            Ok(Err(e)) => Err(self.failed(format!("redis: {e}"))),
            Err(_) => Err(self.failed(format!(
                "redis did not answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }

    /// Asks Redis whether it is there (PING); the sidecar calls this every half second, which
    /// is how a store marked down comes back.
    pub async fn ping(&self) -> Result<(), String> {
        let mut conn = self.conn.clone();
        self.call(redis::cmd("PING").query_async::<String>(&mut conn))
            .await
            .map(|_| ())
    }

    /// Checks and takes `takes` in one script run. While Redis is marked down it is not asked
    /// (the fallback answers, or the claim is refused as unavailable).
    pub async fn take(&self, takes: &[Take], now_ms: u64) -> Result<(), Refused> {
        if !self.up.load(Ordering::Relaxed) {
            let why = self
                .health()
                .last_error
                .unwrap_or_else(|| "redis has not answered yet".into());
            return self.fall_back(takes, now_ms, why);
        }
        // Each subject once, with the number of uses it takes.
        let mut subjects: Vec<(&Take, u64)> = Vec::with_capacity(takes.len());
        for t in takes {
            match subjects.iter_mut().find(|(s, _)| s.subject == t.subject) {
                Some((_, k)) => *k += 1,
                None => subjects.push((t, 1)),
            }
        }
        let mut blocks = Vec::new();
        let mut inv = self.take_script.prepare_invoke();
        for (t, k) in &subjects {
            if let Some(b) = t.breaker.filter(|b| b.failures == 0) {
                blocks.push(Block {
                    subject: t.subject.clone(),
                    why: Blocked::Breaker {
                        wait_ms: b.cooldown_ms.max(1),
                    },
                });
            }
            inv.key(self.key(&t.subject, "uses"))
                .key(self.key(&t.subject, "failures"))
                .arg(*k)
                .arg(t.rates.len());
            for r in t.rates.iter() {
                inv.arg(r.count.min(MAX_LOG)).arg(r.per_ms);
            }
            let b = t.breaker.unwrap_or(Breaker {
                failures: 0,
                cooldown_ms: 0,
            });
            inv.arg(b.failures.min(MAX_LOG)).arg(b.cooldown_ms);
        }
        if !blocks.is_empty() {
            return Err(Refused::Blocked(blocks));
        }
        let mut conn = self.conn.clone();
        let answer: Vec<i64> = match self.call(inv.invoke_async(&mut conn)).await {
            Ok(a) => a,
            Err(why) => return self.fall_back(takes, now_ms, why),
        };
        for c in answer.chunks(3) {
            let [i, kind, wait] = c else {
                continue;
            };
            let Some((t, _)) = i
                .checked_sub(1)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| subjects.get(i))
            else {
                continue;
            };
            let wait_ms = u64::try_from(*wait).unwrap_or(1).max(1);
            blocks.push(Block {
                subject: t.subject.clone(),
                why: if *kind == 2 {
                    Blocked::Breaker { wait_ms }
                } else {
                    Blocked::Rate { wait_ms }
                },
            });
        }
        if blocks.is_empty() {
            Ok(())
        } else {
            self.hints.learn(&blocks, now_ms);
            Err(Refused::Blocked(blocks))
        }
    }

    /// Takes from the local fallback (each limit divided by the replica count), or refuses as
    /// unavailable when there is none.
    fn fall_back(&self, takes: &[Take], now_ms: u64, why: String) -> Result<(), Refused> {
        let Some((local, replicas)) = &self.fallback else {
            return Err(Refused::Unavailable(why));
        };
        let shares: Vec<Take> = takes.iter().map(|t| share(t, *replicas)).collect();
        local.take(&shares, now_ms)?;
        self.fallback_takes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Records a failure of `agent` for every replica (at `at_ms`, or Redis's now). While Redis
    /// is down the failure goes to the local fallback, or is refused (an error) without one.
    pub async fn record_failure(
        &self,
        agent: &Subject,
        breaker: Option<Breaker>,
        at_ms: Option<u64>,
        now_ms: u64,
    ) -> Result<(), String> {
        let keep = breaker
            .map_or(0, |b| b.failures)
            .clamp(FAILURES_KEPT_WITHOUT_BREAKER, MAX_LOG);
        let cooldown = breaker.map_or(0, |b| b.cooldown_ms);
        let local = |why: String| match &self.fallback {
            Some((local, _)) => {
                local.record_failure(agent, breaker, at_ms.unwrap_or(now_ms));
                Ok(())
            }
            None => Err(why),
        };
        if !self.up.load(Ordering::Relaxed) {
            return local(
                self.health()
                    .last_error
                    .unwrap_or_else(|| "redis has not answered yet".into()),
            );
        }
        let mut inv = self.failure_script.prepare_invoke();
        inv.key(self.key(agent, "failures"))
            .key(format!("{}seq", self.prefix))
            .arg(at_ms.unwrap_or(0))
            .arg(keep)
            .arg(cooldown);
        let mut conn = self.conn.clone();
        match self.call::<i64>(inv.invoke_async(&mut conn)).await {
            Ok(_) => Ok(()),
            Err(why) => local(why),
        }
    }

    /// For each of `agents` with a breaker, whether it is open now (for `/metrics`).
    pub async fn breakers_open(&self, agents: &[Take]) -> Result<Vec<(Subject, bool)>, String> {
        let with: Vec<(&Subject, Breaker)> = agents
            .iter()
            .filter_map(|t| t.breaker.map(|b| (&t.subject, b)))
            .filter(|(_, b)| b.failures > 0)
            .collect();
        if with.is_empty() {
            return Ok(Vec::new());
        }
        let mut inv = self.breakers_script.prepare_invoke();
        for (s, b) in &with {
            inv.key(self.key(s, "failures"))
                .arg(b.failures.min(MAX_LOG))
                .arg(b.cooldown_ms);
        }
        let mut conn = self.conn.clone();
        let waits: Vec<i64> = self.call(inv.invoke_async(&mut conn)).await?;
        Ok(with
            .iter()
            .zip(waits)
            .map(|((s, _), w)| ((*s).clone(), w > 0))
            .collect())
    }
}

/// `take` with each count divided by the number of replicas (rounded down): one replica's
/// share of the fleet's limit.
fn share(take: &Take, replicas: u64) -> Take {
    Take {
        subject: take.subject.clone(),
        rates: take
            .rates
            .iter()
            .map(|r| Rate {
                count: r.count / replicas,
                per_ms: r.per_ms,
            })
            .collect::<Arc<[Rate]>>(),
        breaker: take.breaker,
    }
}

impl Check for RedisState {
    /// What Redis refused last (a lower bound), or, while Redis is down with a fallback, the
    /// local share.
    fn check(&self, take: &Take, now_ms: u64) -> Option<Blocked> {
        if let Some(b) = self.hints.get(&take.subject, now_ms) {
            return Some(b);
        }
        match &self.fallback {
            Some((local, replicas)) if !self.up.load(Ordering::Relaxed) => {
                local.check(&share(take, *replicas), now_ms)
            }
            _ => None,
        }
    }
}

impl State for RedisState {
    /// The Redis store is asynchronous: the sidecar takes through `RedisState::take`. Called
    /// synchronously (an engine deciding on its own), it refuses, so the decision fails closed.
    fn take(&self, _: &[Take], _: u64) -> Result<(), Refused> {
        Err(Refused::Unavailable(
            "the Redis store is asynchronous and is used by the sidecar only".into(),
        ))
    }

    /// Asynchronous too: the sidecar records through `RedisState::record_failure`.
    fn record_failure(&self, _: &Subject, _: Option<Breaker>, _: u64) {}
}

//! Stages that let entries through or not: `drop`, `match`, `limit`, `sampling`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prom::relabel::GoRegex;

use super::config::{DropConfig, LimitConfig, MatchConfig, SamplingConfig};
use super::logql::Selector;
use super::value::get_string;
use super::{now_ns, ConfigError, Item, Observer, Pipeline, Stage};

pub struct Drop {
    sources: Vec<String>,
    separator: String,
    value: Option<String>,
    expression: Option<GoRegex>,
    older_than: Option<Duration>,
    longer_than: Option<usize>,
    reason: String,
    obs: Arc<dyn Observer>,
}

/// A size such as `8KB` or `1MiB` (powers of 1024, as Go's `units.Base2Bytes`).
fn parse_bytes(s: &str) -> Option<usize> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: usize = num.parse().ok()?;
    let mult: usize = match unit {
        "" | "B" => 1,
        "KB" | "KiB" => 1 << 10,
        "MB" | "MiB" => 1 << 20,
        "GB" | "GiB" => 1 << 30,
        "TB" | "TiB" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mult)
}

impl Drop {
    pub fn new(c: &DropConfig, obs: Arc<dyn Observer>) -> Result<Self, ConfigError> {
        if c.source.is_empty() && !c.value.is_empty() {
            return Err(ConfigError::new("drop stage config must contain `source` if `value` is specified"));
        }
        if c.source.is_empty() && c.expression.is_empty() && c.older_than.is_zero() && c.longer_than.is_empty() {
            return Err(ConfigError::new("drop stage config must contain at least one of `source`, `expression`, `older_than` or `longer_than`"));
        }
        if !c.value.is_empty() && !c.expression.is_empty() {
            return Err(ConfigError::new("drop stage config error, `value` and `expression` cannot both be defined at the same time"));
        }
        let expression = if c.expression.is_empty() {
            None
        } else {
            Some(GoRegex::new(&c.expression).map_err(|e| ConfigError::new(format!("drop stage regex compilation error: {e}")))?)
        };
        let longer_than = if c.longer_than.is_empty() {
            None
        } else {
            Some(
                parse_bytes(&c.longer_than)
                    .ok_or_else(|| ConfigError::new(format!("drop stage config error, `longer_than` is not a valid size: {}", c.longer_than)))?,
            )
        };
        let sources = if c.source.is_empty() { Vec::new() } else { c.source.split(',').map(|s| s.trim().to_string()).collect() };
        Ok(Drop {
            sources,
            separator: c.separator.clone(),
            value: Some(c.value.clone()).filter(|v| !v.is_empty()),
            expression,
            older_than: Some(c.older_than).filter(|d| !d.is_zero()),
            longer_than,
            reason: c.drop_counter_reason.clone(),
            obs,
        })
    }

    fn should_drop(&self, item: &Item) -> bool {
        if let Some(limit) = self.longer_than {
            if item.line.len() <= limit {
                return false;
            }
        }
        if let Some(age) = self.older_than {
            let cutoff = now_ns().saturating_sub(i64::try_from(age.as_nanos()).unwrap_or(i64::MAX));
            if item.timestamp_ns >= cutoff {
                return false;
            }
        }
        if !self.sources.is_empty() {
            let mut values = Vec::with_capacity(self.sources.len());
            for s in &self.sources {
                match item.extracted.get(s) {
                    Some(v) => match get_string(v) {
                        Some(t) => values.push(t),
                        None if self.value.is_none() && self.expression.is_none() => values.push(String::new()),
                        None => return false,
                    },
                    None => return false,
                }
            }
            let joined = values.join(&self.separator);
            if let Some(v) = &self.value {
                if joined != *v {
                    return false;
                }
            }
            if let Some(re) = &self.expression {
                if !re.is_match(&joined) {
                    return false;
                }
            }
        } else if let Some(re) = &self.expression {
            if !re.is_match(&item.line) {
                return false;
            }
        }
        true
    }
}

impl Stage for Drop {
    fn process(&mut self, item: Item, out: &mut Vec<Item>) {
        if self.should_drop(&item) {
            self.obs.dropped(&self.reason);
        } else {
            out.push(item);
        }
    }
}

pub struct Match {
    selector: Selector,
    drop: bool,
    reason: String,
    stages: Pipeline,
    obs: Arc<dyn Observer>,
}

impl Match {
    pub fn new(c: &MatchConfig, obs: Arc<dyn Observer>, depth: usize) -> Result<Self, ConfigError> {
        let (selector, drop) = Self::check(c)?;
        let stages = Pipeline::nested(&c.stages, obs.clone(), depth + 1)?;
        Ok(Match { selector, drop, reason: c.drop_counter_reason.clone(), stages, obs })
    }

    /// The match's own rules (not its nested stages'): the selector and whether to drop.
    pub fn check(c: &MatchConfig) -> Result<(Selector, bool), ConfigError> {
        if c.selector.is_empty() {
            return Err(ConfigError::new("selector statement required for match stage"));
        }
        let drop = match c.action.as_str() {
            "keep" | "" => false,
            "drop" => true,
            _ => return Err(ConfigError::new("match stage action should be 'keep' or 'drop'")),
        };
        if !drop && c.stages.is_empty() {
            return Err(ConfigError::new("match stage requires at least one additional stage to be defined in '- stages'"));
        }
        if drop && !c.stages.is_empty() {
            return Err(ConfigError::new("match stage configured to drop entries cannot contains stages"));
        }
        let selector = Selector::parse(&c.selector).map_err(|e| ConfigError::new(format!("invalid selector syntax for match stage: {e}")))?;
        Ok((selector, drop))
    }
}

impl Stage for Match {
    fn process(&mut self, item: Item, out: &mut Vec<Item>) {
        if !self.selector.matches(&item) {
            out.push(item);
        } else if self.drop {
            self.obs.dropped(&self.reason);
        } else {
            out.extend(self.stages.run(vec![item]));
        }
    }

    fn flush(&mut self, out: &mut Vec<Item>) {
        out.extend(self.stages.flush());
    }

    fn tick(&mut self, out: &mut Vec<Item>) {
        out.extend(self.stages.tick());
    }
}

/// A token bucket: `rate` tokens a second, at most `burst` held.
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self, rate: f64, burst: f64) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * rate).min(burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How long until a token is there.
    fn wait(&self, rate: f64) -> Duration {
        Duration::from_secs_f64(((1.0 - self.tokens) / rate).max(0.0))
    }
}

pub struct Limit {
    rate: f64,
    burst: f64,
    drop: bool,
    by_label: Option<String>,
    max_distinct: usize,
    one: Bucket,
    by_value: HashMap<String, Bucket>,
    obs: Arc<dyn Observer>,
}

impl Limit {
    pub fn new(c: &LimitConfig, obs: Arc<dyn Observer>) -> Result<Self, ConfigError> {
        if c.rate <= 0.0 || c.burst <= 0.0 {
            return Err(ConfigError::new("limit stage failed to parse rate or burst"));
        }
        if !c.by_label_name.is_empty() && !c.drop {
            return Err(ConfigError::new("when ratelimiting by label, drop must be true"));
        }
        let fresh = Bucket { tokens: c.burst, at: Instant::now() };
        Ok(Limit {
            rate: c.rate,
            burst: c.burst,
            drop: c.drop,
            by_label: Some(c.by_label_name.clone()).filter(|l| !l.is_empty()),
            max_distinct: c.max_distinct_labels.max(10_000) as usize,
            one: fresh,
            by_value: HashMap::new(),
            obs,
        })
    }
}

impl Stage for Limit {
    fn process(&mut self, item: Item, out: &mut Vec<Item>) {
        let (rate, burst) = (self.rate, self.burst);
        let bucket = match &self.by_label {
            Some(l) => {
                let Some(v) = item.labels.get(l) else {
                    out.push(item);
                    return;
                };
                if !self.by_value.contains_key(v) && self.by_value.len() >= self.max_distinct {
                    self.by_value.clear();
                }
                self.by_value.entry(v.clone()).or_insert_with(|| Bucket { tokens: burst, at: Instant::now() })
            }
            None => &mut self.one,
        };
        if bucket.take(rate, burst) {
            out.push(item);
        } else if self.drop {
            self.obs.dropped("ratelimit_drop_stage");
            if let Some(l) = &self.by_label {
                self.obs.dropped_by_label(l, item.labels.get(l).map_or("", String::as_str));
            }
        } else {
            // Waiting for a token is the stage's back-pressure (`drop = false`).
            std::thread::sleep(bucket.wait(rate));
            let _ = bucket.take(rate, burst);
            out.push(item);
        }
    }
}

pub struct Sampling {
    rate: f64,
    reason: String,
    rng: u64,
    obs: Arc<dyn Observer>,
}

impl Sampling {
    pub fn new(c: &SamplingConfig, obs: Arc<dyn Observer>) -> Result<Self, ConfigError> {
        if !(0.0..=1.0).contains(&c.rate) {
            return Err(ConfigError::new(format!("sampling stage failed to parse rate,Sampling Rate must be between 0.0 and 1.0, received {:.6}", c.rate)));
        }
        let seed = now_ns() as u64 ^ 0x9e37_79b9_7f4a_7c15;
        Ok(Sampling { rate: c.rate, reason: c.drop_counter_reason.clone(), rng: seed | 1, obs })
    }

    /// A uniform number in [0, 1) (xorshift64*).
    fn next(&mut self) -> f64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Stage for Sampling {
    fn process(&mut self, item: Item, out: &mut Vec<Item>) {
        if self.rate >= 1.0 || (self.rate > 0.0 && self.next() < self.rate) {
            out.push(item);
        } else {
            self.obs.dropped(&self.reason);
        }
    }
}

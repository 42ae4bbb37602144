//! `retry_on_failure`: exponential backoff with jitter for retryable send errors.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::component::args::types::Dur;
use crate::component::{Arguments, Reader};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RetryConfig {
    pub enabled: bool,
    pub initial_interval: Duration,
    pub max_interval: Duration,
    /// Zero: retry forever.
    pub max_elapsed_time: Duration,
    pub multiplier: f64,
    pub randomization_factor: f64,
}

/// The `retry_on_failure` block.
impl Arguments for RetryConfig {
    fn decode(r: &mut Reader<'_>) -> Self {
        RetryConfig {
            enabled: r.get("enabled"),
            initial_interval: r.get::<Dur>("initial_interval").0,
            max_interval: r.get::<Dur>("max_interval").0,
            max_elapsed_time: r.get::<Dur>("max_elapsed_time").0,
            multiplier: r.get("multiplier"),
            randomization_factor: r.get("randomization_factor"),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(!self.enabled || self.multiplier >= 1.0, &["multiplier"], "multiplier must be at least 1");
        r.check((0.0..=1.0).contains(&self.randomization_factor), &["randomization_factor"], "randomization_factor must be between 0 and 1");
    }
}

/// Why one send attempt failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    pub retryable: bool,
    /// A delay the server asked for (Retry-After, RetryInfo).
    pub retry_after: Option<Duration>,
}

impl SendError {
    pub fn retryable(message: impl Into<String>) -> Self {
        SendError { message: message.into(), retryable: true, retry_after: None }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        SendError { message: message.into(), retryable: false, retry_after: None }
    }
}

/// The delays between attempts.
pub struct Backoff {
    config: RetryConfig,
    current: Duration,
    started: Instant,
    seed: u64,
}

impl Backoff {
    pub fn new(config: RetryConfig) -> Self {
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0x9e37_79b9, |d| d.as_nanos() as u64) | 1;
        Backoff { current: config.initial_interval, config, started: Instant::now(), seed }
    }

    /// A uniform number in [0, 1) (xorshift: jitter needs no cryptographic quality).
    fn random(&mut self) -> f64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        (self.seed >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The next delay, or `None` when the time budget is spent.
    pub fn next_delay(&mut self) -> Option<Duration> {
        let r = self.config.randomization_factor.clamp(0.0, 1.0);
        let jitter = 1.0 - r + 2.0 * r * self.random();
        let delay = self.current.mul_f64(jitter);
        self.current = self.current.mul_f64(self.config.multiplier.max(1.0)).min(self.config.max_interval);
        let budget = self.config.max_elapsed_time;
        if !budget.is_zero() && self.started.elapsed() + delay > budget {
            return None;
        }
        Some(delay)
    }
}

/// Runs `attempt` until it succeeds, fails permanently, the backoff budget runs out or
/// `stop` is cancelled (then the last error is returned).
pub async fn with_retry<F, Fut>(config: &RetryConfig, stop: &CancellationToken, attempt: F) -> Result<(), SendError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), SendError>>,
{
    with_retry_observed(config, stop, attempt, |_, _| {}).await
}

/// [`with_retry`], telling `on_retry` about each failed attempt that will be retried and the
/// delay before the next one.
pub async fn with_retry_observed<F, Fut>(
    config: &RetryConfig,
    stop: &CancellationToken,
    mut attempt: F,
    mut on_retry: impl FnMut(&SendError, Duration),
) -> Result<(), SendError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), SendError>>,
{
    let mut backoff = Backoff::new(config.clone());
    loop {
        let err = match attempt().await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if !err.retryable || !config.enabled || stop.is_cancelled() {
            return Err(err);
        }
        let Some(mut delay) = backoff.next_delay() else {
            return Err(SendError { message: format!("no more retries left: {}", err.message), ..err });
        };
        if let Some(after) = err.retry_after {
            delay = delay.max(after);
        }
        on_retry(&err, delay);
        tokio::select! {
            _ = stop.cancelled() => return Err(SendError { message: format!("interrupted due to shutdown: {}", err.message), ..err }),
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The block's catalogue defaults.
    pub(crate) fn defaults() -> RetryConfig {
        crate::component::args::block_defaults("otelcol.exporter.otlp", &["retry_on_failure"]).unwrap()
    }

    fn fast(max_elapsed: Duration) -> RetryConfig {
        RetryConfig {
            initial_interval: Duration::from_millis(1),
            max_interval: Duration::from_millis(4),
            max_elapsed_time: max_elapsed,
            multiplier: 2.0,
            randomization_factor: 0.5,
            enabled: true,
        }
    }

    #[test]
    fn delays_grow_to_the_maximum_within_the_jitter() {
        let mut b = Backoff::new(RetryConfig { max_elapsed_time: Duration::ZERO, ..defaults() });
        let d: Vec<_> = (0..6).map(|_| b.next_delay().unwrap().as_secs_f64()).collect();
        assert!((2.5..=7.5).contains(&d[0]), "{d:?}");
        assert!((3.75..=11.25).contains(&d[1]), "{d:?}");
        assert!(d[5] <= 45.0 && d[5] >= 15.0, "{d:?}");
    }

    #[tokio::test]
    async fn retries_retryable_errors_until_success_and_stops_on_permanent_ones() {
        let calls = AtomicUsize::new(0);
        let stop = CancellationToken::new();
        let r = with_retry(&fast(Duration::from_secs(5)), &stop, || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 3 {
                    Err(SendError::retryable("down"))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(r.is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 4);

        calls.store(0, Ordering::SeqCst);
        let r = with_retry(&fast(Duration::from_secs(5)), &stop, || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(SendError::permanent("bad")) }
        })
        .await;
        assert_eq!(r.unwrap_err().message, "bad");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn gives_up_when_the_time_budget_is_spent() {
        let stop = CancellationToken::new();
        let r = with_retry(&fast(Duration::from_millis(30)), &stop, || async { Err(SendError::retryable("down")) }).await;
        assert!(r.unwrap_err().message.starts_with("no more retries left"));
    }
}

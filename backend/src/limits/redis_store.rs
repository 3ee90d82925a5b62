//! Every replica on one Redis: a GCRA step as one Lua script, atomic on the
//! server and timed by the server's clock (replicas' clocks may differ).
//!
//! The key holds the budget's theoretical arrival time (TAT) in microseconds
//! and expires when the budget is full again, so idle keys cost nothing.

use std::time::Duration;

use anyhow::Context as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret as _;

use super::config::redact_redis_url;
use super::config::{LimitsConfig, Quota};
use super::types::Decision;

/// KEYS[1]: the budget key. ARGV[1]: emission interval (µs per cell),
/// ARGV[2]: burst tolerance (µs: interval × (burst − 1)).
/// Returns {1, 0} when allowed, {0, wait µs} when over budget.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end
local wait = tat - tolerance - now
if wait > 0 then
  return {0, wait}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, 0}
";

pub(super) struct RedisStore {
    connection: ConnectionManager,
    script: redis::Script,
    timeout: Duration,
}

impl RedisStore {
    /// Connects and PINGs (a few attempts, `RATE_LIMIT_REDIS_CONNECT_ATTEMPTS`),
    /// so a wrong `REDIS_URL` stops the start with a clear message.
    pub(super) async fn connect(
        url: &secrecy::SecretString,
        config: &LimitsConfig,
    ) -> anyhow::Result<Self> {
        let shown = redact_redis_url(url.expose_secret());
        let client = redis::Client::open(url.expose_secret())
            .with_context(|| format!("REDIS_URL {shown} is not a valid Redis URL"))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.redis_timeout))
            .set_response_timeout(Some(config.redis_timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let mut delay = Duration::from_millis(200);
        let mut attempt = 1;
        let connection = loop {
            let result = async {
                let mut connection =
                    ConnectionManager::new_with_config(client.clone(), manager_config.clone())
                        .await?;
                let pong: String = redis::cmd("PING").query_async(&mut connection).await?;
                anyhow::ensure!(pong == "PONG", "unexpected answer to PING: {pong}");
                Ok::<_, anyhow::Error>(connection)
            };
            match tokio::time::timeout(config.redis_timeout * 4, result).await {
                Ok(Ok(connection)) => break connection,
                outcome if attempt < config.redis_connect_attempts => {
                    let error = match outcome {
                        Ok(Err(error)) => format!("{error:#}"),
                        _ => "timed out".to_owned(),
                    };
                    tracing::warn!(
                        attempt,
                        max_attempts = config.redis_connect_attempts,
                        retry_in_ms = delay.as_millis() as u64,
                        error,
                        redis = %shown,
                        "Redis not reachable yet, retrying"
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                    attempt += 1;
                }
                Ok(Err(error)) => {
                    return Err(error).with_context(|| {
                        format!(
                            "REDIS_URL {shown}: Redis does not answer after {attempt} attempts \
                             (check the address, the password and that Redis runs; \
                             unset REDIS_URL to count rate limits in memory)"
                        )
                    });
                }
                Err(_) => anyhow::bail!(
                    "REDIS_URL {shown}: Redis does not answer within {:?} after {attempt} attempts \
                     (check the address and that Redis runs; unset REDIS_URL to count rate limits in memory)",
                    config.redis_timeout * 4
                ),
            }
        };
        Ok(Self {
            connection,
            script: redis::Script::new(GCRA),
            timeout: config.redis_timeout,
        })
    }

    pub(super) async fn check(&self, key: &str, quota: Quota) -> anyhow::Result<Decision> {
        let interval = quota.interval_micros();
        let tolerance = interval * u64::from(quota.burst.saturating_sub(1));
        let mut connection = self.connection.clone();
        let mut invocation = self.script.key(key);
        invocation.arg(interval).arg(tolerance);
        let call = invocation.invoke_async::<(i64, i64)>(&mut connection);
        let (allowed, wait) = tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| anyhow::anyhow!("Redis did not answer within {:?}", self.timeout))?
            .context("rate-limit script")?;
        Ok(if allowed == 1 {
            Decision::Allowed
        } else {
            Decision::Limited {
                retry_after: Duration::from_micros(u64::try_from(wait).unwrap_or(1).max(1)),
            }
        })
    }
}

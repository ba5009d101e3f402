//! One lazily opened Redis connection, shared by everything in paycue that
//! talks to Redis (the store, the alert state). It does not connect until
//! the first command, reconnects after a loss, and fails fast while Redis is
//! away: callers answer 503 or retry later rather than pile up requests. A
//! malformed URL is reported by every call (config validates it first).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use super::errors::map_err;
use crate::store::StoreError;

pub struct Link {
    client: Result<redis::Client, String>,
    conn: OnceCell<ConnectionManager>,
}

impl Link {
    pub fn open(url: &str) -> Link {
        Link {
            client: redis::Client::open(url).map_err(|e| e.to_string()),
            conn: OnceCell::new(),
        }
    }

    /// The connection (a cheap clone of the one manager).
    pub async fn get(&self) -> Result<ConnectionManager, StoreError> {
        let client = self
            .client
            .as_ref()
            .map_err(|e| StoreError::Unavailable(e.clone()))?;
        let conn = self
            .conn
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Duration::from_secs(2))
                    .set_response_timeout(Duration::from_secs(5))
                    .set_number_of_retries(1)
                    .set_max_delay(500);
                ConnectionManager::new_with_config(client.clone(), config)
                    .await
                    .map_err(map_err)
            })
            .await?;
        Ok(conn.clone())
    }
}

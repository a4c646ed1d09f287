//! The hourly clean-up of rows nothing can use any more: refresh tokens of grants past their
//! absolute lifetime and sessions that have ended. Without it both tables only grow (every
//! rotation leaves its retired token behind; every sign-in leaves a session row).

use entities::{refresh_token, session};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TryGetable};

use crate::Broker;
use crate::error::Result;

/// Rows deleted per statement: short transactions, however many ended at once.
const SWEEP_BATCH: u64 = 5_000;

/// What one sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Refresh tokens of ended grants.
    pub refresh_tokens: u64,
    /// Ended sessions.
    pub sessions: u64,
}

impl Broker {
    /// Runs every sweep once.
    pub async fn sweep(&self) -> Result<Swept> {
        Ok(Swept {
            refresh_tokens: self.sweep_ended_refresh_tokens().await?,
            sessions: self.sweep_ended_sessions().await?,
        })
    }

    /// Deletes the refresh tokens of families past their absolute lifetime and returns how
    /// many. All tokens of a family share that limit, so a family that can still be refreshed
    /// keeps every retired token it needs to recognise a reuse.
    pub async fn sweep_ended_refresh_tokens(&self) -> Result<u64> {
        let ended = Condition::all().add(refresh_token::Column::AbsoluteExpiresAt.lte(self.now()));
        self.delete_in_batches::<refresh_token::Entity, entities::RefreshTokenId>(
            refresh_token::Column::Id,
            ended,
        )
        .await
    }

    /// Deletes sessions that can no longer be used (revoked, idle too long or past their
    /// absolute limit; none of these comes back) and returns how many. Their rows in
    /// `session_clients` go with them; refresh tokens issued from them keep working (offline
    /// access outlives the browser session) and lose only the link to it.
    pub async fn sweep_ended_sessions(&self) -> Result<u64> {
        let now = self.now();
        let ended = Condition::any()
            .add(session::Column::RevokedAt.is_not_null())
            .add(session::Column::IdleExpiresAt.lte(now))
            .add(session::Column::ExpiresAt.lte(now));
        self.delete_in_batches::<session::Entity, entities::SessionId>(session::Column::Id, ended)
            .await
    }

    /// Deletes the rows of `E` matching `condition`, `SWEEP_BATCH` primary keys at a time.
    /// No index serves these conditions: each batch scans, hourly and off the request path,
    /// where an index would cost every sign-in or rotation one more write.
    async fn delete_in_batches<E, Id>(&self, id: E::Column, condition: Condition) -> Result<u64>
    where
        E: EntityTrait,
        Id: TryGetable + Into<sea_orm::Value> + Send + Sync,
    {
        let mut deleted = 0;
        loop {
            let batch: Vec<Id> = E::find()
                .select_only()
                .column(id)
                .filter(condition.clone())
                .limit(SWEEP_BATCH)
                .into_tuple()
                .all(self.db())
                .await?;
            if batch.is_empty() {
                return Ok(deleted);
            }
            let last = (batch.len() as u64) < SWEEP_BATCH;
            deleted += E::delete_many()
                .filter(id.is_in(batch))
                .exec(self.db())
                .await?
                .rows_affected;
            if last {
                return Ok(deleted);
            }
        }
    }
}

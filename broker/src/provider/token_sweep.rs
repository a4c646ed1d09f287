//! Clearing out refresh tokens whose family has ended. Every rotation leaves the retired token
//! behind (a retired token presented again is how reuse is detected), so without a sweep the
//! table only grows.

use entities::{RefreshTokenId, refresh_token};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::Broker;
use crate::error::Result;

/// Tokens deleted per statement: short transactions, however many families ended at once.
const SWEEP_BATCH: u64 = 5_000;

impl Broker {
    /// Deletes the refresh tokens of families past their absolute lifetime and returns how
    /// many. All tokens of a family share that limit, so a family that can still be refreshed
    /// keeps every retired token it needs to recognise a reuse.
    pub async fn sweep_ended_refresh_tokens(&self) -> Result<u64> {
        let now = self.now();
        let mut deleted = 0;
        loop {
            let batch: Vec<RefreshTokenId> = refresh_token::Entity::find()
                .select_only()
                .column(refresh_token::Column::Id)
                .filter(refresh_token::Column::AbsoluteExpiresAt.lte(now))
                .limit(SWEEP_BATCH)
                .into_tuple()
                .all(self.db())
                .await?;
            if batch.is_empty() {
                return Ok(deleted);
            }
            let last = (batch.len() as u64) < SWEEP_BATCH;
            deleted += refresh_token::Entity::delete_many()
                .filter(refresh_token::Column::Id.is_in(batch))
                .exec(self.db())
                .await?
                .rows_affected;
            if last {
                return Ok(deleted);
            }
        }
    }
}

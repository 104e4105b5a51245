//! `favorites`: one document per listener and song.

use futures::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, DateTime};
use mongodb::Collection;
use serde::{Deserialize, Serialize};

use super::{is_duplicate, now, DbResult, Store, UserId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FavoriteDoc {
    /// An ObjectId here, or the seed's cuid string for an imported favourite.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<UserId>,
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(rename = "songId")]
    pub song_id: String,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime,
}

impl Store {
    pub fn favorites(&self) -> Collection<FavoriteDoc> {
        self.db.collection("favorites")
    }

    /// Newest first; `offset`/`limit` page through them.
    #[tracing::instrument(name = "mongodb.favorites_of", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn favorites_of(
        &self,
        user_id: &str,
        offset: u64,
        limit: i64,
    ) -> DbResult<Vec<FavoriteDoc>> {
        self.favorites()
            .find(doc! {"userId": user_id})
            .sort(doc! {"createdAt": -1, "songId": 1})
            .skip(offset)
            .limit(limit)
            .await?
            .try_collect()
            .await
    }

    /// Adds a favourite; an existing one is returned unchanged.
    #[tracing::instrument(name = "mongodb.add_favorite", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn add_favorite(&self, user_id: &str, song_id: &str) -> DbResult<FavoriteDoc> {
        let fav = FavoriteDoc {
            id: Some(UserId::Oid(ObjectId::new())),
            user_id: user_id.to_owned(),
            song_id: song_id.to_owned(),
            created_at: now(),
        };
        match self.favorites().insert_one(&fav).await {
            Ok(_) => Ok(fav),
            Err(e) if is_duplicate(&e) => Ok(self
                .favorites()
                .find_one(doc! {"userId": user_id, "songId": song_id})
                .await?
                .unwrap_or(fav)),
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(name = "mongodb.remove_favorite", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn remove_favorite(&self, user_id: &str, song_id: &str) -> DbResult<bool> {
        self.favorites()
            .delete_one(doc! {"userId": user_id, "songId": song_id})
            .await
            .map(|r| r.deleted_count > 0)
    }
}

//! What the media worker's readings mean for the catalogue (docs/media.md).

use sqlx::PgConnection;
use uuid::Uuid;

use crate::rows::SongStatus;

/// `cadenza_media::album_gain`: `(integrated LUFS, true peak dBTP, seconds)`
/// per song to the album's gain (the catalogue does not decode audio).
pub type AlbumGain = fn(&[(f64, f64, f64)]) -> Option<f64>;

/// One song of an album: status, integrated loudness, true peak and
/// duration of the reading of its current audio (if any).
type Reading = (SongStatus, Option<f64>, Option<f64>, Option<f64>);

/// Sets `albums.gain_db` once no song of the album waits for the worker and
/// every ready one has a reading for its current audio: the gain of its
/// ready songs together, capped so the album's highest true peak stays at
/// or below the ceiling (`album_gain` is `cadenza_media::album_gain`).
/// Called in every transaction that settles a song or changes which songs
/// an album holds (the worker's verdicts, admin-svc's deletes and moves),
/// after its catalogue version is taken. Returns whether the gain changed.
/// Until the album is settled again (a song still processing) it keeps the
/// gain it had.
pub async fn refresh_album_gain(
    tx: &mut PgConnection,
    album_id: Uuid,
    album_gain: AlbumGain,
) -> sqlx::Result<bool> {
    let songs: Vec<Reading> = sqlx::query_as(
        "SELECT s.status, m.integrated_lufs, m.true_peak_dbtp, m.duration_seconds \
         FROM songs s LEFT JOIN song_media m ON m.song_id = s.id AND m.audio_key = s.audio_key \
         WHERE s.album_id = $1",
    )
    .bind(album_id)
    .fetch_all(&mut *tx)
    .await?;
    let settled = songs.iter().all(|(status, _, _, duration)| match status {
        SongStatus::Processing => false,
        SongStatus::Ready => duration.is_some(),
        SongStatus::Rejected => true,
    });
    if !settled {
        return Ok(false);
    }
    let measured: Vec<(f64, f64, f64)> = songs
        .iter()
        .filter(|(status, ..)| *status == SongStatus::Ready)
        .filter_map(|(_, lufs, peak, duration)| Some(((*lufs)?, (*peak)?, (*duration)?)))
        .collect();
    let gain = album_gain(&measured);
    let changed =
        sqlx::query("UPDATE albums SET gain_db = $2 WHERE id = $1 AND gain_db IS DISTINCT FROM $2")
            .bind(album_id)
            .bind(gain)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    Ok(changed == 1)
}

//! The bytes of uploaded files, outside the database: each under its
//! SHA-256 at `<data dir>/files/ab/cd/<sha256>`, so the same bytes are
//! kept once however many times they are uploaded. A file is streamed to
//! a temporary name in `files/tmp/`, flushed to disk, and only then
//! renamed into place (and its folder flushed): a crash leaves at worst a
//! stray temporary file, never a half file under a final name. Rows that
//! name a file are written after it is in place, so a row never points at
//! nothing; a file whose row never committed is unreferenced, not wrong.

use crate::error::ApiError;
use axum::body::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Where files live.
#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
}

/// A file stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Lowercase hex.
    pub sha256: String,
    pub size: u64,
    /// Whether these bytes were new (not already kept).
    pub fresh: bool,
}

/// Whether `s` is a SHA-256 as we name files: 64 lowercase hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Blobs {
    /// The files of the data directory `data_dir`.
    pub fn new(data_dir: &Path) -> Blobs {
        Blobs { root: data_dir.join("files") }
    }

    /// The final path of the file with this hash (`None` for anything that
    /// is not a hash, so no path is ever built from other text).
    pub fn path(&self, sha256: &str) -> Option<PathBuf> {
        is_sha256(sha256).then(|| self.root.join(&sha256[0..2]).join(&sha256[2..4]).join(sha256))
    }

    /// Streams `body` into the store, refusing it (and keeping nothing) as
    /// soon as it passes `max` bytes.
    pub async fn put<S, E>(&self, body: S, max: u64) -> Result<Stored, ApiError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp_dir = self.root.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir).await.map_err(io)?;
        let tmp = tmp_dir.join(format!("{}.part", hex::encode(crate::crypto::random_bytes::<16>())));
        let stored = self.write(body, max, &tmp).await;
        if stored.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        stored
    }

    async fn write<S, E>(&self, mut body: S, max: u64, tmp: &Path) -> Result<Stored, ApiError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut file = tokio::fs::File::create(tmp).await.map_err(io)?;
        let (mut hash, mut size) = (Sha256::new(), 0u64);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("the upload broke off: {e}")))?;
            size += chunk.len() as u64;
            if size > max {
                return Err(ApiError::TooLarge);
            }
            hash.update(&chunk);
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.sync_all().await.map_err(io)?;
        drop(file);
        let sha256 = hex::encode(hash.finalize());
        let target = self.path(&sha256).ok_or_else(|| ApiError::internal("a hash that is not one"))?;
        if tokio::fs::try_exists(&target).await.map_err(io)? {
            tokio::fs::remove_file(tmp).await.map_err(io)?;
            return Ok(Stored { sha256, size, fresh: false });
        }
        let folder = target.parent().ok_or_else(|| ApiError::internal("a file path without a folder"))?;
        tokio::fs::create_dir_all(folder).await.map_err(io)?;
        tokio::fs::rename(tmp, &target).await.map_err(io)?;
        // The rename is durable only once its folder is, and a folder just
        // made only once its own folder is.
        for dir in folder.ancestors().take(3) {
            sync_dir(dir).await?;
        }
        Ok(Stored { sha256, size, fresh: true })
    }

    /// Opens the file with this hash.
    pub async fn open(&self, sha256: &str) -> Result<tokio::fs::File, ApiError> {
        let path = self.path(sha256).ok_or(ApiError::NotFound)?;
        tokio::fs::File::open(&path).await.map_err(|e| ApiError::internal(format!("file {sha256} is missing from the store: {e}")))
    }
}

async fn sync_dir(dir: &Path) -> Result<(), ApiError> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::File::open(&dir).and_then(|d| d.sync_all())).await.map_err(ApiError::internal)?.map_err(io)
}

fn io(e: std::io::Error) -> ApiError {
    ApiError::Internal(anyhow::Error::new(e).context("file store"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
        futures_util::stream::iter(parts.iter().map(|p| Ok(Bytes::from_static(p))).collect::<Vec<_>>())
    }

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = vec![];
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[tokio::test]
    async fn the_same_bytes_are_kept_once_under_their_hash() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path());
        let a = blobs.put(chunks(&[b"hello ", b"world"]), 100).await.unwrap();
        let b = blobs.put(chunks(&[b"hello world"]), 100).await.unwrap();
        assert_eq!(a.sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        assert!(a.fresh && !b.fresh && a.sha256 == b.sha256 && a.size == 11);
        let all = files_under(&dir.path().join("files"));
        assert_eq!(all, vec![dir.path().join("files/b9/4d").join(&a.sha256)], "one file, no temporary left");
        assert_eq!(std::fs::read(&all[0]).unwrap(), b"hello world");
    }

    #[tokio::test]
    async fn too_large_or_broken_uploads_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path());
        assert!(matches!(blobs.put(chunks(&[b"12345", b"6"]), 5).await, Err(ApiError::TooLarge)));
        let broken = futures_util::stream::iter(vec![Ok(Bytes::from_static(b"abc")), Err(std::io::Error::other("reset"))]);
        assert!(matches!(blobs.put(broken, 100).await, Err(ApiError::BadRequest(_))));
        assert!(files_under(&dir.path().join("files")).is_empty());
        assert_eq!(blobs.path("../../etc/passwd"), None);
        assert_eq!(blobs.path(&"A".repeat(64)), None);
    }
}
